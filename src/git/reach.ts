/**
 * What keeps a commit alive: refs (full names only, so a tag never stands in for a branch) and
 * the HEADs of worktrees. "Commits only these tips reach" is the work a removal would lose.
 */
import { gitOk, splitZ } from "./git.ts";
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
