/**
 * Which database the suites run on. `npm test` runs everything on SQLite, then the core, API,
 * MCP and orchestrator suites once more with ORCH_TEST_BACKEND=postgres (scripts/test.ts). On
 * PostgreSQL every database a test names by a file path — a store it opens, and the default
 * database the binary would use in a test's repository — becomes a fresh PostgreSQL database of
 * its own, the same one for the same path, so the test itself stays as it is.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { openStore, type Store } from "../src/db/client.ts";
import { resolveDbPath, readEnv } from "../src/config.ts";
import { redactUrl } from "../src/db/pg-url.ts";
import { PG_URL, pgUrlWith } from "./pg.ts";

export const ON_POSTGRES = process.env.ORCH_TEST_BACKEND === "postgres";

if (ON_POSTGRES && !PG_URL) throw new Error("ORCH_TEST_BACKEND=postgres needs ORCH_TEST_PG_URL (npm test starts a server)");

const made = new Map<string, string>();
let fresh = 0;

/** The PostgreSQL database standing in for the SQLite file `path` (created on first use). */
export function databaseFor(path: string): string {
  const key = path === ":memory:" ? `:memory:${++fresh}` : resolve(path);
  let url = made.get(key);
  if (url) return url;
  // Named by the path alone, so a child process (a fixture, a server) finds the same database.
  const name = key.startsWith(":memory:") ? `orch_m_${process.pid}_${fresh}_${Date.now().toString(36)}` : `orch_s_${createHash("sha256").update(key).digest("hex").slice(0, 24)}`;
  // Synchronously (runOrchSync needs it too): psql ships with the server.
  const p = Bun.spawnSync(["psql", PG_URL!, "-q", "-v", "ON_ERROR_STOP=1", "-c", `CREATE DATABASE "${name}"`], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0 && !p.stderr.toString().includes("already exists")) throw new Error(`CREATE DATABASE ${name}: ${p.stderr.toString()}`);
  url = pgUrlWith({ database: name });
  made.set(key, url);
  return url;
}

/** Drop this process's databases (test/setup.ts, after the last file). */
export function dropTestDatabases(): void {
  if (!ON_POSTGRES || made.size === 0) return;
  const names = [...made.values()].map((u) => decodeURIComponent(new URL(u).pathname.slice(1)));
  made.clear();
  const sql = names.map((n) => `DROP DATABASE IF EXISTS "${n}" WITH (FORCE);`).join("\n");
  Bun.spawnSync(["psql", PG_URL!, "-q", "-c", sql], { stdout: "ignore", stderr: "ignore" });
}

/** openStore as the tests mean it: the file (or :memory:) on SQLite, its stand-in database on PostgreSQL. */
export function openTestStore(path: string): Promise<Store> {
  if (!ON_POSTGRES) return openStore(path);
  // A PostgreSQL store's path is its URL without the password: reopen the database it names.
  if (/^postgres/i.test(path)) return openStore(pgUrlWith({ database: decodeURIComponent(new URL(path).pathname.slice(1)) }));
  return openStore(databaseFor(path));
}

/**
 * On PostgreSQL, the ORCH_DB a binary run in `cwd` with `env` gets when the test sets none: the
 * stand-in of the database it would open by default (so every run in one repository, and the
 * test's own stores on that path, share one database).
 */
export function backendEnv(cwd: string, env: Record<string, string | undefined>): Record<string, string> {
  if (!ON_POSTGRES) return {};
  const explicit = env.ORCH_DB;
  if (explicit !== undefined) return explicit === "" || /^postgres/i.test(explicit) ? {} : { ORCH_DB: databaseFor(resolve(cwd, explicit)) };
  const loc = resolveDbPath({ env: readEnv({ ...env } as NodeJS.ProcessEnv), cwd });
  return { ORCH_DB: databaseFor(loc.path) };
}

/** On PostgreSQL, a `--db PATH` (or `--db=PATH`) in a binary's arguments points at PATH's stand-in. */
export function backendArgs(cwd: string, args: string[]): string[] {
  if (!ON_POSTGRES) return args;
  const swap = (v: string) => (v === ":memory:" || /^postgres/i.test(v) || v === "" ? v : databaseFor(resolve(cwd, v)));
  return args.map((a, i) => (args[i - 1] === "--db" ? swap(a) : a.startsWith("--db=") ? `--db=${swap(a.slice(5))}` : a));
}

/** On PostgreSQL, an environment whose ORCH_DB is a file path, with that path's stand-in instead (any spawn of the binary). */
export function withBackendDb<E extends Record<string, string | undefined>>(env: E): E {
  const db = env.ORCH_DB;
  if (!ON_POSTGRES || !db || db === ":memory:" || /^postgres/i.test(db)) return env;
  return { ...env, ORCH_DB: databaseFor(resolve(db)) };
}

/** How orch names the database at `path` in what it prints: the file, or its stand-in's URL without the password. */
export function shownDatabase(path: string): string {
  return ON_POSTGRES ? redactUrl(databaseFor(path)) : path;
}
