/**
 * Opens the one SQLite database and hands the core a small Store: the Drizzle query builder,
 * `tx(fn)` (BEGIN IMMEDIATE, synchronous body), `now()`, and `dataVersion()` for cheap
 * cross-process change detection. Everything SQLite-specific stays in db/.
 */
import { Database } from "bun:sqlite";
import { existsSync, openSync, readSync, closeSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { failed } from "../errors.ts";
import { migrate } from "./migrate.ts";
import * as schema from "./schema.ts";
import { openWriteLock, type WriteLock } from "./write-lock.ts";
import { sleepSync } from "../sys/process.ts";

export type Db = BunSQLiteDatabase<typeof schema>;

export interface Store {
  readonly db: Db;
  readonly sqlite: Database;
  readonly path: string;
  /** Runs fn inside BEGIN IMMEDIATE … COMMIT. fn must be synchronous (bun:sqlite is). Nested calls join the outer transaction. */
  tx<T>(fn: (db: Db) => T): T;
  /** ISO-8601 UTC with milliseconds. */
  now(): string;
  /** Changes whenever another connection commits. */
  dataVersion(): number;
  close(): void;
}

const SQLITE_HEADER = "SQLite format 3\u0000";
const BUSY_TIMEOUT_MS = 5000;
/** On top of busy_timeout: how long a writer keeps retrying before a user ever sees "busy". */
const BUSY_RETRY_TOTAL_MS = 60_000;

function checkDatabaseFile(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) throw failed(`cannot open database ${path}: directory ${dir} does not exist`);
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (st.isDirectory()) throw failed(`cannot open database ${path}: it is a directory`);
  if (st.size === 0) return;
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    if (n < 16 || buf.toString("latin1") !== SQLITE_HEADER) {
      throw failed(`cannot open database ${path}: not a SQLite database (file left untouched)`);
    }
  } finally {
    closeSync(fd);
  }
}

export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}


export function openStore(path: string): Store {
  if (path !== ":memory:") checkDatabaseFile(path);
  let sqlite: Database;
  try {
    sqlite = new Database(path, { create: true, strict: true });
  } catch (err) {
    throw failed(`cannot open database ${path}: ${(err as Error).message}`);
  }
  try {
    sqlite.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    sqlite.run("PRAGMA foreign_keys = ON");
    if (path !== ":memory:") {
      withBusyRetry(() => sqlite.run("PRAGMA journal_mode = WAL"));
      sqlite.run("PRAGMA synchronous = NORMAL");
    }
    withBusyRetry(() => migrate(sqlite));
  } catch (err) {
    sqlite.close();
    if (err instanceof Error && err.name === "OrchError") throw err;
    throw failed(`cannot open database ${path}: ${(err as Error).message}`);
  }

  const db = drizzle(withStatementCache(sqlite), { schema });
  const dataVersionQuery = sqlite.query("PRAGMA data_version");
  // Compiled once: every write opens and closes a transaction.
  const begin = sqlite.prepare("BEGIN IMMEDIATE");
  const commit = sqlite.prepare("COMMIT");
  // Opened at the first write, so commands that only read never create the lock file.
  let writeLock: WriteLock | null | undefined;
  let depth = 0;

  const store: Store = {
    db,
    sqlite,
    path,
    tx<T>(fn: (db: Db) => T): T {
      if (depth > 0) return fn(db);
      if (writeLock === undefined) writeLock = path === ":memory:" ? null : openWriteLock(path);
      writeLock?.acquire();
      depth++;
      try {
        withBusyRetry(() => begin.run());
        try {
          const result = fn(db);
          if (result instanceof Promise) throw new Error("Store.tx body must be synchronous");
          withBusyRetry(() => commit.run());
          return result;
        } catch (err) {
          if (sqlite.inTransaction) sqlite.run("ROLLBACK");
          throw err;
        }
      } finally {
        depth--;
        writeLock?.release();
      }
    },
    now: () => new Date().toISOString(),
    dataVersion: () => (dataVersionQuery.get() as { data_version: number }).data_version,
    close: () => {
      writeLock?.close();
      sqlite.close();
    },
  };
  return store;
}

/** How many distinct statements a connection keeps compiled (the core has a few dozen shapes). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Drizzle compiles every query it runs (`Database.prepare`), ≈20 µs each and a fifth of an update's
 * CPU. The SQL text of a query shape never changes (values are bound parameters), so keep the
 * compiled statements, least recently used out first. Sharing one is safe: drizzle's bun-sqlite
 * session only runs statements to completion synchronously (run/all/values), never iterates.
 */
function withStatementCache(sqlite: Database): Database {
  const cache = new Map<string, ReturnType<Database["prepare"]>>();
  const prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (stmt) {
      cache.delete(sql);
      cache.set(sql, stmt);
      return stmt;
    }
    stmt = sqlite.prepare(sql);
    cache.set(sql, stmt);
    // Dropped, not finalized: a query prepared once (db/prepared.ts) may still hold it; the
    // statement is freed when nothing does.
    if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    return stmt;
  };
  return new Proxy(sqlite, {
    get(target, prop) {
      if (prop === "prepare") return prepare;
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** busy_timeout covers most waits; this covers the rest (a burst of many writers) so SQLITE_BUSY never reaches a user. */
function withBusyRetry<T>(fn: () => T): T {
  const deadline = Date.now() + BUSY_RETRY_TOTAL_MS;
  let delay = 2;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!isBusyError(err) || Date.now() > deadline) throw err;
      sleepSync(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 50);
    }
  }
}
