/**
 * What keeps a commit alive: refs (full names only, so a tag never stands in for a branch) and
 * the HEADs of worktrees. "Commits only these tips reach" is the work a removal would lose.
 */
import { git, gitOk, splitZ } from "./git.ts";
import type { CommitLine } from "./repo.ts";

export interface RefTip {
  /** Full name: refs/heads/main, refs/tags/v1, refs/orch/saved/… */
  ref: string;
  commit: string;
}

/** Every ref that leads to a commit (an annotated tag: the commit it tags), in one call. */
export function refTips(cwd: string): RefTip[] {
  const out = gitOk(cwd, ["for-each-ref", "--format=%(objecttype) %(*objecttype) %(objectname) %(*objectname)%00%(refname)"], "cannot list refs");
  const tips: RefTip[] = [];
  for (const line of out.split("\n")) {
    const nul = line.indexOf("\0");
    if (nul < 0) continue;
    const [type, peeledType, id, peeled] = line.slice(0, nul).split(" ");
    const ref = line.slice(nul + 1);
    if (type === "commit") tips.push({ ref, commit: id! });
    else if (type === "tag" && peeledType === "commit") tips.push({ ref, commit: peeled! });
  }
  return tips;
}

export interface OnlyReached {
  /** Newest first, at most `limit`. */
  commits: CommitLine[];
  total: number;
}

/** Commits reachable from `tips` and from none of `others` (commit ids). */
export function commitsOnlyFrom(cwd: string, tips: readonly string[], others: readonly string[], limit = 200): OnlyReached {
  if (!tips.length) return { commits: [], total: 0 };
  const input = `${[...tips, ...others.map((o) => `^${o}`)].join("\n")}\n`;
  const total = Number(gitOk(cwd, ["rev-list", "--count", "--stdin"], "cannot compare commits", { input }).trim()) || 0;
  if (!total) return { commits: [], total: 0 };
  const out = gitOk(cwd, ["log", `--max-count=${limit}`, "--format=%h%x00%s%x00", "--stdin"], "cannot list commits", { input });
  const parts = splitZ(out).map((s) => s.replace(/^\n/, ""));
  const commits: CommitLine[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) commits.push({ sha: parts[i]!, subject: parts[i + 1]! });
  return { commits, total };
}

/**
 * Commits made in a worktree since `sinceIso` that `branchRef` does not hold: HEAD's positions
 * in that worktree's reflog (a side branch it switched to and back from, a detached HEAD it left)
 * and stash entries, followed to commits made since then. What a run would leave out of main.
 */
export function strayCommits(cwd: string, branchRef: string, sinceIso: string, limit = 20): string[] {
  const since = `--since=${sinceIso}`;
  const heads = git(cwd, ["reflog", "show", "--format=%H", since, "HEAD"]);
  const stash = git(cwd, ["log", "-g", "--format=%H", since, "refs/stash"]);
  const starts = [...new Set([...lines(heads), ...lines(stash)])];
  if (!starts.length) return [];
  const r = git(cwd, ["rev-list", `--max-count=${limit}`, since, ...starts, "--not", branchRef]);
  return r.code === 0 ? lines(r) : [];
}

const lines = (r: { code: number; stdout: string }) => (r.code === 0 ? r.stdout.split("\n").map((l) => l.trim()).filter(Boolean) : []);
