/** Stream worktrees reconciled with git: branch, base, ahead/behind, uncommitted files, missing or orphaned. */
import { join, sep } from "node:path";
import type { Store } from "../db/client.ts";
import { listStreams } from "../core/streams.ts";
import { currentMergeConflict, type MergeConflictRecord } from "../core/merge-record.ts";
import { aheadBehind, branchCommit } from "../git/repo.ts";
import { listWorktrees, type WorktreeEntry } from "../git/worktrees.ts";
import { WORKTREES_DIR } from "../paths.ts";
import { uncommittedChanges } from "./census.ts";
import { gitConflictFacts } from "./stream-conflicts.ts";
import { baseBranchOf, headsRef, locateRepo, rel, samePath, streamBranchName, streamWorktreePath } from "./naming.ts";

export type WorktreeState = "ok" | "missing" | "orphaned";

export interface WorktreeRow {
  /** null for an orphaned worktree no stream claims. */
  streamId: string | null;
  worktreePath: string;
  relativePath: string;
  branchName: string | null;
  baseBranch: string | null;
  state: WorktreeState;
  /** null when the folder is not there to look at. */
  dirty: boolean | null;
  uncommittedFiles: string[];
  ahead: number | null;
  behind: number | null;
  locked: boolean;
  /** The last merge attempt found conflicts that still hold (checked against git). */
  mergeConflict: MergeConflictRecord | null;
}

export interface WorktreeListResult {
  repoRoot: string;
  worktrees: WorktreeRow[];
  totalWorktrees: number;
}

export async function listStreamWorktrees(store: Store, opts: { cwd?: string } = {}): Promise<WorktreeListResult> {
  const { root } = locateRepo(opts.cwd);
  const entries = listWorktrees(root);
  // A conflict resolved outside orch (merged by hand, main merged into the branch) is dropped, as everywhere.
  const facts = gitConflictFacts(root);
  const dir = join(root, WORKTREES_DIR) + sep;
  const claimed = new Set<WorktreeEntry>();
  const rows: WorktreeRow[] = [];

  const describe = async (streamId: string | null, path: string, entry: WorktreeEntry | undefined, fallbackBranch: string | null): Promise<WorktreeRow> => {
    const ok = !!entry && entry.present && !entry.prunable;
    const branch = entry?.branch ?? fallbackBranch;
    const base = branch ? baseBranchOf(root, branch) : null;
    const changes = ok ? uncommittedChanges(root, path).map((e) => e.path) : [];
    let ab: { ahead: number; behind: number } | null = null;
    if (branch && base && branch !== base && branchCommit(root, branch) && branchCommit(root, base)) ab = aheadBehind(root, headsRef(base), headsRef(branch));
    return {
      streamId,
      worktreePath: path,
      relativePath: rel(root, path),
      branchName: branch,
      baseBranch: base,
      state: !streamId ? "orphaned" : ok ? "ok" : "missing",
      dirty: ok ? changes.length > 0 : null,
      uncommittedFiles: changes,
      ahead: ab?.ahead ?? null,
      behind: ab?.behind ?? null,
      locked: entry?.locked ?? false,
      mergeConflict: streamId ? await currentMergeConflict(store, streamId, facts) : null,
    };
  };

  for (const s of await listStreams(store, { includeArchived: true })) {
    const defaultPath = streamWorktreePath(root, s.streamId);
    const path = s.worktreePath ?? defaultPath;
    const entry = entries.find((w) => samePath(w.path, path) || w.path === path);
    if (!s.worktreePath && !entry) continue;
    if (entry) claimed.add(entry);
    rows.push(await describe(s.streamId, path, entry, s.branchName ?? streamBranchName(s.streamId)));
  }
  for (const w of entries) {
    if (claimed.has(w) || !w.path.startsWith(dir)) continue;
    rows.push(await describe(null, w.path, w, w.branch));
  }
  return { repoRoot: root, worktrees: rows, totalWorktrees: rows.length };
}
