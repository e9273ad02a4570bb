/**
 * PostgreSQL for tests. `npm test` (scripts/test.ts) starts a throwaway cluster when this machine
 * has the server binaries and passes its URL as ORCH_TEST_PG_URL (a superuser on the maintenance
 * database); a file run on its own uses whatever ORCH_TEST_PG_URL names
 * (`bun scripts/pg.ts run -- bun test FILE` starts one for it).
 *
 * - `pgDescribe`: `describe` when a server is there; otherwise `describe.skip` with one line
 *   saying why, or, with ORCH_REQUIRE_PG=1 (set by .ci/run), an error that fails the run.
 * - `freshDatabase()`: CREATE DATABASE with a unique name, for one test file (call it in
 *   beforeAll); dropped (WITH FORCE) in the afterAll that pgDescribe registers.
 */
import { afterAll, describe } from "bun:test";
import { SQL } from "bun";
import { basename } from "node:path";

/** The server the PostgreSQL tests use, or undefined. */
export const PG_URL: string | undefined = process.env.ORCH_TEST_PG_URL || undefined;

/** Said once, by the first pgDescribe without a server (not at import: child processes import this too). */
let warned = false;
function noServer(): void {
  if (process.env.ORCH_REQUIRE_PG === "1") {
    throw new Error("PostgreSQL tests: ORCH_TEST_PG_URL is not set and ORCH_REQUIRE_PG=1: run them through `npm test` (which starts a cluster when initdb/pg_ctl exist: apt-get install postgresql) or point ORCH_TEST_PG_URL at a server");
  }
  if (!warned) console.warn("PostgreSQL tests skipped: no ORCH_TEST_PG_URL (npm test starts a cluster when PostgreSQL's initdb/pg_ctl are installed)");
  warned = true;
}

export interface FreshDatabase {
  readonly name: string;
  /** The test server's URL with this database in its path. */
  readonly url: string;
  drop(): Promise<void>;
}

const created = new Set<FreshDatabase>();
let counter = 0;

/** `describe` when a PostgreSQL server is there, `describe.skip` otherwise; drops this file's fresh databases after it. */
export const pgDescribe = ((name: string, fn: () => void) => {
  if (!PG_URL) noServer();
  return (PG_URL ? describe : describe.skip)(name, () => {
    afterAll(async () => {
      for (const db of [...created]) await db.drop();
    });
    fn();
  });
}) as (name: string, fn: () => void) => void;

/** The test server's URL with another database (or user, password) in it. */
export function pgUrlWith(parts: { database?: string; username?: string; password?: string; port?: string }): string {
  if (!PG_URL) throw new Error("no ORCH_TEST_PG_URL");
  const u = new URL(PG_URL);
  if (parts.database !== undefined) u.pathname = `/${encodeURIComponent(parts.database)}`;
  if (parts.username !== undefined) u.username = encodeURIComponent(parts.username);
  if (parts.password !== undefined) u.password = encodeURIComponent(parts.password);
  if (parts.port !== undefined) u.port = parts.port;
  return u.toString();
}

/** Runs fn with a short-lived superuser connection to the maintenance database. */
export async function withAdmin<T>(fn: (sql: SQL) => Promise<T>): Promise<T> {
  if (!PG_URL) throw new Error("no ORCH_TEST_PG_URL");
  const sql = new SQL(PG_URL, { max: 1 });
  try {
    return await fn(sql);
  } finally {
    await sql.close();
  }
}

/** A new, empty database named after the calling test file, dropped after the file (see pgDescribe). */
export async function freshDatabase(label?: string): Promise<FreshDatabase> {
  const file = basename(Bun.main ?? "test").replace(/\.test\.ts$/, "");
  const stem = (label ?? file).toLowerCase().replace(/[^a-z0-9]+/g, "_").slice(0, 30);
  const name = `orch_t_${stem}_${process.pid}_${++counter}_${Date.now().toString(36)}`.slice(0, 63);
  await withAdmin((sql) => sql.unsafe(`CREATE DATABASE "${name}"`));
  const db: FreshDatabase = {
    name,
    url: pgUrlWith({ database: name }),
    drop: async () => {
      if (!created.delete(db)) return;
      await withAdmin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
  created.add(db);
  return db;
}
