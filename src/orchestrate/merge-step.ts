/**
 * Merging a finished parallel stream for the run: merged (or already in), or a reason to stop —
 * conflicting files, changes its agent left uncommitted, or an error — with nothing merged.
 */
import { existsSync } from "node:fs";
import { relative } from "node:path";
import { strayCommits } from "../git/reach.ts";
import { currentBranch } from "../git/repo.ts";
import { branchFor } from "../paths.ts";
import type { Store } from "../db/client.ts";
import { BranchMissingError, isOrchError } from "../errors.ts";
import { mergeStream } from "../workspace/merge.ts";
import type { RunNote } from "./messages.ts";
import type { RunState } from "./state.ts";

export type MergeStep =
  | { ok: true; commit: string | null; note: RunNote | null }
  | { ok: false; stop: NonNullable<RunState["conflict"]>; note: RunNote };

export async function mergeFinished(store: Store, root: string, streamId: string, worktree: string | null, launchedAt: string | null = null): Promise<MergeStep> {
  // Commits its agent made in the worktree but left off the branch (a side branch, a detached
  // HEAD, a stash): merging the branch would say "merged" without them.
  const branch = branchFor(streamId);
  // (A worktree on another branch altogether is said so by the merge itself, below.)
  const onBranch = worktree && worktree !== root && launchedAt && existsSync(worktree) && currentBranch(worktree) === branch;
  const stray = onBranch ? strayCommits(worktree, `refs/heads/${branch}`, launchedAt) : [];
  if (stray.length) return { ok: false, stop: { streamId, into: "", files: [], kind: "off-branch" }, note: { kind: "stray", streamId, where: relative(root, worktree!) || worktree!, branch, commits: stray } };
  try {
    const m = await mergeStream(store, { streamId, cwd: root, requireCleanWorktree: true });
    if (m.status === "conflict")
      return {
        ok: false,
        stop: { streamId, into: m.into, files: m.conflictingFiles, kind: "conflict" },
        note: { kind: "conflict", streamId, branch: m.branchName, into: m.into, files: m.conflictingFiles, root },
      };
    if (m.status === "worktree_off_branch") {
      const wt = worktree ?? "its worktree";
      return {
        ok: false,
        stop: { streamId, into: m.into, files: [], kind: "off-branch" },
        note: { kind: "off-branch", streamId, shownAs: relative(root, wt) || wt, worktree: wt, checkedOut: m.worktreeBranch!, branch: m.branchName },
      };
    }
    if (m.status === "worktree_dirty") {
      const wt = worktree ?? "its worktree";
      return {
        ok: false,
        stop: { streamId, into: m.into, files: m.worktreeUncommitted, kind: "uncommitted" },
        note: { kind: "uncommitted", streamId, worktree: wt, shownAs: relative(root, wt) || wt, files: m.worktreeUncommitted },
      };
    }
    return { ok: true, commit: m.commit, note: { kind: "merged", streamId, into: m.into, commit: m.status === "merged" ? m.commit : null } };
  } catch (err) {
    if (err instanceof BranchMissingError) {
      // Completed without ever having a branch: nothing to bring back.
      if (!worktree || worktree === root) return { ok: true, commit: null, note: null };
      // It had one (its agent worked in a worktree on it), and it is gone: its commits are not on main.
      return { ok: false, stop: { streamId, into: "", files: [], kind: "error" }, note: { kind: "branch-gone", streamId, worktree } };
    }
    if (!isOrchError(err)) throw err;
    return { ok: false, stop: { streamId, into: "", files: [], kind: "error" }, note: { kind: "merge-error", streamId, message: err.message } };
  }
}
