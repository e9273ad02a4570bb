/**
 * Conflicts between streams while they are still running: for every pair of active streams, the
 * files git would report as conflicting if both branches were merged (predicted with merge-tree,
 * nothing touched), beside the overlap of the files their tasks declare. A stream whose branch is
 * already all in its base branch (merged, by orch or by hand) brings nothing more: the other
 * stream is compared with that base, which holds its work; two such streams cannot conflict.
 *
 * Recorded merge conflicts are checked against git here too (`currentMergeConflict`): one
 * resolved by hand is dropped for every reader, one that still holds is listed.
 */
import type { Store } from "../db/client.ts";
import { currentMergeConflict, type ConflictFacts, type MergeConflictRecord } from "../core/merge-record.ts";
import { listStreams, type StreamView } from "../core/streams.ts";
import { predictConflicts } from "../git/merge.ts";
import { branchTips, isAncestor, repoInfo } from "../git/repo.ts";
import { fetchRemote, hasRemote, teamBranchTips } from "../git/remote.ts";
import { baseBranchOf, streamBranchName } from "./naming.ts";

export interface StreamPairConflict {
  streams: [string, string];
  branches: [string | null, string | null];
  /** Both branches exist and were compared with merge-tree. */
  gitChecked: boolean;
  conflictingFiles: string[];
  declaredOverlap: string[];
  /** Why the branches could not be compared (unrelated histories…). */
  error: string | null;
}

export interface StreamConflictsResult {
  streams: string[];
  pairs: StreamPairConflict[];
  totalPairs: number;
  /** Pairs whose branches would conflict. */
  conflictingPairs: number;
  /** Pairs whose declared files overlap. */
  overlappingPairs: number;
  hasConflicts: boolean;
  /** Streams whose branch is already all in its base branch: pairs with one compare the other with that base. */
  mergedStreams: string[];
  /** Merge conflicts recorded by `orch worktree merge` (or a run) that git says still hold. */
  mergeConflicts: (MergeConflictRecord & { streamId: string })[];
}

/** Exact path equality (no substring matching): the files both streams declare. */
export function declaredOverlap(a: readonly string[], b: readonly string[]): string[] {
  const set = new Set(a);
  return [...new Set(b.filter((f) => set.has(f)))].sort();
}

interface Side {
  name: string;
  commit: string;
  /** Its base branch's tip when the branch is all in it already; else null. */
  mergedInto: string | null;
}

/** The branch a stream works on, if it exists in the repository. */
function liveBranch(tips: Map<string, string>, s: StreamView): { name: string; commit: string } | null {
  for (const name of [s.branchName, streamBranchName(s.streamId)]) {
    const commit = name ? tips.get(name) : undefined;
    if (name && commit) return { name, commit };
  }
  return null;
}

function sideOf(root: string, tips: Map<string, string>, s: StreamView): Side | null {
  const live = liveBranch(tips, s);
  if (!live) return null;
  const base = baseBranchOf(root, live.name);
  const baseTip = base && base !== live.name ? tips.get(base) : undefined;
  return { ...live, mergedInto: baseTip && isAncestor(root, live.commit, baseTip) ? baseTip : null };
}

/** What git says now about a recorded conflict (for `currentMergeConflict`). */
export function gitConflictFacts(root: string, tips: Map<string, string> = branchTips(root)): (c: MergeConflictRecord) => ConflictFacts {
  return (c) => {
    const sourceTip = tips.get(c.branch) ?? null;
    const targetTip = tips.get(c.into) ?? null;
    return {
      sourceTip,
      targetTip,
      merged: !!sourceTip && !!targetTip && isAncestor(root, sourceTip, targetTip),
      predict: () => predictConflicts(root, targetTip!, sourceTip!),
    };
  };
}

/** The files merging both sides would conflict in; null when there is nothing to compare. */
function predictPair(root: string, a: Side, b: Side): string[] | null {
  if (a.name === b.name) return null; // one branch (foundation and integration on main): no conflict with itself
  if (a.mergedInto && b.mergedInto) return [];
  const [ours, theirs] = a.mergedInto ? [a.mergedInto, b.commit] : b.mergedInto ? [b.mergedInto, a.commit] : [a.commit, b.commit];
  return predictConflicts(root, ours, theirs);
}

function pairOf(root: string | null, a: StreamView, b: StreamView, sa: Side | null, sb: Side | null): StreamPairConflict {
  const pair: StreamPairConflict = {
    streams: [a.streamId, b.streamId],
    branches: [sa?.name ?? null, sb?.name ?? null],
    gitChecked: false,
    conflictingFiles: [],
    declaredOverlap: declaredOverlap(a.files, b.files),
    error: null,
  };
  if (!root || !sa || !sb) return pair;
  try {
    const files = predictPair(root, sa, sb);
    if (files) {
      pair.gitChecked = true;
      pair.conflictingFiles = files;
    }
  } catch (err) {
    pair.error = (err as Error).message;
  }
  return pair;
}

/** With `streamId`, only the pairs that include that stream are compared (its page asks for them). */
export async function streamConflicts(
  store: Store,
  opts: { cwd?: string; initiativeId?: string; streamId?: string; /** A team's remote: its branches count too (fetched first). */ remote?: string } = {},
): Promise<StreamConflictsResult> {
  const active = await listStreams(store, { initiativeId: opts.initiativeId });
  let root: string | null = null;
  try {
    root = repoInfo(opts.cwd ?? process.cwd()).root;
  } catch {
    // Outside a repository only declared files can be compared.
  }
  let tips = root ? branchTips(root) : new Map<string, string>();
  if (root && opts.remote && hasRemote(root, opts.remote)) {
    // Another machine's streams are only on the remote: predict with them too (the last fetch if this one fails).
    try {
      fetchRemote(root, opts.remote);
    } catch {
      // offline: what was fetched before
    }
    tips = teamBranchTips(root, opts.remote, tips);
  }
  const sides = active.map((s) => (root ? sideOf(root, tips, s) : null));
  const pairs: StreamPairConflict[] = [];
  for (let i = 0; i < active.length; i++)
    for (let j = i + 1; j < active.length; j++)
      if (!opts.streamId || active[i]!.streamId === opts.streamId || active[j]!.streamId === opts.streamId)
        pairs.push(pairOf(root, active[i]!, active[j]!, sides[i] ?? null, sides[j] ?? null));
  const facts = root ? gitConflictFacts(root, tips) : null;
  const mergeConflicts: ({ streamId: string } & MergeConflictRecord)[] = [];
  if (facts)
    for (const s of active) {
      const c = await currentMergeConflict(store, s.streamId, facts);
      if (c) mergeConflicts.push({ streamId: s.streamId, ...c });
    }
  const conflictingPairs = pairs.filter((p) => p.conflictingFiles.length).length;
  const overlappingPairs = pairs.filter((p) => p.declaredOverlap.length).length;
  return {
    streams: active.map((s) => s.streamId),
    pairs,
    totalPairs: pairs.length,
    conflictingPairs,
    overlappingPairs,
    hasConflicts: conflictingPairs > 0,
    mergedStreams: active.filter((_, i) => sides[i]?.mergedInto).map((s) => s.streamId),
    mergeConflicts,
  };
}
