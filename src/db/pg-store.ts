/**
 * The PostgreSQL store: the same Store the core awaits on SQLite (db/client.ts), over a pool of
 * Bun's client. Loaded only when `--db` / `ORCH_DB` is a postgres:// URL.
 *
 * Transactions are SERIALIZABLE: every read-then-write path of the core (a task update reading
 * the row it changes, a stream's figures counted from its tasks, the next id) is then as safe as
 * on SQLite, where one writer runs at a time, without the core naming a lock. A transaction the
 * server aborts for a conflict (40001) or a deadlock (40P01) is run again, and so is one whose
 * connection was lost before its COMMIT was sent (a server restart): the body must touch nothing
 * but the database, which the core's bodies do. A connection lost after COMMIT was sent leaves
 * the outcome unknown: that one is reported, never retried.
 *
 * The change feed: events are inserted unnumbered and numbered in commit order after the commit
 * (db/pg-feed.ts). A writer does no more than insert them: the insert's trigger wakes the feed's
 * listeners at COMMIT (migration 0005), and every feed read — the change token, the dialect's
 * reads — runs a waiting pass first, so a process reads its own writes in the feed and a pass
 * numbers many writers' events at once.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import type { SQL } from "bun";
import { drizzle } from "drizzle-orm/bun-sql";
import { BunSQLSession, BunSQLTransaction } from "drizzle-orm/bun-sql/session";
import type { PgDialect } from "drizzle-orm/pg-core";
import { failed, isOrchError } from "../errors.ts";
import type { Db, Store } from "./client.ts";
import { bindDialect } from "./dialect.ts";
import { errorCodes, retryable } from "./unavailable.ts";
import { claimEngine } from "./engine.ts";
import { createSequencer, sequencePending, watchPgFeed, type Sequencer } from "./pg-feed.ts";
import { pgDialect } from "./pg-dialect.ts";
import { parsePostgresUrl, scrubMessage, type PgTarget } from "./pg-url.ts";
import { openPostgres, pgFailure, PG_TRACK, type PgDb } from "./postgres.ts";
import { bindTables } from "./schema.ts";
import { pgSchema } from "./schema-pg.ts";

/** How long a transaction keeps being retried (conflicts, a server restarting) before a user sees the error. */
const RETRY_TOTAL_MS = 60_000;

interface Frame {
  readonly store: PgStore;
  readonly db: Db;
  open: boolean;
  readonly parent: Frame | undefined;
}

const frames = new AsyncLocalStorage<Frame>();

function openFrame(store: PgStore): Frame | undefined {
  for (let f = frames.getStore(); f; f = f.parent) if (f.open && f.store === store) return f;
  return undefined;
}

/**
 * The connection a transaction's query builder sends through, pointed at the transaction's own
 * connection while it runs. Builders are kept between transactions because the queries they
 * prepare (db/prepared.ts) capture the connection they were built on: rebuilding them for every
 * transaction was most of an update's CPU.
 */
class ForwardingConnection {
  target: SQL | null = null;
  frame: Frame | null = null;

  #conn(): SQL {
    // A query left running by an earlier body (never awaited) must not land in the transaction
    // now using this builder: it runs in its own body's async context, which is not this frame.
    let f = frames.getStore();
    while (f && f !== this.frame) f = f.parent;
    if (!this.target || !f) throw new Error("orch: a query ran outside the transaction it was built in");
    return this.target;
  }

  unsafe(query: string, params?: unknown[]) {
    return this.#conn().unsafe(query, params);
  }

  // A transaction's handle has savepoint() (nested transactions); Bun's types put it elsewhere.
  savepoint(...args: unknown[]) {
    const conn = this.#conn() as unknown as { savepoint(...a: unknown[]): unknown };
    return conn.savepoint(...args);
  }
}

interface TxSlot {
  readonly conn: ForwardingConnection;
  readonly db: Db;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class PgStore implements Store {
  readonly path: string;
  readonly location: string;
  readonly #url: string;
  readonly #target: PgTarget;
  readonly #sql: SQL;
  readonly #db: Db;
  readonly #sequencer: Sequencer;
  /** Transaction builders not in use: see TxSlot. */
  readonly #idleSlots: TxSlot[] = [];
  #closed = false;
  #identity: string | undefined;

  constructor(o: { url: string; target: PgTarget; sql: SQL; db: PgDb | ReturnType<typeof drizzle> }) {
    this.#url = o.url;
    this.#target = o.target;
    this.path = o.target.safe;
    this.location = o.url;
    this.#sql = o.sql;
    // Typed as the SQLite builder the core is written against: both are awaited the same way,
    // and the tables bound by bindTables have the same row types.
    this.#db = o.db as unknown as Db;
    this.#sequencer = createSequencer(o.sql);
  }

  get db(): Db {
    const frame = openFrame(this);
    if (frame) return frame.db;
    this.#checkOpen();
    return this.#db;
  }

  #checkOpen(): void {
    if (this.#closed) throw failed(`database ${this.path} is closed`);
  }

  async tx<T>(fn: (db: Db) => Promise<T> | T): Promise<T> {
    const outer = openFrame(this);
    if (outer) return fn(outer.db);
    this.#checkOpen();
    const deadline = Date.now() + RETRY_TOTAL_MS;
    let delay = 1;
    for (;;) {
      let committing = false;
      try {
        const result = await this.#sql.begin("isolation level serializable", async (client) => {
          const slot = this.#idleSlots.pop() ?? this.#newSlot();
          const frame: Frame = { store: this, db: slot.db, open: true, parent: frames.getStore() };
          slot.conn.target = client;
          slot.conn.frame = frame;
          try {
            // Awaited inside the frame: a body may return a query unawaited, and it runs when awaited.
            return await frames.run(frame, async (db) => await fn(db), frame.db);
          } finally {
            frame.open = false;
            committing = true;
            slot.conn.target = slot.conn.frame = null;
            this.#idleSlots.push(slot);
          }
        });
        return result as T;
      } catch (err) {
        const why = retryable(err);
        // The body's own errors (not found, invalid, a bug) go out as they are.
        if (!why && !errorCodes(err).state) throw err;
        // After COMMIT was sent nobody can say whether it took: never run it twice.
        if (why === "connection" && committing) {
          throw failed(`the connection to ${this.path} was lost while committing; the change may or may not have been saved`);
        }
        if (!why || Date.now() > deadline) throw this.#failure(err);
        await sleep(delay + Math.random() * delay);
        delay = Math.min(delay * 2, why === "connection" ? 1000 : 100);
      }
    }
  }

  /** A query builder over a forwarding connection (what drizzle's own transaction() makes, kept for reuse). */
  #newSlot(): TxSlot {
    // drizzle keeps these private; they are what its own transaction() passes on.
    const base = this.#db as unknown as { dialect: PgDialect; session: { schema: never; options: never } };
    const conn = new ForwardingConnection();
    const session = new BunSQLSession(conn as never, base.dialect, base.session.schema, base.session.options);
    return { conn, db: new BunSQLTransaction(base.dialect, session as never, base.session.schema) as unknown as Db };
  }

  #failure(err: unknown): Error {
    const { state } = errorCodes(err);
    if (retryable(err) === "connection") return pgFailure(err, this.#target);
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message ?? String(err);
    return failed(scrubMessage(`database ${this.path}: ${cause}${state ? ` (SQLSTATE ${state})` : ""}`, this.#target));
  }

  now(): string {
    return new Date().toISOString();
  }

  /** The feed's last seq, once a pass has numbered every event committed before the call. */
  async changeToken(): Promise<string> {
    this.#checkOpen();
    return String((await sequencePending(this.#sql, { wait: true })).lastSeq);
  }

  watchChanges(onChange: () => void): (() => void) | null {
    const watch = watchPgFeed(this.#url, () => onChange());
    return () => void watch.close();
  }

  async identity(): Promise<string> {
    if (this.#identity) return this.#identity;
    // The same database from any host name or user that reaches it: its oid, its name and when
    // orch first migrated it (an oid reused by a re-created database differs there).
    const [row] = await this.#sql.unsafe(
      `SELECT d.oid::text AS oid, current_database() AS name, (SELECT applied_at FROM ${PG_TRACK} ORDER BY version LIMIT 1) AS born
       FROM pg_database d WHERE d.datname = current_database()`,
    );
    return (this.#identity = createHash("sha256").update(`pg:${row?.oid}:${row?.name}:${row?.born ?? ""}`).digest("hex").slice(0, 16));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sequencer.flush().catch(() => {});
    await this.#sql.close({ timeout: 5 }).catch(() => {});
  }
}

/** Open (and migrate) the PostgreSQL database a postgres:// URL names, as the process's store. */
export async function openPgStore(url: string): Promise<Store> {
  const target = parsePostgresUrl(url);
  claimEngine("postgres");
  bindTables(pgSchema as unknown as Parameters<typeof bindTables>[0]);
  bindDialect(pgDialect);
  const pg = await openPostgres(url);
  const reads = drizzle({ client: retryingReads(pg.sql), schema: pgSchema });
  return new PgStore({ url: target.url, target, sql: pg.sql, db: reads });
}

/** How long a read outside a transaction keeps being retried while the server cannot be reached. */
const READ_RETRY_MS = 30_000;

/**
 * The pool as drizzle's reads outside a transaction see it: a query that fails because the
 * connection was lost or refused (a server restart) is sent again, with backoff, for up to
 * READ_RETRY_MS — a read has no effect to repeat. Transactions retry on their own (tx above).
 */
function retryingReads(sql: SQL): SQL {
  const again = async <T>(once: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + READ_RETRY_MS;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await once();
      } catch (err) {
        if (retryable(err) !== "connection" || Date.now() > deadline) throw err;
        await sleep(delay + Math.random() * delay);
      }
    }
  };
  const unsafe = (query: string, params?: unknown[]) => ({
    then: <A, B>(ok: (rows: unknown) => A, fail: (err: unknown) => B) => again(() => sql.unsafe(query, params)).then(ok, fail),
    values: () => again(() => sql.unsafe(query, params).values()),
  });
  return new Proxy(sql, {
    get(target, prop) {
      if (prop === "unsafe") return unsafe;
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
