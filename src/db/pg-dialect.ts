/**
 * The PostgreSQL spelling of db/dialect.ts. The feed's cursor is `events.seq`, the commit-ordered
 * number the sequencer gives (db/pg-feed.ts), not the id: ids are taken at insert and become
 * visible at commit, out of order.
 */
import { and, asc, desc, eq, gt, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import type { Dialect, FeedEvent } from "./dialect.ts";
import type { SQL } from "bun";
import { sequencePending } from "./pg-feed.ts";
import type { PgDb } from "./postgres.ts";
import { events, feedState } from "./schema.ts";
import { jsonWithoutNul } from "./text-safe.ts";

async function feedCursor(db: Db): Promise<{ lastSeq: number; compactedThrough: number }> {
  await numberCommitted(db);
  const row = (await db.select({ lastSeq: feedState.lastSeq, compactedThrough: feedState.compactedThrough }).from(feedState).where(eq(feedState.id, 1)))[0];
  return { lastSeq: Number(row?.lastSeq ?? 0), compactedThrough: Number(row?.compactedThrough ?? 0) };
}

/**
 * Before a feed read outside a transaction: a pass, waiting for the lock, so every event committed
 * before the read — this process's own included — has its seq (nothing to number: one cheap check).
 */
async function numberCommitted(db: Db): Promise<void> {
  const client = (db as unknown as { $client?: SQL }).$client;
  if (client) await sequencePending(client, { wait: true });
}

export const pgDialect: Dialect = {
  // migrations-pg/0003_insertion_order.sql: an identity column the tables' definitions do not name.
  insertionOrder: (table) => sql<number>`${table}."ord"`.mapWith(Number),
  jsonArrayLength: (column) => sql<number>`jsonb_array_length(${column})`.mapWith(Number),
  // The foreign keys are DEFERRABLE INITIALLY IMMEDIATE (migration 0003): this defers them to COMMIT.
  async deferForeignKeys(db) {
    await (db as unknown as PgDb).execute(sql`SET CONSTRAINTS ALL DEFERRED`);
  },
  // jsonb compares values, not spellings. The text cast makes the parameter text, parsed by the server.
  // NUL characters as the column has them (text-safe.ts): JSON text spells one as an escape.
  jsonEquals: (column, json) => sql`${column} = (${JSON.stringify(jsonWithoutNul(JSON.parse(json)))}::text)::jsonb`,
  // Numbered after commit by whoever reads the feed next; compaction is the sequencer's (pg-feed.ts).
  async appendEvent(db, kind, entityId, op, payload) {
    await db.insert(events).values({ kind, entityId, op, payload });
  },
  async latestMergeRecord(db, streamId) {
    const rows = await db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.kind, "stream"), eq(events.entityId, streamId), sql`jsonb_exists(${events.payload}, 'mergeConflict')`))
      .orderBy(desc(events.id))
      .limit(1);
    return rows[0]?.payload ?? null;
  },
  async eventsSince(db, after, limit) {
    await numberCommitted(db);
    const rows = await db
      .select({ id: events.seq, kind: events.kind, entityId: events.entityId, op: events.op, payload: events.payload, createdAt: events.createdAt })
      .from(events)
      .where(gt(events.seq, Math.trunc(after)))
      .orderBy(asc(events.seq))
      .limit(limit);
    return rows as FeedEvent[];
  },
  lastEventId: async (db) => (await feedCursor(db)).lastSeq,
  // No contiguous-id count (identities have gaps): the compaction horizon decides, and a cursor
  // above the last seq given (another database's, or this one re-created) is not replayable.
  async replayable(db, after) {
    const s = await feedCursor(db);
    return after >= s.compactedThrough && after <= s.lastSeq;
  },
  // clock_timestamp(), not now(): a transaction retried for a while must not stamp its start time.
  async databaseNow(db) {
    const rows = (await (db as unknown as PgDb).execute(
      sql`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS now`,
    )) as unknown as { now: string }[];
    return rows[0]!.now;
  },
};
