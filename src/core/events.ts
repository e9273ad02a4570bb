/** The append-only change log. `record` must be called inside the transaction that made the change. */
import { and, asc, gt, lte, sql } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { preparedQuery } from "../db/prepared.ts";
import { events, type EventRow } from "../db/schema.ts";
import { compactEventsSql, compactThrough, EVENTS_KEPT } from "../db/event-log.ts";

export type EventKind = EventRow["kind"];
export type EventOp = EventRow["op"];

export interface ChangeEvent {
  id: number;
  kind: EventKind;
  entityId: string;
  op: EventOp;
  payload: unknown;
  createdAt: string;
}

const insertEvent = (db: Db) =>
  db
    .insert(events)
    .values({ kind: sql.placeholder("kind"), entityId: sql.placeholder("entityId"), op: sql.placeholder("op"), payload: sql.placeholder("payload") })
    .prepare();

export { EVENTS_KEPT };

export function recordEvent(db: Db, kind: EventKind, entityId: string, op: EventOp, payload: unknown): void {
  const r = preparedQuery(db, "events.insert", insertEvent).run({ kind, entityId, op, payload }) as unknown as { lastInsertRowid?: number | bigint };
  const through = compactThrough(Number(r?.lastInsertRowid ?? 0));
  if (through !== null) compactEvents(db, through);
}

/** Delete events up to `throughId` but the merge records. */
export function compactEvents(db: Db, throughId: number): void {
  db.run(sql.raw(compactEventsSql(throughId)));
}

/** True when every event after `afterId` up to `latestId` is still in the log (none compacted away). */
export function replayable(store: Store, afterId: number, latestId: number): boolean {
  if (latestId <= afterId) return true;
  const row = store.db.select({ n: sql<number>`count(*)` }).from(events).where(and(gt(events.id, afterId), lte(events.id, latestId))).get();
  return (row?.n ?? 0) === latestId - afterId;
}

/** Events after `afterId`, oldest first. */
export function eventsSince(store: Store, afterId: number, limit = 1000): ChangeEvent[] {
  return store.db.select().from(events).where(gt(events.id, afterId)).orderBy(asc(events.id)).limit(limit).all();
}

export function lastEventId(store: Store): number {
  const row = store.db.select({ id: sql<number | null>`max(${events.id})` }).from(events).get();
  return row?.id ?? 0;
}
