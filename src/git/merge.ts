/**
 * Merges judged by exit code and predicted without touching any work tree: `git merge-tree
 * --write-tree` computes the result in the object store only (exit 0 clean, 1 conflicts).
 */
import { commitMemo } from "./commit-memo.ts";
import { failed } from "../errors.ts";
import { git, gitMessage, gitOk, splitZ, trimLine } from "./git.ts";
import { operationInProgress } from "./repo.ts";

export type MergePrediction =
  | { clean: true; tree: string }
  | { clean: false; tree: string; conflicts: string[] };

/**
 * Predict merging `theirs` into `ours` (commits, already resolved: merge-tree exits 1 — the
 * conflict code — for a name it cannot resolve, so callers must pass real commits).
 */
export function predictMerge(cwd: string, ours: string, theirs: string): MergePrediction {
  const r = git(cwd, ["merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", ours, theirs]);
  const parts = splitZ(r.stdout);
  const tree = parts[0] ?? "";
  if (r.code === 0 && /^[0-9a-f]{40,64}$/.test(tree)) return { clean: true, tree };
  if (r.code === 1 && /^[0-9a-f]{40,64}$/.test(tree)) return { clean: false, tree, conflicts: [...new Set(parts.slice(1).filter(Boolean))] };
  throw failed(`cannot predict the merge of ${theirs.slice(0, 12)} into ${ours.slice(0, 12)}: ${gitMessage(r)}`);
}

const predictedConflicts = commitMemo<string[]>();

/**
 * The files merging `theirs` into `ours` would conflict in, sorted ([] when clean): remembered per
 * pair of commit ids, so predicting again for unchanged tips runs no git. (Not for merging: the
 * tree a prediction wrote is not kept.)
 */
export function predictConflicts(cwd: string, ours: string, theirs: string): string[] {
  const files = predictedConflicts([ours, theirs], () => {
    const p = predictMerge(cwd, ours, theirs);
    return p.clean ? [] : [...p.conflicts].sort();
  });
  return [...files]; // the remembered list stays as it was, whatever the caller does with this one
}

/** Paths that differ between two trees or commits. */
export function changedPaths(cwd: string, from: string, to: string): string[] {
  return splitZ(gitOk(cwd, ["diff", "--name-only", "--no-renames", "-z", from, to, "--"], "cannot compare trees"));
}

/**
 * `git merge --no-ff` of `commit` into the branch checked out at `worktreePath`. Callers predict
 * first; should git still stop (a hook, a race), the merge is aborted so the checkout is left as
 * it was, never mid-merge.
 */
export function mergeNoFf(worktreePath: string, commit: string, message: string): string {
  const r = git(worktreePath, ["merge", "--no-ff", "--no-edit", "-m", message, commit]);
  if (r.code !== 0) {
    const reason = gitMessage(r);
    if (operationInProgress(worktreePath) === "a merge") git(worktreePath, ["merge", "--abort"]);
    throw failed(`git merge stopped, nothing was merged: ${reason}`);
  }
  return trimLine(gitOk(worktreePath, ["rev-parse", "HEAD"], "cannot read HEAD"));
}

