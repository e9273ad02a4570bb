/**
 * Opens the database and hands the core one Store: the Drizzle query builder, `tx(fn)`, `now()`,
 * a change token and a change nudge, the database's identity, `close()`. Everything about the
 * database engine stays in db/: this is the SQLite store (bun:sqlite).
 *
 * Transactions: a body is async. Several tasks of one process (the API server, an `orch mcp`
 * session with calls in flight) may each start one; they are queued (db/write-lock.ts: an async
 * FIFO in the process, then flock across processes) and run one at a time on the writing
 * connection, each BEGIN IMMEDIATE … COMMIT. A `tx` called inside a body — directly or from any
 * function it awaits — joins the outer transaction: the body's async context (AsyncLocalStorage)
 * says which transaction it is in, so concurrent tasks are never confused with nested calls.
 *
 * Reads: `store.db` inside a body is the transaction's connection (the body reads its own
 * writes); anywhere else it is a second, read-only connection. In WAL mode that one sees committed
 * data only — never the writes of a transaction another task has open.
 */
import { Database } from "bun:sqlite";
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { failed } from "../errors.ts";
import { watchDatabaseFiles } from "./change-signal.ts";
import { claimEngine } from "./engine.ts";
import { migrate } from "./migrate.ts";
import { isPostgresUrl } from "./pg-url.ts";
import * as schema from "./schema.ts";
import { openWriteLock, type WriteLock } from "./write-lock.ts";
import { sleepSync } from "../sys/process.ts";

export type Db = BunSQLiteDatabase<typeof schema> & { $client: Database };

export interface Store {
  /**
   * The query builder. Inside a `tx` body of this store: that transaction. Anywhere else: the
   * committed data (never another task's open transaction). Await every query.
   */
  readonly db: Db;
  /** Where the database is, for messages and machine-local names (a file path; `:memory:`; a URL without its password). */
  readonly path: string;
  /**
   * What another process needs in ORCH_DB to open this same database (an agent orch launches, a
   * hook): the file path, or the URL as given — with its password. Never print it.
   */
  readonly location: string;
  /**
   * Runs fn in one write transaction, committed when its promise resolves, rolled back when it
   * rejects. Transactions of this process run one at a time, in the order asked; a `tx` inside a
   * body joins it. Keep bodies to database work: other writers wait while one runs.
   */
  tx<T>(fn: (db: Db) => Promise<T> | T): Promise<T>;
  /** ISO-8601 UTC with milliseconds. */
  now(): string;
  /** A token that moves whenever anything was committed — by this process or any other — and not on reads. */
  changeToken(): Promise<string>;
  /**
   * A nudge soon after any process may have committed (a hint: the token decides); returns the
   * stop function, or null when there is no such nudge here and a reader must poll.
   */
  watchChanges(onChange: () => void): (() => void) | null;
  /**
   * A stable id for "this database", the same from every process and path that reaches it, that
   * reveals nothing of where it is (the shared API port hand-over compares them).
   */
  identity(): Promise<string>;
  close(): Promise<void>;
}

const SQLITE_HEADER = "SQLite format 3\u0000";
const BUSY_TIMEOUT_MS = 5000;
/** On top of busy_timeout: how long a writer keeps retrying before a user ever sees "busy". */
const BUSY_RETRY_TOTAL_MS = 60_000;
/** How a database that lives only as long as its store is named (ORCH_DB=:memory:). */
const MEMORY = ":memory:";

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

/** Which transaction of which store the running code is inside (innermost first). */
interface Frame {
  readonly store: SqliteStore;
  /** The database's queue: the same for every store of the process on one file. */
  readonly queue: string;
  /** False once the transaction ended: a task it started and left running is outside it. */
  open: boolean;
  readonly parent: Frame | undefined;
}

const frames = new AsyncLocalStorage<Frame>();

function openFrame(pick: (f: Frame) => boolean): Frame | undefined {
  for (let f = frames.getStore(); f; f = f.parent) if (f.open && pick(f)) return f;
  return undefined;
}

function openConnection(file: string, readonly: boolean): Database {
  const sqlite = readonly ? new Database(file, { readonly: true, strict: true }) : new Database(file, { create: true, strict: true });
  sqlite.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return sqlite;
}

class SqliteStore implements Store {
  readonly path: string;
  readonly location: string;
  readonly #file: string;
  readonly #writer: Database;
  readonly #reader: Database;
  readonly #wdb: Db;
  readonly #rdb: Db;
  readonly #lock: WriteLock;
  readonly #begin: ReturnType<Database["prepare"]>;
  readonly #commit: ReturnType<Database["prepare"]>;
  readonly #dataVersion: ReturnType<Database["prepare"]>;
  readonly #temporary: string | null;
  #closed = false;
  #identity: string | undefined;

  constructor(o: { path: string; file: string; writer: Database; reader: Database; temporary: string | null }) {
    this.path = o.path;
    this.location = o.path;
    this.#file = o.file;
    this.#writer = o.writer;
    this.#reader = o.reader;
    this.#temporary = o.temporary;
    this.#wdb = drizzle({ client: withStatementCache(o.writer), schema });
    this.#rdb = drizzle({ client: withStatementCache(o.reader), schema });
    // A private database (:memory:) has nobody to queue with across processes.
    this.#lock = openWriteLock(o.file, { flock: o.temporary === null });
    // Compiled once: every write opens and closes a transaction.
    this.#begin = o.writer.prepare("BEGIN IMMEDIATE");
    this.#commit = o.writer.prepare("COMMIT");
    // On the reading connection: it moves whenever another connection commits, this store's
    // writing one included, so one pragma covers every commit (≈1 µs, no table touched).
    this.#dataVersion = o.reader.prepare("PRAGMA data_version");
  }

  get db(): Db {
    if (openFrame((f) => f.store === this)) return this.#wdb;
    this.#checkOpen();
    return this.#rdb;
  }

  #checkOpen(): void {
    if (this.#closed) throw failed(`database ${this.path} is closed`);
  }

  async tx<T>(fn: (db: Db) => Promise<T> | T): Promise<T> {
    if (openFrame((f) => f.store === this)) return fn(this.#wdb);
    this.#checkOpen();
    const queue = this.#lock.key;
    // Another store of this process on the same file, inside its own transaction: waiting for
    // the queue would wait for ever (SQLite would have answered "busy" after its timeout).
    if (openFrame((f) => f.queue === queue)) throw failed(`database ${this.path} is already being written by another connection of this task`);
    // The common case (no other writer in the process, no busy database) awaits nothing but
    // the body: every tick here is time other processes' writers wait for the lock.
    const queued = this.#lock.acquire();
    if (queued) await queued;
    const frame: Frame = { store: this, queue, open: true, parent: frames.getStore() };
    try {
      const begun = runRetryingBusy(this.#begin);
      if (begun) await begun;
      try {
        const result = await frames.run(frame, fn, this.#wdb);
        const committed = runRetryingBusy(this.#commit);
        if (committed) await committed;
        return result;
      } catch (err) {
        if (this.#writer.inTransaction) this.#writer.run("ROLLBACK");
        throw err;
      }
    } finally {
      frame.open = false;
      this.#lock.release();
    }
  }

  now(): string {
    return new Date().toISOString();
  }

  async changeToken(): Promise<string> {
    this.#checkOpen();
    return String((this.#dataVersion.get() as { data_version: number }).data_version);
  }

  watchChanges(onChange: () => void): (() => void) | null {
    if (this.#temporary !== null) return null; // nobody else writes it: every commit is this process's
    return watchDatabaseFiles(this.#file, onChange);
  }

  async identity(): Promise<string> {
    if (this.#identity) return this.#identity;
    if (this.#temporary !== null) return (this.#identity = randomBytes(8).toString("hex"));
    // The file's device and inode say "same file" whatever path or symlink reached it; the first
    // migration's time guards against an inode reused by a newer database.
    const st = statSync(this.#file);
    const born = this.#reader.query("SELECT applied_at AS at FROM __orch_migrations ORDER BY version LIMIT 1").get() as { at: string } | null;
    return (this.#identity = createHash("sha256").update(`${st.dev}:${st.ino}:${born?.at ?? ""}`).digest("hex").slice(0, 16));
  }

  connections(): { writer: Database; reader: Database } {
    return { writer: this.#writer, reader: this.#reader };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#lock.close();
    // The reader first: the last connection to close checkpoints the WAL and removes it.
    this.#reader.close();
    this.#writer.close();
    if (this.#temporary !== null) removeTemporary(this.#temporary);
  }
}

/**
 * The connections under a SQLite store, for SQLite-specific tests and tools (a pragma on the
 * writing connection, an integrity check): null for any other store. Nothing in the core uses it.
 */
export function sqliteConnections(store: Store): { writer: Database; reader: Database } | null {
  return store instanceof SqliteStore ? store.connections() : null;
}

/** Directories of private databases (:memory:) still open, removed at exit if nobody closed them. */
const temporaries = new Set<string>();
let exitHook = false;

function removeTemporary(dir: string): void {
  temporaries.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * `:memory:` is a private database that lives as long as its store: a file in a temporary
 * directory, so that it has a writing and a reading connection like any other.
 */
function temporaryFile(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "orch-memory-"));
  temporaries.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const d of [...temporaries]) removeTemporary(d);
    });
  }
  return { dir, file: join(dir, "tasks.db") };
}

/**
 * Open (creating and migrating as needed) the database at `path`: a file path, `:memory:`, or a
 * postgres:// URL (db/pg-store.ts, loaded only then).
 */
export async function openStore(path: string): Promise<Store> {
  if (isPostgresUrl(path)) return (await import("./pg-store.ts")).openPgStore(path);
  claimEngine("sqlite");
  const temporary = path === MEMORY ? temporaryFile() : null;
  const file = temporary?.file ?? path;
  if (!temporary) checkDatabaseFile(path);
  let writer: Database;
  try {
    writer = openConnection(file, false);
  } catch (err) {
    if (temporary) removeTemporary(temporary.dir);
    throw failed(`cannot open database ${path}: ${(err as Error).message}`);
  }
  let reader: Database | undefined;
  try {
    writer.run("PRAGMA foreign_keys = ON");
    withBusyRetrySync(() => writer.run("PRAGMA journal_mode = WAL"));
    writer.run("PRAGMA synchronous = NORMAL");
    withBusyRetrySync(() => migrate(writer));
    reader = openConnection(file, true);
    // A first read maps the WAL index now: a database whose file is later unlinked while open
    // (replaced, cleaned up) stays readable, as the writing connection stays writable.
    reader.query("SELECT count(*) FROM sqlite_master").get();
  } catch (err) {
    reader?.close();
    writer.close();
    if (temporary) removeTemporary(temporary.dir);
    if (err instanceof Error && err.name === "OrchError") throw err;
    throw failed(`cannot open database ${path}: ${(err as Error).message}`);
  }
  return new SqliteStore({ path, file, writer, reader, temporary: temporary?.dir ?? null });
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * busy_timeout covers most waits; this covers the rest (a burst of many writers, another program
 * holding the file) so SQLITE_BUSY never reaches a user. The first try costs nothing extra; a
 * retry waits without blocking the thread.
 */
function runRetryingBusy(stmt: ReturnType<Database["prepare"]>): void | Promise<void> {
  try {
    stmt.run();
    return;
  } catch (err) {
    if (!isBusyError(err)) throw err;
  }
  return (async () => {
    const deadline = Date.now() + BUSY_RETRY_TOTAL_MS;
    let delay = 2;
    for (;;) {
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 50);
      try {
        stmt.run();
        return;
      } catch (err) {
        if (!isBusyError(err) || Date.now() > deadline) throw err;
      }
    }
  })();
}

/** The same while opening, before anything else of the process can run. */
function withBusyRetrySync<T>(fn: () => T): T {
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
