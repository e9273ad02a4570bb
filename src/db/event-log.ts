/**
 * The change log's writes and its size rule, shared by every writer (the core's, through
 * `appendEvent`, and the hook's plain SQL): it keeps the newest EVENTS_KEPT events — enough for
 * SSE replay and every live reader — deleting older ones every COMPACT_EVERY events in the writing
 * transaction, except the stream events that record merges (merge-record.ts reads a stream's
 * latest one, however old).
 */
import type { Database } from "bun:sqlite";
import { sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { preparedQuery } from "./prepared.ts";
import { events, type EventRow } from "./schema.ts";

export const EVENTS_KEPT = 50_000;
export const COMPACT_EVERY = 5_000;

/** What marks a stream event as a merge record (core/merge-record.ts writes the key). */
export const MERGE_RECORD = '%"mergeConflict":%';

/** The statement; `throughId` is a number, never text from outside. */
export const compactEventsSql = (throughId: number): string =>
  `DELETE FROM events WHERE id <= ${Math.trunc(throughId)} AND NOT (kind = 'stream' AND payload LIKE '${MERGE_RECORD}')`;

/** After inserting event `id`: the id through which to compact now, or null. */
export const compactThrough = (id: number): number | null => (id > EVENTS_KEPT && id % COMPACT_EVERY === 0 ? id - EVENTS_KEPT : null);

export function compactAfterInsert(sqlite: Database, id: number): void {
  const through = compactThrough(id);
  if (through !== null) sqlite.run(compactEventsSql(through));
}

// Every change writes one: prepared once per connection (see prepared.ts).
const insertEvent = (db: Db) =>
  db
    .insert(events)
    .values({ kind: sql.placeholder("kind"), entityId: sql.placeholder("entityId"), op: sql.placeholder("op"), payload: sql.placeholder("payload") })
    .prepare();

/** Append one event; inside the transaction that made the change. Returns its id. */
export async function appendEvent(db: Db, kind: EventRow["kind"], entityId: string, op: EventRow["op"], payload: unknown): Promise<number> {
  // Run at once (no promise in between): the most frequent statement of every write.
  const r = preparedQuery(db, "events.insert", insertEvent).run({ kind, entityId, op, payload }) as unknown as { lastInsertRowid: number | bigint };
  const id = Number(r.lastInsertRowid);
  const through = compactThrough(id);
  if (through !== null) await compactEvents(db, through);
  return id;
}

/** Delete events up to `throughId` but the merge records. */
export async function compactEvents(db: Db, throughId: number): Promise<void> {
  db.$client.run(compactEventsSql(throughId));
}
