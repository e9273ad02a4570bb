/**
 * Where a stream's last merge attempt is remembered without a schema change: a `stream` event
 * whose payload is the stream view plus `mergeConflict` (null once merged) and `merged`. The
 * change feed carries it to the monitor like any other stream update.
 *
 * A recorded conflict is a claim about git, and git moves on without orch: a person resolves it
 * by hand (merges the branch themselves, or merges main into the branch). `currentMergeConflict`
 * checks the claim against git's facts, given by the caller (core runs no git), and records its
 * end when it no longer holds, so every reader — worktree list, stream conflicts, the API, the
 * monitor — stops showing it.
 */
import type { Store } from "../db/client.ts";
import { latestMergeRecord } from "../db/dialect.ts";
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
  /** The merge commit orch made; for a merge found done outside orch, the target's commit that holds it. */
  commit: string;
  mergedAt: string;
  /** Merged outside orch (found, not made). */
  outside?: true;
}

/**
 * A team's stream whose work was pushed to the team's remote by the machine that did it: the
 * branch (a parallel stream's, or the main branch for work done in the main checkout) and the
 * commit that holds it all. Another machine merges or builds on it only once it has that commit.
 */
export interface PushRecord {
  remote: string;
  branch: string;
  commit: string;
  machine: string;
  pushedAt: string;
}

export interface MergeState {
  mergeConflict: MergeConflictRecord | null;
  merged: MergeDoneRecord | null;
  /** Recorded by team runs only (orchestrate/travel-step.ts). */
  pushed?: PushRecord | null;
}

async function record(store: Store, streamId: string, state: MergeState): Promise<void> {
  await store.tx(async (db) => {
    const row = await findStreamRow(db, streamId, true);
    const view = row ? streamView(row) : { streamId };
    await recordEvent(db, "stream", streamId, "update", { ...view, ...state });
  });
}

export async function recordMergeConflict(store: Store, streamId: string, c: Omit<MergeConflictRecord, "detectedAt">): Promise<MergeConflictRecord> {
  const conflictRecord = { ...c, detectedAt: store.now() };
  await record(store, streamId, { mergeConflict: conflictRecord, merged: null });
  return conflictRecord;
}

export async function recordMergeDone(store: Store, streamId: string, m: Omit<MergeDoneRecord, "mergedAt" | "outside">, outside = false): Promise<MergeDoneRecord> {
  const done: MergeDoneRecord = { ...m, mergedAt: store.now(), ...(outside ? { outside: true as const } : {}) };
  await record(store, streamId, { mergeConflict: null, merged: done });
  return done;
}

export async function recordPushed(store: Store, streamId: string, p: Omit<PushRecord, "pushedAt">): Promise<PushRecord> {
  const pushed: PushRecord = { ...p, pushedAt: store.now() };
  await record(store, streamId, { mergeConflict: null, merged: null, pushed });
  return pushed;
}

/** The stream's last recorded merge outcome, or null when none was ever recorded. */
export async function lastMergeState(store: Store, streamId: string): Promise<MergeState | null> {
  const payload = (await latestMergeRecord(store.db, streamId)) as Partial<MergeState> | null;
  if (!payload) return null;
  return { mergeConflict: payload.mergeConflict ?? null, merged: payload.merged ?? null, ...(payload.pushed ? { pushed: payload.pushed } : {}) };
}

/** What git says now about a recorded conflict's branch and the branch it was to merge into. */
export interface ConflictFacts {
  /** The stream's branch now; null when it no longer exists. */
  sourceTip: string | null;
  /** The target branch now; null when it no longer exists. */
  targetTip: string | null;
  /** The branch is contained in the target: merged, by whoever did it. */
  merged: boolean;
  /** The files merging now would conflict in (empty: clean). Asked only when a side moved. */
  predict(): string[];
}

export type ConflictVerdict =
  | { holds: true; files: string[] }
  | { holds: false; why: "merged" | "resolved" | "branch-gone" };

/** Does a recorded conflict still stand? Pure over the facts. */
export function judgeConflict(c: MergeConflictRecord, f: ConflictFacts): ConflictVerdict {
  if (!f.sourceTip || !f.targetTip) return { holds: false, why: "branch-gone" };
  if (f.merged) return { holds: false, why: "merged" };
  if (f.sourceTip === c.sourceCommit && f.targetTip === c.targetCommit) return { holds: true, files: c.files };
  const files = f.predict();
  return files.length ? { holds: true, files } : { holds: false, why: "resolved" };
}

/**
 * The stream's recorded merge conflict if it still holds, else null — and then its end is
 * recorded (merged outside orch, or resolved so the merge is clean now, or the branch is gone).
 * A conflict that still holds after either side moved is recorded again with today's files.
 */
export async function currentMergeConflict(store: Store, streamId: string, factsFor: (c: MergeConflictRecord) => ConflictFacts): Promise<MergeConflictRecord | null> {
  const state = await lastMergeState(store, streamId);
  const c = state?.mergeConflict;
  if (!c) return null;
  const facts = factsFor(c);
  const v = judgeConflict(c, facts);
  if (v.holds) {
    if (facts.sourceTip === c.sourceCommit && facts.targetTip === c.targetCommit) return c;
    return recordMergeConflict(store, streamId, { into: c.into, branch: c.branch, files: v.files, targetCommit: facts.targetTip!, sourceCommit: facts.sourceTip! });
  }
  if (v.why === "merged") await recordMergeDone(store, streamId, { into: c.into, branch: c.branch, commit: facts.targetTip! }, true);
  else await record(store, streamId, { mergeConflict: null, merged: state!.merged });
  return null;
}
