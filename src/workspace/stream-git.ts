/**
 * One stream's facts from git, for its page: its worktree (branch, ahead/behind its base, the
 * uncommitted files, bounded) and the conflicts predicted between its branch and the other live
 * streams' (stream-conflicts.ts, only the pairs that include it). Read-only.
 */
import type { Store } from "../db/client.ts";
import { getStream } from "../core/streams.ts";
import { aheadBehind, branchCommit } from "../git/repo.ts";
import { listWorktrees } from "../git/worktrees.ts";
import { uncommittedChanges } from "./census.ts";
import { streamConflicts } from "./stream-conflicts.ts";
import { baseBranchOf, headsRef, locateRepo, samePath, streamBranchName, streamWorktreePath } from "./naming.ts";

export const DIRTY_LIMIT = 200;
export const CONFLICT_FILES_LIMIT = 200;

export interface StreamWorktreeFacts {
  streamId: string;
  branch: string | null;
  baseBranch: string | null;
  path: string | null;
  /** The worktree is checked out and on disk. */
  exists: boolean;
  /** Commits on the branch not in its base, and the reverse; null when either branch is missing. */
  ahead: number | null;
  behind: number | null;
  /** The first DIRTY_LIMIT uncommitted changes (git status codes, `??` untracked). */
  dirty: { code: string; path: string }[];
  totalDirty: number;
}

/** Throws core's not_found for an unknown stream. */
export async function streamWorktreeFacts(store: Store, streamId: string, opts: { cwd?: string } = {}): Promise<StreamWorktreeFacts> {
  const s = await getStream(store, streamId, { includeArchived: true });
  const none: StreamWorktreeFacts = { streamId, branch: s.branchName, baseBranch: null, path: s.worktreePath, exists: false, ahead: null, behind: null, dirty: [], totalDirty: 0 };
  let root: string;
  try {
    root = locateRepo(opts.cwd).root;
  } catch {
    return none; // not in a repository: nothing to look at
  }
  const path = s.worktreePath ?? streamWorktreePath(root, streamId);
  const entry = listWorktrees(root).find((w) => samePath(w.path, path) || w.path === path);
  const exists = !!entry && entry.present && !entry.prunable;
  const branch = entry?.branch ?? s.branchName ?? (branchCommit(root, streamBranchName(streamId)) ? streamBranchName(streamId) : null);
  const base = branch ? baseBranchOf(root, branch) : null;
  let ab: { ahead: number; behind: number } | null = null;
  if (branch && base && branch !== base && branchCommit(root, branch) && branchCommit(root, base)) ab = aheadBehind(root, headsRef(base), headsRef(branch));
  const changes = exists ? uncommittedChanges(root, path) : [];
  return {
    streamId,
    branch,
    baseBranch: base,
    path: entry || s.worktreePath ? path : null,
    exists,
    ahead: ab?.ahead ?? null,
    behind: ab?.behind ?? null,
    dirty: changes.slice(0, DIRTY_LIMIT).map((e) => ({ code: e.code, path: e.path })),
    totalDirty: changes.length,
  };
}

export interface PredictedConflict {
  otherStream: string;
  branch: string | null;
  otherBranch: string | null;
  /** Both branches exist and git compared them. */
  gitChecked: boolean;
  /** The first CONFLICT_FILES_LIMIT files git would report as conflicting. */
  files: string[];
  totalFiles: number;
  /** Files both streams' tasks declare. */
  declaredOverlap: string[];
  error: string | null;
}

export interface StreamConflictFacts {
  streamId: string;
  /** Only the other streams it would conflict with, or whose declared files overlap its own. */
  conflicts: PredictedConflict[];
  totalConflicts: number;
}

/** Throws core's not_found for an unknown stream. */
export async function streamConflictFacts(store: Store, streamId: string, opts: { cwd?: string } = {}): Promise<StreamConflictFacts> {
  await getStream(store, streamId, { includeArchived: true });
  const r = await streamConflicts(store, { cwd: opts.cwd, streamId });
  const conflicts: PredictedConflict[] = [];
  for (const p of r.pairs) {
    const i = p.streams.indexOf(streamId);
    if (i < 0 || (!p.conflictingFiles.length && !p.declaredOverlap.length && !p.error)) continue;
    conflicts.push({
      otherStream: p.streams[1 - i]!,
      branch: p.branches[i] ?? null,
      otherBranch: p.branches[1 - i] ?? null,
      gitChecked: p.gitChecked,
      files: p.conflictingFiles.slice(0, CONFLICT_FILES_LIMIT),
      totalFiles: p.conflictingFiles.length,
      declaredOverlap: p.declaredOverlap.slice(0, CONFLICT_FILES_LIMIT),
      error: p.error,
    });
  }
  return { streamId, conflicts, totalConflicts: conflicts.length };
}
