/**
 * Pure: the shell commands that bring a removed worktree back from what was saved — its branch,
 * the worktree itself, HEAD, the index and every file (from the snapshot: HEAD ← index ← files,
 * undone with `git reset`), and nested repositories moved back into place. Run in the
 * repository's main checkout; every word quoted for a POSIX shell.
 */
import { dirname } from "node:path";
import { shellWord } from "./naming.ts";

export interface RestorePlan {
  /** Stream to recreate with `orch worktree create`; null: `git worktree add`. */
  streamId: string | null;
  /** Extra flags for orch (`--db PATH`). */
  orchFlags: readonly string[];
  branch: string;
  branchDeleted: boolean;
  /** Where the worktree comes back, relative to the main checkout. */
  worktree: string;
  /** There was a worktree (else only a branch was removed, and only it comes back). */
  worktreeExisted: boolean;
  /** What HEAD was: the stream's branch, another branch, or detached. */
  head: { kind: "branch" } | { kind: "other"; branch: string } | { kind: "detached" };
  /** Ref holding the worktree (HEAD, index, files), or null when only commits of the branch were saved. */
  worktreeRef: string | null;
  /** The snapshot's shape on top of HEAD: an index commit, a files commit. */
  index: boolean;
  work: boolean;
  /** Ref (or commit) to recreate the deleted branch at, when its tip is not the worktree's HEAD. */
  branchRef: string | null;
  /** Nested repositories: saved folder (relative to the main checkout) → path in the worktree. */
  nested: readonly { from: string; to: string; tracked: boolean }[];
}

const q = (words: readonly string[]) => words.map(shellWord).join(" ");

function resets(p: RestorePlan, g: (...a: string[]) => string): string[] {
  return [...(p.work ? [g("reset", "-q", "HEAD~1")] : []), ...(p.index ? [g("reset", "-q", "--soft", "HEAD~1")] : [])];
}

function recreate(p: RestorePlan, branchExists: boolean): string {
  if (p.streamId) return q(["orch", "worktree", "create", p.streamId, ...p.orchFlags]);
  return branchExists ? q(["git", "worktree", "add", "--", p.worktree, p.branch]) : q(["git", "worktree", "add", "--detach", "--", p.worktree, p.worktreeRef ?? "HEAD"]);
}

/** The commands, in order. */
export function restoreSteps(p: RestorePlan): string[] {
  const g = (...a: string[]) => q(["git", "-C", p.worktree, ...a]);
  const steps: string[] = [];
  if (!p.worktreeExisted) return p.branchRef ? [q(["git", "branch", p.branch, p.branchRef])] : [];
  const attached = p.head.kind === "branch";
  if (attached && p.branchDeleted && p.worktreeRef) {
    // The branch comes back at the snapshot; the resets walk it back to where it was.
    steps.push(q(["git", "branch", p.branch, p.worktreeRef]), recreate(p, true), ...resets(p, g));
  } else {
    const restoredBranch = p.branchDeleted && p.branchRef !== null;
    if (restoredBranch) steps.push(q(["git", "branch", p.branch, p.branchRef!]));
    steps.push(recreate(p, !p.branchDeleted || restoredBranch));
    if (p.worktreeRef) {
      steps.push(g("checkout", "-q", "-f", "--detach", p.worktreeRef), ...resets(p, g));
      if (p.head.kind === "branch") steps.push(g("switch", "-q", p.branch));
      if (p.head.kind === "other") steps.push(g("switch", "-q", p.head.branch));
    }
  }
  for (const n of p.nested) {
    const to = `${p.worktree}/${n.to}`;
    const parent = dirname(to);
    steps.push(`${n.tracked ? `rmdir ${shellWord(to)}; ` : ""}mkdir -p ${shellWord(parent)} && mv ${shellWord(n.from)} ${shellWord(to)}`);
  }
  return steps;
}
