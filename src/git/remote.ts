/**
 * A team's git remote (the `team.remote` of orchestration-config.json): how streams' work travels
 * between machines. Fetches, pushes and fast-forwards only — never a rebase, never a forced push,
 * never a switch of the user's branch.
 */
import { failed } from "../errors.ts";
import { git, gitMessage, gitOk } from "./git.ts";
import { currentBranch, isAncestor, operationInProgress, resolveCommit } from "./repo.ts";

export function hasRemote(cwd: string, remote: string): boolean {
  return git(cwd, ["remote", "get-url", remote]).code === 0;
}

/** Bring every branch of `remote` to refs/remotes/<remote>/… (nothing local moves). */
export function fetchRemote(cwd: string, remote: string): void {
  const r = git(cwd, ["fetch", "--quiet", "--prune", remote, `+refs/heads/*:refs/remotes/${remote}/*`]);
  if (r.code !== 0) throw failed(`cannot fetch from ${remote}: ${gitMessage(r)}`);
}

/** The last fetched tip of `branch` on `remote`, or null when it has none. */
export function remoteTip(cwd: string, remote: string, branch: string): string | null {
  return resolveCommit(cwd, `refs/remotes/${remote}/${branch}`);
}

export type PushOutcome = { ok: true; commit: string } | { ok: false; rejected: boolean; message: string };

/** Push local `branch` to the same name on `remote`, fast-forward only (a moved remote is `rejected`). */
export function pushBranch(cwd: string, remote: string, branch: string): PushOutcome {
  const commit = resolveCommit(cwd, `refs/heads/${branch}`);
  if (!commit) return { ok: false, rejected: false, message: `there is no branch ${branch} here` };
  const r = git(cwd, ["push", "--quiet", "--porcelain", remote, `${commit}:refs/heads/${branch}`]);
  if (r.code === 0) {
    // Known now without a fetch: what the remote has.
    git(cwd, ["update-ref", `refs/remotes/${remote}/${branch}`, commit]);
    return { ok: true, commit };
  }
  const rejected = /\[rejected\]|non-fast-forward|fetch first/.test(r.stdout + r.stderr);
  return { ok: false, rejected, message: gitMessage(r) };
}

/** Point local `branch` (not checked out anywhere here) at `commit`, creating it if need be. */
export function setBranch(cwd: string, branch: string, commit: string): void {
  const r = git(cwd, ["branch", "--force", branch, commit]);
  if (r.code !== 0) throw failed(`cannot set ${branch} to ${commit.slice(0, 12)}: ${gitMessage(r)}`);
}

export type FastForward = "up-to-date" | "fast-forwarded" | "diverged" | "blocked";

/**
 * Bring the main checkout's `branch` up to `commit` when that only moves it forward. `blocked`:
 * the checkout is not on `branch`, is mid-operation, or git refused (an uncommitted change in the
 * way) — nothing changed, the caller says why.
 */
export function fastForwardCheckout(root: string, branch: string, commit: string): { result: FastForward; message?: string } {
  const head = resolveCommit(root, `refs/heads/${branch}`);
  if (head === commit || (head && isAncestor(root, commit, head))) return { result: "up-to-date" };
  if (head && !isAncestor(root, head, commit)) return { result: "diverged" };
  if (currentBranch(root) !== branch) return { result: "blocked", message: `the main checkout is not on ${branch}` };
  const op = operationInProgress(root);
  if (op) return { result: "blocked", message: `the main checkout is in the middle of ${op}` };
  const r = git(root, ["merge", "--ff-only", "--quiet", commit]);
  return r.code === 0 ? { result: "fast-forwarded" } : { result: "blocked", message: gitMessage(r) };
}

/**
 * Branch tips as a team sees them: each local branch, or the remote's when the remote is ahead of
 * it or it exists only there (another machine's stream). A local branch that has moved on its own
 * stays as it is.
 */
export function teamBranchTips(cwd: string, remote: string, local: Map<string, string>): Map<string, string> {
  const out = gitOk(cwd, ["for-each-ref", "--format=%(objectname) %(refname)", `refs/remotes/${remote}/`], "cannot list the remote's branches");
  const tips = new Map(local);
  const prefix = `refs/remotes/${remote}/`;
  for (const line of out.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp <= 0) continue;
    const commit = line.slice(0, sp);
    const name = line.slice(sp + 1 + prefix.length);
    if (name === "HEAD") continue;
    const mine = local.get(name);
    if (!mine || (mine !== commit && isAncestor(cwd, mine, commit))) tips.set(name, commit);
  }
  return tips;
}
