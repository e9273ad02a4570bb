/**
 * The system's Chromium for Playwright (`playwright-core`, which never downloads a browser): found
 * here, launched headless. Shared by the browser tests (harness.ts) and the dashboard bench entry.
 */
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

// Nothing that loads Playwright from here may fetch a browser.
process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = "1";

/** CHROMIUM_PATH, else /usr/bin/chromium (Debian's `chromium`), else `chromium` / `chromium-browser` on PATH; null when none. */
export function findChromium(): string | null {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  if (existsSync("/usr/bin/chromium")) return "/usr/bin/chromium";
  return Bun.which("chromium") ?? Bun.which("chromium-browser") ?? null;
}

/**
 * Headless Chromium at `executablePath`. --no-sandbox: CI runs as root, where Chromium's sandbox
 * refuses to start; --disable-dev-shm-usage: a container's small /dev/shm crashes its renderers.
 */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"], headless: true });
}

/** The one-time login link `orch serve` printed (a URL on `origin` with a query or fragment), if any. */
export function loginLink(output: string, origin: string): string | undefined {
  return new RegExp(`${origin.replace(/\./g, "\\.")}/\\S*[?#]\\S+`).exec(output)?.[0];
}
