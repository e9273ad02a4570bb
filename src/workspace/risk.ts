/**
 * Pure: from a worktree's census and the commits at risk, the sentences a removal says — the work
 * --force would save, what it cannot save (refused even with --force), and what is never saved
 * (named, with the rule that skips it).
 */
import type { StatusEntry } from "../git/repo.ts";
import type { OnlyReached } from "../git/reach.ts";
import { formatSize, MAX_SAVE_SIZE_KEY, NEVER_SAVE_KEY, type WorktreeCensus } from "./census.ts";
import { plural, preview } from "./naming.ts";

export interface Skipped {
  path: string;
  why: string;
}

export interface RiskReport {
  /** Work that would be lost, which --force saves (one phrase each). */
  work: string[];
  /** What orch cannot save: removal is refused even with --force. */
  unsavable: string[];
  /** Ignored files over the size limit: a reason to refuse without --force, skipped with it. */
  tooLarge: Skipped[];
  /** Never saved, by rule (build output), and state that does not survive (conflict stages…). */
  skipped: Skipped[];
}

const commitList = (r: OnlyReached) =>
  preview(
    r.commits.map((c) => `${c.sha} ${c.subject}`),
    3,
  ) + (r.total > r.commits.length && r.commits.length <= 3 ? ` … (${r.total} in all)` : "");

export interface RiskInput {
  census: WorktreeCensus | null;
  branch: string;
  base: string | null;
  branchCommits: OnlyReached;
  headCommits: OnlyReached;
  /** The worktree folder is gone, but git still has its index (staged changes), or null. */
  stagedOnly?: boolean;
}

function censusWork(c: WorktreeCensus, work: string[], unsavable: string[]): void {
  const uncommitted: StatusEntry[] = c.uncommitted;
  if (uncommitted.length) work.push(`${plural(uncommitted.length, "uncommitted change")} (${preview(uncommitted.map((e) => e.path))})`);
  if (c.ignored.length) work.push(`${plural(c.ignored.length, "ignored file")} whose content is only there (${preview(c.ignored.map((f) => f.path))})`);
  const movable = c.nested.filter((n) => !n.linked);
  if (movable.length) work.push(`${plural(movable.length, "nested git repository", "nested git repositories")} (${preview(movable.map((n) => n.path))})`);
  if (c.operation) work.push(`${c.operation} in progress`);
  const linked = c.nested.filter((n) => n.linked);
  if (linked.length)
    unsavable.push(
      `${plural(linked.length, "nested checkout")} whose repository lives elsewhere (${preview(linked.map((n) => n.path))}: its .git is a file — a submodule or another repository's worktree)`,
    );
  if (c.badNames.length) unsavable.push(`${plural(c.badNames.length, "file")} whose name is not valid UTF-8 (${preview(c.badNames)})`);
  const hasFiles = uncommitted.length || c.ignored.length || c.nested.length;
  if (!c.head && hasFiles) unsavable.push(`files on ${c.branch ? `branch ${c.branch}, which has no commit yet` : "a HEAD with no commit"} (commit them first)`);
}

/** What removing the worktree (and deleting its branch) would lose, in words. */
export function describeRisk(r: RiskInput): RiskReport {
  const work: string[] = [];
  const unsavable: string[] = [];
  if (r.census) censusWork(r.census, work, unsavable);
  if (r.stagedOnly) work.push("staged changes kept in git's record of the deleted folder");
  if (r.branchCommits.total) {
    const where = r.base && r.base !== r.branch ? `not merged into ${r.base}` : "on no other branch";
    work.push(`${plural(r.branchCommits.total, "commit")} ${where} (${commitList(r.branchCommits)})`);
  }
  if (r.headCommits.total)
    work.push(`${plural(r.headCommits.total, "commit")} on its detached HEAD that no branch or tag holds (${commitList(r.headCommits)})`);
  const c = r.census;
  const limit = c ? formatSize(c.rules.maxSaveSize) : "";
  const tooLarge = (c?.tooLarge ?? []).map((f) => ({ path: f.path, why: `ignored, ${formatSize(f.size)}: over the ${limit} limit (git config ${MAX_SAVE_SIZE_KEY})` }));
  const skipped = (c?.buildOutput ?? []).map(([path, rule]) => ({ path, why: `ignored build output: "${rule}" (git config ${NEVER_SAVE_KEY})` }));
  return { work, unsavable, tooLarge, skipped };
}

/** "it has A, B and C". */
export function joinWork(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}
