/** The append-only change log. `record` must be called inside the transaction that made the change. */
import { and, asc, gt, lte, sql } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { events, type EventRow } from "../db/schema.ts";
import { appendEvent, EVENTS_KEPT } from "../db/event-log.ts";

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

export { EVENTS_KEPT };

/** Append the event of a change; inside the transaction that made it. */
export async function recordEvent(db: Db, kind: EventKind, entityId: string, op: EventOp, payload: unknown): Promise<void> {
  await appendEvent(db, kind, entityId, op, payload);
}

/** True when every event after `afterId` up to `latestId` is still in the log (none compacted away). */
export async function replayable(store: Store, afterId: number, latestId: number): Promise<boolean> {
  if (latestId <= afterId) return true;
  const row = (await store.db.select({ n: sql<number>`count(*)` }).from(events).where(and(gt(events.id, afterId), lte(events.id, latestId))))[0];
  return (row?.n ?? 0) === latestId - afterId;
}

/** Events after `afterId`, oldest first. */
export async function eventsSince(store: Store, afterId: number, limit = 1000): Promise<ChangeEvent[]> {
  return store.db.select().from(events).where(gt(events.id, afterId)).orderBy(asc(events.id)).limit(limit);
}

export async function lastEventId(store: Store): Promise<number> {
  const row = (await store.db.select({ id: sql<number | null>`max(${events.id})` }).from(events))[0];
  return row?.id ?? 0;
}
