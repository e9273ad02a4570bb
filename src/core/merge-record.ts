/**
 * Where a stream's last merge attempt is remembered without a schema change: a `stream` event
 * whose payload is the stream view plus `mergeConflict` (null once merged) and `merged`. The
 * change feed carries it to the monitor like any other stream update.
 */
import { and, desc, eq, like } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { events } from "../db/schema.ts";
import { recordEvent } from "./events.ts";
import { findStreamRow, streamView } from "./streams.ts";

export interface MergeConflictRecord {
  into: string;
  branch: string;
  files: string[];
  targetCommit: string;
  sourceCommit: string;
  detectedAt: string;
}

export interface MergeDoneRecord {
  into: string;
  branch: string;
  commit: string;
  mergedAt: string;
}

export interface MergeState {
  mergeConflict: MergeConflictRecord | null;
  merged: MergeDoneRecord | null;
}

function record(store: Store, streamId: string, state: MergeState): void {
  store.tx((db) => {
    const row = findStreamRow(db, streamId, true);
    const view = row ? streamView(row) : { streamId };
    recordEvent(db, "stream", streamId, "update", { ...view, ...state });
  });
}

export function recordMergeConflict(store: Store, streamId: string, c: Omit<MergeConflictRecord, "detectedAt">): MergeConflictRecord {
  const conflictRecord = { ...c, detectedAt: store.now() };
  record(store, streamId, { mergeConflict: conflictRecord, merged: null });
  return conflictRecord;
}

export function recordMergeDone(store: Store, streamId: string, m: Omit<MergeDoneRecord, "mergedAt">): MergeDoneRecord {
  const done = { ...m, mergedAt: store.now() };
  record(store, streamId, { mergeConflict: null, merged: done });
  return done;
}

/** The stream's last recorded merge outcome, or null when none was ever recorded. */
export function lastMergeState(store: Store, streamId: string): MergeState | null {
  const row = store.db
    .select({ payload: events.payload })
    .from(events)
    .where(and(eq(events.kind, "stream"), eq(events.entityId, streamId), like(events.payload, '%"mergeConflict":%')))
    .orderBy(desc(events.id))
    .limit(1)
    .get();
  if (!row) return null;
  const p = row.payload as Partial<MergeState>;
  return { mergeConflict: p.mergeConflict ?? null, merged: p.merged ?? null };
}
