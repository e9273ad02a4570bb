/** Shared test helpers: temp databases, temp dirs, and the compiled binary (built once by `npm test`). */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Database } from "bun:sqlite";
import { sqliteConnections, type Store } from "../src/db/client.ts";
import { backendArgs, backendEnv, openTestStore, withBackendDb } from "./backend.ts";
import { OrchError } from "../src/errors.ts";

const root = join(import.meta.dir, "..");
const cleanups: (() => void)[] = [];
/** Remove every temporary folder (and close every store) the tests made: test/setup.ts runs it last. */
export function removeTempDirs(): void {
  for (const c of cleanups.splice(0)) {
    try {
      c();
    } catch {
      // one folder that will not go must not keep the others
    }
  }
}

export function tempDir(prefix = "orch-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function tempStore(): Promise<Store> {
  const dir = tempDir();
  const store = await openTestStore(join(dir, "tasks.db"));
  cleanups.unshift(() => store.close());
  return store;
}

/** The store's writing SQLite connection, for tests that check or bend raw rows and pragmas. */
export function rawSqlite(store: Store): Database {
  const c = sqliteConnections(store);
  if (!c) throw new Error("not a SQLite store");
  return c.writer;
}

/** Rows of plain SQL on the store's database, whichever it is (tests that bend raw rows). */
export async function rawQuery(store: Store, text: string): Promise<Record<string, unknown>[]> {
  const c = sqliteConnections(store);
  if (c) return c.writer.query(text).all() as Record<string, unknown>[];
  const { sql } = await import("drizzle-orm");
  const result = await (store.db as unknown as { execute(q: unknown): Promise<Record<string, unknown>[]> }).execute(sql.raw(text));
  return [...result];
}

let built: string | undefined;
/** Path of dist/orch; builds it if a test file is run on its own without `npm test`. */
export function orchBin(): string {
  if (built) return built;
  const fromEnv = process.env.ORCH_BIN;
  if (fromEnv && existsSync(fromEnv)) return (built = fromEnv);
  const bin = join(root, "dist", "orch");
  const p = Bun.spawnSync([process.execPath, join(root, "scripts", "build.ts")], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`build failed: ${p.stderr.toString()}`);
  return (built = bin);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A clean environment: nothing from the developer's shell may redirect the database. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  // The suite's own settings too (test/backend.ts): a fixture run as a child opens the same backend. orch ignores them.
  for (const k of ["PATH", "HOME", "TMPDIR", "LANG", "TERM", "ORCH_TEST_BACKEND", "ORCH_TEST_PG_URL"]) if (process.env[k]) env[k] = process.env[k]!;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return withBackendDb(env);
}

export async function runOrch(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; stdin?: string } = {},
): Promise<RunResult> {
  const cwd = opts.cwd ?? tmpdir();
  const p = Bun.spawn([orchBin(), ...backendArgs(cwd, args)], {
    cwd,
    env: cleanEnv({ ...opts.env, ...backendEnv(cwd, opts.env ?? {}) }),
    stdin: opts.stdin !== undefined ? new Blob([opts.stdin]) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

export function runOrchSync(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): RunResult {
  const cwd = opts.cwd ?? tmpdir();
  const p = Bun.spawnSync([orchBin(), ...backendArgs(cwd, args)], { cwd, env: cleanEnv({ ...opts.env, ...backendEnv(cwd, opts.env ?? {}) }), stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** The OrchError `p` fails with (a promise, or a function that throws or returns one); anything else fails the test. */
export async function rejects(p: Promise<unknown> | (() => unknown)): Promise<OrchError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    if (err instanceof OrchError) return err;
    throw err;
  }
  throw new Error("expected an OrchError");
}

/** Poll `f` until it returns something truthy; fail naming `what` after `timeoutMs`. */
export async function until<T>(what: string, f: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const t0 = performance.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** A file with `content` in a fresh temporary folder (cleaned up after the file); its path. */
export function writeTemp(name: string, content: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}
