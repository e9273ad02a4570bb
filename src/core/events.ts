/** The append-only change log. `record` must be called inside the transaction that made the change. */
import type { Db, Store } from "../db/client.ts";
import type { EventRow } from "../db/schema.ts";
import { appendEvent, eventsSince as feedSince, lastEventId as feedLatest, replayable as feedReplayable, type FeedEvent } from "../db/dialect.ts";
import { EVENTS_KEPT } from "../db/event-log.ts";

export type EventKind = EventRow["kind"];
export type EventOp = EventRow["op"];

/** A change as the feed delivers it; `id` is the cursor (SSE id, Last-Event-ID). */
export type ChangeEvent = FeedEvent;

export { EVENTS_KEPT };

/** Append the event of a change; inside the transaction that made it. */
export async function recordEvent(db: Db, kind: EventKind, entityId: string, op: EventOp, payload: unknown): Promise<void> {
  await appendEvent(db, kind, entityId, op, payload);
}

/** True when every event after `afterId` up to `latestId` is still in the log (none compacted away). */
export function replayable(store: Store, afterId: number, latestId: number): Promise<boolean> {
  return feedReplayable(store.db, afterId, latestId);
}

/** Events after `afterId`, oldest first. */
export function eventsSince(store: Store, afterId: number, limit = 1000): Promise<ChangeEvent[]> {
  return feedSince(store.db, afterId, limit);
}

export function lastEventId(store: Store): Promise<number> {
  return feedLatest(store.db);
}
