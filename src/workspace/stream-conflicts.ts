/**
 * Conflicts between streams while they are still running: for every pair of active streams, the
 * files git would report as conflicting if both branches were merged (predicted with merge-tree,
 * nothing touched), beside the overlap of the files their tasks declare.
 */
import type { Store } from "../db/client.ts";
import { listStreams, type StreamView } from "../core/streams.ts";
import { predictMerge } from "../git/merge.ts";
import { branchTips, repoInfo } from "../git/repo.ts";
import { streamBranchName } from "./naming.ts";

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
}

/** Exact path equality (no substring matching): the files both streams declare. */
export function declaredOverlap(a: readonly string[], b: readonly string[]): string[] {
  const set = new Set(a);
  return [...new Set(b.filter((f) => set.has(f)))].sort();
}

/** The branch a stream works on, if it exists in the repository. */
function liveBranch(tips: Map<string, string>, s: StreamView): { name: string; commit: string } | null {
  for (const name of [s.branchName, streamBranchName(s.streamId)]) {
    const commit = name ? tips.get(name) : undefined;
    if (name && commit) return { name, commit };
  }
  return null;
}

export function streamConflicts(store: Store, opts: { cwd?: string; initiativeId?: string } = {}): StreamConflictsResult {
  const active = listStreams(store, { initiativeId: opts.initiativeId });
  let root: string | null = null;
  try {
    root = repoInfo(opts.cwd ?? process.cwd()).root;
  } catch {
    // Outside a repository only declared files can be compared.
  }
  const tips = root ? branchTips(root) : new Map<string, string>();
  const branches = active.map((s) => liveBranch(tips, s));
  const pairs: StreamPairConflict[] = [];
  for (let i = 0; i < active.length; i++) {
    for (let j = i + 1; j < active.length; j++) {
      const a = active[i]!;
      const b = active[j]!;
      const ba = branches[i] ?? null;
      const bb = branches[j] ?? null;
      const pair: StreamPairConflict = {
        streams: [a.streamId, b.streamId],
        branches: [ba?.name ?? null, bb?.name ?? null],
        gitChecked: false,
        conflictingFiles: [],
        declaredOverlap: declaredOverlap(a.files, b.files),
        error: null,
      };
      // Two streams on one branch (foundation and integration both on main) cannot conflict with each other.
      if (root && ba && bb && ba.name !== bb.name) {
        try {
          const p = predictMerge(root, ba.commit, bb.commit);
          pair.gitChecked = true;
          if (!p.clean) pair.conflictingFiles = [...p.conflicts].sort();
        } catch (err) {
          pair.error = (err as Error).message;
        }
      }
      pairs.push(pair);
    }
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
  };
}
