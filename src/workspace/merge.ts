/**
 * Merging a stream's branch into the branch checked out in the main worktree: predicted with
 * `git merge-tree` first (a conflict changes nothing), committed without `git merge`
 * (src/git/safe-merge.ts). Nothing of the user's is overwritten: not an uncommitted change (hidden
 * ones included: assume-unchanged, skip-worktree), not an untracked or ignored file where the
 * merge writes. Under the stream's lock and the repository's merge lock.
 */
import type { Store } from "../db/client.ts";
import { recordMergeConflict, recordMergeDone } from "../core/merge-record.ts";
import { BranchMissingError, conflict } from "../errors.ts";
import { hiddenEdits, untrackedAll } from "../git/files.ts";
import { changedPaths, predictMerge } from "../git/merge.ts";
import { branchCommit, currentBranch, isAncestor, operationInProgress, resolveCommit, statusEntries } from "../git/repo.ts";
import { commitMerge, recoverInterruptedMerge } from "../git/safe-merge.ts";
import { listWorktrees } from "../git/worktrees.ts";
import type { StreamView } from "../core/streams.ts";
import { uncommittedChanges } from "./census.ts";
import { lockPath, streamLock, withFileLock } from "./lock.ts";
import { baseBranchOf, locateRepo, parseStreamId, preview, requireStream, samePath, streamBranchName, streamWorktreePath } from "./naming.ts";

export interface MergeInput {
  streamId: string;
  /** Target branch; default: the stream branch's recorded base. It must be checked out in the main worktree. */
  into?: string;
  cwd?: string;
  /** Merge nothing while the worktree holds uncommitted changes (`worktree_dirty`) or is on another branch (`worktree_off_branch`). */
  requireCleanWorktree?: boolean;
}

export interface MergeResult {
  streamId: string;
  branchName: string;
  into: string;
  status: "merged" | "up_to_date" | "conflict" | "worktree_dirty" | "worktree_off_branch";
  merged: boolean;
  /** The merge commit (status merged). */
  commit: string | null;
  sourceCommit: string;
  targetCommit: string;
  conflictingFiles: string[];
  /** Paths the merge changes in the target (status merged). */
  filesChanged: string[];
  /** Uncommitted changes in the stream's worktree: not part of any merge until committed. */
  worktreeUncommitted: string[];
  /** What the worktree has checked out when it is not the stream's branch ("(detached HEAD)"), else null. */
  worktreeBranch: string | null;
}

/**
 * The untracked entries (files, and folders ending in "/" — ignored ones and nested repositories
 * included) a merge changing `changed` would overwrite: one at a changed path, a file where the
 * merge needs a folder, or a folder where it writes a file or into which it writes.
 */
export function overwrittenUntracked(changed: readonly string[], untracked: readonly string[]): string[] {
  const files = new Set(changed);
  const dirs = new Set<string>();
  for (const p of changed) for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) dirs.add(p.slice(0, i));
  const prefixes = (p: string) => {
    const out: string[] = [];
    for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) out.push(p.slice(0, i));
    return out;
  };
  return untracked.filter((u) => {
    const p = u.replace(/\/$/, "");
    return files.has(p) || dirs.has(p) || prefixes(p).some((d) => files.has(d));
  });
}

export function mergeStream(store: Store, input: MergeInput): Promise<MergeResult> {
  const streamId = parseStreamId(input.streamId);
  const { commonDir } = locateRepo(input.cwd);
  return withFileLock(
    streamLock(commonDir, streamBranchName(streamId)),
    `merge of ${streamId}`,
    () => withFileLock(lockPath(commonDir, "merge"), "merge", () => mergeLocked(store, streamId, input), LOCK_TIMEOUT_MS),
    LOCK_TIMEOUT_MS,
  );
}

/** How long the CLI's merge waits for another merge of the stream or into the repository. */
const LOCK_TIMEOUT_MS = 5 * 60_000;

/**
 * mergeStream for a server: the same merge under the same locks, but a wait for a lock another
 * merge holds sleeps without blocking the thread (other requests go on being answered), and ends
 * after `lockTimeoutMs`. The merge itself runs git synchronously, as the CLI's does.
 */
export async function mergeStreamAsync(store: Store, input: MergeInput, lockTimeoutMs = 60_000): Promise<MergeResult> {
  const streamId = parseStreamId(input.streamId);
  const { commonDir } = locateRepo(input.cwd);
  return withFileLock(
    streamLock(commonDir, streamBranchName(streamId)),
    `merge of ${streamId}`,
    () => withFileLock(lockPath(commonDir, "merge"), "merge", async () => mergeLocked(store, streamId, input), lockTimeoutMs),
    lockTimeoutMs,
  );
}

/** The main checkout, ready to merge into `into`: on it, no operation under way, nothing uncommitted. */
function checkMainCheckout(root: string, into: string): void {
  const current = currentBranch(root);
  if (current !== into)
    throw conflict(
      `the main worktree (${root}) is on ${current ?? "a detached HEAD"}, not ${into}: orch will not switch it for you; run "git switch ${into}" there first${current ? `, or merge into ${current} with --into ${current}` : ""}`,
    );
  const op = operationInProgress(root);
  if (op) throw conflict(`the main worktree is in the middle of ${op}: finish or abort it first`);
  const dirty = [...statusEntries(root, { untracked: false }), ...hiddenEdits(root)];
  if (dirty.length) throw conflict(`the main worktree has uncommitted changes (${preview(dirty.map((e) => e.path))}): commit or stash them first`);
}

/** The stream's worktree: its uncommitted changes, and the branch it has out when not the stream's. */
function worktreeState(root: string, stream: StreamView, branch: string): { worktreeUncommitted: string[]; worktreeBranch: string | null } {
  const wt = stream.worktreePath ?? streamWorktreePath(root, stream.streamId);
  const entry = listWorktrees(root).find((w) => w.path === wt || samePath(w.path, wt));
  const live = entry?.present && !entry.prunable ? entry : null;
  return {
    worktreeUncommitted: live ? uncommittedChanges(root, wt).map((e) => e.path) : [],
    worktreeBranch: live && live.branch !== branch ? (live.branch ?? "(detached HEAD)") : null,
  };
}

async function mergeLocked(store: Store, streamId: string, input: MergeInput): Promise<MergeResult> {
  const stream = await requireStream(store, streamId);
  const { root } = locateRepo(input.cwd);
  // A merge killed half-way (this one's earlier attempt, or another stream's) is finished or
  // undone first, so the checks below see the checkout as it really is.
  recoverInterruptedMerge(root);
  const branch = stream.branchName ?? streamBranchName(streamId);
  const into = input.into ?? baseBranchOf(root, branch);
  if (!into) throw conflict(`the main worktree has a detached HEAD: check out the branch to merge into, or pass --into BRANCH`);
  if (into === branch) throw conflict(`${streamId} works on ${branch} itself: there is nothing to merge`);
  const sourceCommit = branchCommit(root, branch);
  if (!sourceCommit) throw new BranchMissingError(`branch ${branch} of ${streamId} does not exist`);
  checkMainCheckout(root, into);
  const targetCommit = resolveCommit(root, "HEAD")!;
  const wt = worktreeState(root, stream, branch);
  const base = { streamId, branchName: branch, into, sourceCommit, targetCommit, commit: null, conflictingFiles: [], filesChanged: [], ...wt };
  // Checked before "up to date": work an agent never committed, or committed on another branch
  // or a detached HEAD in its worktree, is outside main either way.
  if (input.requireCleanWorktree && wt.worktreeBranch) return { ...base, status: "worktree_off_branch", merged: false };
  if (input.requireCleanWorktree && wt.worktreeUncommitted.length) return { ...base, status: "worktree_dirty", merged: false };
  if (isAncestor(root, sourceCommit, targetCommit)) return { ...base, status: "up_to_date", merged: false };

  const prediction = predictMerge(root, targetCommit, sourceCommit);
  if (!prediction.clean) {
    await recordMergeConflict(store, streamId, { into, branch, files: prediction.conflicts, targetCommit, sourceCommit });
    return { ...base, status: "conflict", merged: false, conflictingFiles: prediction.conflicts };
  }
  const filesChanged = changedPaths(root, targetCommit, prediction.tree);
  // git's read-tree would refuse untracked files in the way, and overwrite ignored ones: name both, before anything starts.
  const blocking = overwrittenUntracked(filesChanged, untrackedAll(root));
  if (blocking.length)
    throw conflict(`the merge would overwrite untracked or ignored files in the main worktree (${preview(blocking)}): move them away first`);

  // Committed without `git merge`: no MERGE_HEAD, no window a crash could leave half-done.
  const message = `Merge branch '${branch}' (${streamId})`;
  const commit = commitMerge(root, { branch: into, ours: targetCommit, theirs: sourceCommit, tree: prediction.tree, message, what: message });
  await recordMergeDone(store, streamId, { into, branch, commit });
  return { ...base, status: "merged", merged: true, commit, filesChanged };
}
