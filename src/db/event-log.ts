/**
 * The change log's size rule, shared by every writer (the core's and the hook's plain SQL): it
 * keeps the newest EVENTS_KEPT events — enough for SSE replay and every live reader — deleting
 * older ones every COMPACT_EVERY events in the writing transaction, except the stream events
 * that record merges (merge-record.ts reads a stream's latest one, however old).
 */
import type { Database } from "bun:sqlite";

export const EVENTS_KEPT = 50_000;
export const COMPACT_EVERY = 5_000;

/** The statement; `throughId` is a number, never text from outside. */
export const compactEventsSql = (throughId: number): string =>
  `DELETE FROM events WHERE id <= ${Math.trunc(throughId)} AND NOT (kind = 'stream' AND payload LIKE '%"mergeConflict":%')`;

/** After inserting event `id`: the id through which to compact now, or null. */
export const compactThrough = (id: number): number | null => (id > EVENTS_KEPT && id % COMPACT_EVERY === 0 ? id - EVENTS_KEPT : null);

export function compactAfterInsert(sqlite: Database, id: number): void {
  const through = compactThrough(id);
  if (through !== null) sqlite.run(compactEventsSql(through));
}
