/**
 * The few things the core asks of the database that each engine spells its own way: the core
 * calls these instead of writing SQL of one engine. The SQLite spelling is here; the PostgreSQL
 * one (db/pg-dialect.ts) is bound when a PostgreSQL store opens (one kind of database a process).
 */
import { and, asc, desc, eq, gt, like, lte, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { Db } from "./client.ts";
import { appendEvent as appendSqliteEvent, MERGE_RECORD } from "./event-log.ts";
import { events, type EventRow } from "./schema.ts";

/** One event of the change feed: `id` is its cursor (the SSE id), which only grows in feed order. */
export interface FeedEvent {
  id: number;
  kind: EventRow["kind"];
  entityId: string;
  op: EventRow["op"];
  payload: unknown;
  createdAt: string;
}

export interface Dialect {
  /**
   * A table's rows in the order they were inserted (an integer that only grows: pages and cursors
   * walk it). SQLite's rowid; PostgreSQL's `ord` identity column (migrations-pg 0003).
   */
  insertionOrder(table: SQLWrapper): SQL<number>;
  /** The number of elements of a JSON array column. */
  jsonArrayLength(column: SQLWrapper): SQL<number>;
  /** Foreign keys of the open transaction are checked at its commit, not per statement. Inside a transaction only. */
  deferForeignKeys(db: Db): Promise<void>;
  /** A JSON column equal to the JSON value `json` (JSON text, as JSON.stringify writes it). */
  jsonEquals(column: SQLWrapper, json: string): SQL;
  /** Append one change event; inside the transaction that made the change. */
  appendEvent(db: Db, kind: EventRow["kind"], entityId: string, op: EventRow["op"], payload: unknown): Promise<void>;
  /** The payload of the stream's latest merge record (core/merge-record.ts), or null. */
  latestMergeRecord(db: Db, streamId: string): Promise<unknown>;
  /** Feed events after cursor `after`, in feed order, at most `limit`. */
  eventsSince(db: Db, after: number, limit: number): Promise<FeedEvent[]>;
  /** The cursor of the newest event (0 when none). */
  lastEventId(db: Db): Promise<number>;
  /** True when every event after `after` up to `latest` is still in the log (none compacted away). */
  replayable(db: Db, after: number, latest: number): Promise<boolean>;
  /** The database's clock, as ISO-8601 UTC with milliseconds: the one clock every machine sharing it agrees on. */
  databaseNow(db: Db): Promise<string>;
}

export const sqliteDialect: Dialect = {
  insertionOrder: (table) => sql<number>`${table}.rowid`,
  jsonArrayLength: (column) => sql<number>`json_array_length(${column})`,
  async deferForeignKeys(db) {
    db.$client.run("PRAGMA defer_foreign_keys = ON");
  },
  jsonEquals: (column, json) => sql`${column} = ${json}`,
  appendEvent: async (db, kind, entityId, op, payload) => void (await appendSqliteEvent(db, kind, entityId, op, payload)),
  async latestMergeRecord(db, streamId) {
    const rows = await db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.kind, "stream"), eq(events.entityId, streamId), like(events.payload, MERGE_RECORD)))
      .orderBy(desc(events.id))
      .limit(1);
    return rows[0]?.payload ?? null;
  },
  // One writer at a time commits, ids AUTOINCREMENT: committed ids only grow, so the id is the cursor.
  eventsSince: (db, after, limit) =>
    db
      .select({ id: events.id, kind: events.kind, entityId: events.entityId, op: events.op, payload: events.payload, createdAt: events.createdAt })
      .from(events)
      .where(gt(events.id, after))
      .orderBy(asc(events.id))
      .limit(limit),
  async lastEventId(db) {
    const row = (await db.select({ id: sql<number | null>`max(${events.id})` }).from(events))[0];
    return row?.id ?? 0;
  },
  async replayable(db, after, latest) {
    if (latest <= after) return true;
    const row = (await db.select({ n: sql<number>`count(*)` }).from(events).where(and(gt(events.id, after), lte(events.id, latest))))[0];
    return (row?.n ?? 0) === latest - after;
  },
  async databaseNow(db) {
    // drizzle's get() of raw SQL answers the row as an array of values.
    return (await db.get<[string]>(sql`SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`))[0];
  },
};

let active: Dialect = sqliteDialect;

/** Called by the store that opens (db/client.ts); see db/schema.ts bindTables. */
export function bindDialect(d: Dialect): void {
  active = d;
}

export const insertionOrder: Dialect["insertionOrder"] = (t) => active.insertionOrder(t);
export const jsonArrayLength: Dialect["jsonArrayLength"] = (c) => active.jsonArrayLength(c);
export const deferForeignKeys: Dialect["deferForeignKeys"] = (db) => active.deferForeignKeys(db);
export const jsonEquals: Dialect["jsonEquals"] = (c, json) => active.jsonEquals(c, json);
export const appendEvent: Dialect["appendEvent"] = (db, kind, entityId, op, payload) => active.appendEvent(db, kind, entityId, op, payload);
export const latestMergeRecord: Dialect["latestMergeRecord"] = (db, streamId) => active.latestMergeRecord(db, streamId);
export const eventsSince: Dialect["eventsSince"] = (db, after, limit) => active.eventsSince(db, after, limit);
export const lastEventId: Dialect["lastEventId"] = (db) => active.lastEventId(db);
export const replayable: Dialect["replayable"] = (db, after, latest) => active.replayable(db, after, latest);
export const databaseNow: Dialect["databaseNow"] = (db) => active.databaseNow(db);
