/**
 * Build-time only: imported `with { type: "macro" }` by assets.ts, so Bun runs these functions
 * while it bundles (`bun build --compile`) or transpiles (running from source, tests) and inlines
 * the strings they return. The compiled binary carries the dashboard as text: no files beside it,
 * no CDN. Bun.build cannot run inside a macro (the bundler would wait on itself), hence the CLI.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const dir = join(import.meta.dir, "app");

/** app/main.ts and everything it imports, one minified ES module for browsers. */
export function bundleScript(): string {
  const p = Bun.spawnSync(
    [process.execPath, "build", join(dir, "main.ts"), "--target=browser", "--format=esm", "--minify"],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, BUN_BE_BUN: "1" } },
  );
  if (p.exitCode !== 0) throw new Error(`dashboard bundle failed: ${p.stderr.toString()}${p.stdout.toString()}`);
  return p.stdout.toString();
}

export function readStyle(): string {
  return readFileSync(join(dir, "style.css"), "utf8");
}
