/** The append-only change log. `record` must be called inside the transaction that made the change. */
import { asc, gt, sql } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { preparedQuery } from "../db/prepared.ts";
import { events, type EventRow } from "../db/schema.ts";

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

export function recordEvent(db: Db, kind: EventKind, entityId: string, op: EventOp, payload: unknown): void {
  preparedQuery(db, "events.insert", insertEvent).run({ kind, entityId, op, payload });
}

/** Events after `afterId`, oldest first. */
export function eventsSince(store: Store, afterId: number, limit = 1000): ChangeEvent[] {
  return store.db.select().from(events).where(gt(events.id, afterId)).orderBy(asc(events.id)).limit(limit).all();
}

export function lastEventId(store: Store): number {
  const row = store.db.select({ id: sql<number | null>`max(${events.id})` }).from(events).get();
  return row?.id ?? 0;
}
