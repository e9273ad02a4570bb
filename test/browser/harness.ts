/**
 * Browser tests' harness: Playwright (`playwright-core`, which never downloads a browser) driving
 * the system's Chromium headless against the compiled `dist/orch serve`, on a project with a real
 * imported plan (the guide's Dark Mode PRD: Stream-A, Stream-B, Stream-C, Stream-Z).
 *
 * - Chromium: CHROMIUM_PATH, else /usr/bin/chromium, else `chromium` / `chromium-browser` on PATH.
 *   None here: the browser tests are skipped with one clear line; with ORCH_REQUIRE_BROWSER=1
 *   (set by .ci/run) a missing Chromium fails the run instead.
 * - One browser per test file (`useBrowser()` launches it in beforeAll and closes it in afterAll);
 *   each test gets a fresh context and page, closed after it.
 * - `serveProject()`: a git repository with the plan imported, its own database, and
 *   `orch serve --port 0` on loopback, stopped after the test (by `useBrowser`'s afterEach).
 */
import { afterAll, afterEach, beforeAll, describe } from "bun:test";
import { realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Cookie, Page } from "playwright-core";
import { DARK_MODE_PRD } from "../../src/core/index.ts";
import { cleanEnv, orchBin, runOrch, tempDir, type RunResult } from "../helpers.ts";
import { findChromium, launchChromium, loginLink } from "./chromium.ts";

/** The Chromium these tests drive, or null when this machine has none. */
export const CHROMIUM: string | null = findChromium();

if (!CHROMIUM) {
  if (process.env.ORCH_REQUIRE_BROWSER === "1") {
    throw new Error("browser tests: no Chromium found (CHROMIUM_PATH, /usr/bin/chromium, chromium, chromium-browser) and ORCH_REQUIRE_BROWSER=1: install it (apt-get install chromium)");
  }
  console.warn("browser tests skipped: no Chromium here (set CHROMIUM_PATH, or apt-get install chromium)");
}

/** `describe` when a Chromium exists, `describe.skip` otherwise. */
export const browserDescribe: typeof describe = (CHROMIUM ? describe : describe.skip) as typeof describe;

export interface BrowserHandle {
  readonly browser: Browser;
  /** A fresh page in its own context (own cookies), closed after the current test. */
  page(opts?: { viewport?: { width: number; height: number }; colorScheme?: "light" | "dark" }): Promise<Page>;
}

/** Launch one headless Chromium for this test file (call at the top of a describe). */
export function useBrowser(): BrowserHandle {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchChromium(CHROMIUM!);
  });
  const pageErrors: string[] = [];
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
    await stopServing();
    // An uncaught exception in a page fails the test that opened it, even if its checks passed.
    const errors = pageErrors.splice(0);
    if (errors.length) throw new Error(`uncaught in the page: ${errors.join("; ")}`);
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get browser() {
      if (!browser) throw new Error("the browser is not launched yet (use it inside a test)");
      return browser;
    },
    async page(opts = {}) {
      if (!browser) throw new Error("the browser is not launched yet (use it inside a test)");
      const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 }, colorScheme: opts.colorScheme ?? "light" });
      contexts.push(context);
      const page = await context.newPage();
      page.on("pageerror", (e) => pageErrors.push(`${page.url()}: ${e.message}`));
      return page;
    },
  };
}

export interface Served {
  /** The project's git repository (the plan's project root). */
  dir: string;
  /** ORCH_DB and HTTP_API_PORT for any other orch process on this project. */
  env: Record<string, string>;
  port: number;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** Where a person opens the dashboard: the one-time login link `orch serve` printed, else `${origin}/`. */
  entryUrl: string;
  /** Everything `orch serve` printed so far (stdout and stderr). */
  output(): string;
  proc: Bun.Subprocess;
  /** Run `dist/orch …` on this project as another process. */
  orch(args: string[], stdin?: string): Promise<RunResult>;
}

/** Processes started for the current test (serve, waiting hooks): stopped after it by useBrowser's afterEach. */
const serving: Bun.Subprocess[] = [];
async function stopServing(): Promise<void> {
  for (const p of serving.splice(0)) {
    p.kill("SIGTERM");
    await p.exited;
  }
}

async function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }) {
  const dec = new TextDecoder();
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    sink.text += dec.decode(value, { stream: true });
  }
}

/**
 * A project with the guide's PRD imported (unless `plan: false`) and `orch serve` on it; with
 * `again`, another `orch serve` on that same project (a restart), importing nothing.
 */
export async function serveProject(opts: { plan?: boolean; serveArgs?: string[]; again?: Served; serveEnv?: Record<string, string> } = {}): Promise<Served> {
  let dir: string;
  let env: Record<string, string>;
  if (opts.again) {
    dir = opts.again.dir;
    env = { ORCH_DB: opts.again.env.ORCH_DB! };
  } else {
    dir = realpathSync(tempDir("orch-browser-"));
    const git = Bun.spawnSync(["git", "init", "-q", dir], { stdout: "ignore", stderr: "pipe" });
    if (git.exitCode !== 0) throw new Error(git.stderr.toString());
    env = { ORCH_DB: join(tempDir(), "tasks.db") };
  }
  const orch = (args: string[], stdin?: string) => runOrch(args, { env, cwd: dir, stdin });
  if (opts.plan !== false && !opts.again) {
    writeFileSync(join(dir, "PRD.md"), DARK_MODE_PRD);
    const imp = await orch(["prd", "import", "PRD.md"]);
    if (imp.code !== 0) throw new Error(`orch prd import failed: ${imp.stderr}`);
  }
  const args = opts.serveArgs ?? [];
  const proc = Bun.spawn([orchBin(), "serve", ...(args.includes("--port") ? [] : ["--port", "0"]), ...args], {
    cwd: dir,
    env: cleanEnv({ ...env, ...opts.serveEnv, BROWSER: "true" }), // --open, if a test uses it, must not start a real browser
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  serving.push(proc);
  const out = { text: "" };
  void collect(proc.stdout, out);
  void collect(proc.stderr, out);
  const t0 = performance.now();
  let m: RegExpExecArray | null = null;
  while (!(m = /HTTP server listening on 127\.0\.0\.1:(\d+)/.exec(out.text))) {
    if (proc.exitCode !== null || performance.now() - t0 > 10_000) throw new Error(`orch serve did not start: ${out.text}`);
    await Bun.sleep(10);
  }
  const port = Number(m[1]);
  env.HTTP_API_PORT = String(port);
  const origin = `http://127.0.0.1:${port}`;
  // A login link (a URL on this server carrying a secret), when serve prints one: give it a moment.
  const login = () => loginLink(out.text, origin);
  const t1 = performance.now();
  while (!login() && performance.now() - t1 < 300) await Bun.sleep(10);
  return { dir, env, port, origin, entryUrl: login() ?? `${origin}/`, output: () => out.text, proc, orch };
}

const sessions = new WeakMap<Served, Cookie[]>();
/**
 * Open the dashboard in `page` logged in, as a person does: the first page through the one-time
 * login link `orch serve` printed; later pages (other contexts) get the session cookie it set.
 */
export async function openDashboard(page: Page, s: Served, hash = ""): Promise<void> {
  const cookies = sessions.get(s);
  if (cookies) {
    await page.context().addCookies(cookies);
    await page.goto(`${s.origin}/${hash}`);
    return;
  }
  await page.goto(s.entryUrl);
  sessions.set(s, await page.context().cookies());
  if (hash) await page.goto(`${s.origin}/${hash}`);
}

/** A PermissionRequest hook from an agent in `stream`, waiting for an answer (as Claude Code runs it). */
export function waitingHook(s: Served, stream: string, session: string, command: string) {
  const proc = Bun.spawn([orchBin(), "hook"], {
    cwd: s.dir,
    env: cleanEnv({ ...s.env, ORCH_STREAM_ID: stream }),
    stdin: new Blob([JSON.stringify({ session_id: session, hook_event_name: "PermissionRequest", cwd: s.dir, tool_name: "Bash", tool_input: { command } })]),
    stdout: "pipe",
    stderr: "pipe",
  });
  serving.push(proc); // killed after the test if still waiting
  const stdout = new Response(proc.stdout).text();
  return { proc, stdout };
}

/** Ids of the pending inbox entries, read by the CLI (another process). */
export async function pendingInbox(s: Served): Promise<{ id: number; status?: string }[]> {
  const r = await s.orch(["inbox", "--json"]);
  return (JSON.parse(r.stdout) as { entries: { id: number; status?: string }[] }).entries;
}

/** Wait until `f` is truthy (async), failing with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, f: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const t0 = performance.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** Write a screenshot into docs/ only when UPDATE_SCREENSHOTS=1 (normal runs leave the tree clean). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== "1") return;
  await page.screenshot({ path: join(import.meta.dir, "..", "..", "docs", name), fullPage: false });
}
