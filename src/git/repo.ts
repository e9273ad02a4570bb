/**
 * Repository-level questions and small operations: where the main worktree is, which branch is
 * checked out, what is uncommitted, what is not merged, config, refs. Paths and branch names only
 * (a revision argument is always a full ref name or a commit id); nothing here knows what a
 * stream is.
 */
import { commitMemo } from "./commit-memo.ts";
import { appendFileSync, existsSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { failed } from "../errors.ts";
import { git, gitMessage, gitOk, splitZ, trimLine } from "./git.ts";

export interface RepoInfo {
  /** Top level of the main worktree (first entry of `git worktree list`). */
  root: string;
  /** The shared .git directory. */
  commonDir: string;
}

export function repoInfo(cwd: string): RepoInfo {
  const r = git(cwd, ["rev-parse", "--path-format=absolute", "--git-common-dir", "--is-bare-repository"]);
  if (r.code !== 0) throw failed(`not a git repository: ${cwd} (worktrees need one: run "git init" and commit first)`);
  const [commonDir = "", bare] = r.stdout.trim().split("\n");
  if (bare === "true") throw failed(`${commonDir} is a bare repository: orch needs a main worktree`);
  // The usual layout: the main worktree holds .git. One spawn instead of two on every command.
  if (basename(commonDir) === ".git" && !hasCoreWorktree(commonDir)) {
    try {
      return { root: realpathSync(dirname(commonDir)), commonDir };
    } catch {
      // fall through to asking git
    }
  }
  const list = splitZ(gitOk(cwd, ["worktree", "list", "--porcelain", "-z"], "cannot list worktrees"));
  const first = list.find((l) => l.startsWith("worktree "));
  if (!first || list.includes("bare")) throw failed(`${commonDir} is a bare repository: orch needs a main worktree`);
  return { root: first.slice("worktree ".length), commonDir };
}

/** core.worktree moves the main worktree away from .git's parent: then only git can say where it is. */
function hasCoreWorktree(commonDir: string): boolean {
  try {
    return /^\s*worktree\s*=/m.test(readFileSync(join(commonDir, "config"), "utf8"));
  } catch {
    return false;
  }
}

/** The branch checked out in `path`, or null when HEAD is detached. */
export function currentBranch(path: string): string | null {
  const r = git(path, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
  return r.code === 0 ? trimLine(r.stdout) : null;
}

/** The full ref HEAD points at in `path` (even a branch with no commit yet), or null when detached. */
export function symbolicHead(path: string): string | null {
  const r = git(path, ["symbolic-ref", "--quiet", "HEAD"]);
  return r.code === 0 ? trimLine(r.stdout) : null;
}

/** The commit `rev` names, or null. */
export function resolveCommit(cwd: string, rev: string): string | null {
  const r = git(cwd, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`]);
  return r.code === 0 ? trimLine(r.stdout) : null;
}

export const branchCommit = (cwd: string, branch: string): string | null => resolveCommit(cwd, `refs/heads/${branch}`);

/** Every local branch and its tip, in one call. */
export function branchTips(cwd: string): Map<string, string> {
  const out = gitOk(cwd, ["for-each-ref", "--format=%(objectname) %(refname:strip=2)", "refs/heads/"], "cannot list branches");
  const tips = new Map<string, string>();
  for (const line of out.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp > 0) tips.set(line.slice(sp + 1), line.slice(0, sp));
  }
  return tips;
}

export function hasCommits(cwd: string): boolean {
  return resolveCommit(cwd, "HEAD") !== null;
}

export function isValidBranchName(cwd: string, name: string): boolean {
  return git(cwd, ["check-ref-format", "--branch", name]).code === 0;
}

export interface StatusEntry {
  /** The two-letter porcelain code: " M", "A ", "??", "UU"… */
  code: string;
  path: string;
  /** For renames and copies: where it came from. */
  from?: string;
}

/** `git status --porcelain -z`; ignored files never appear. */
export function statusEntries(path: string, opts: { untracked: boolean }): StatusEntry[] {
  const out = gitOk(
    path,
    ["status", "--porcelain=v1", "-z", `--untracked-files=${opts.untracked ? "all" : "no"}`],
    `cannot read the status of ${path}`,
  );
  const parts = splitZ(out);
  const entries: StatusEntry[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const e: StatusEntry = { code: p.slice(0, 2), path: p.slice(3) };
    if (e.code[0] === "R" || e.code[0] === "C") e.from = parts[++i];
    entries.push(e);
  }
  return entries;
}

/** True when `a` is an ancestor of (or equal to) `b`. */
const ancestry = commitMemo<boolean>();

export function isAncestor(cwd: string, a: string, b: string): boolean {
  return ancestry([a, b], () => isAncestorNow(cwd, a, b));
}

function isAncestorNow(cwd: string, a: string, b: string): boolean {
  const r = git(cwd, ["merge-base", "--is-ancestor", a, b]);
  if (r.code === 0) return true;
  if (r.code === 1) return false;
  throw failed(`cannot compare ${a} with ${b}: ${gitMessage(r)}`);
}

export interface CommitLine {
  sha: string;
  subject: string;
}

/** Commits reachable from `tip` but not from `base`, newest first. */
export function commitsNotIn(cwd: string, tip: string, base: string, limit = 1000): CommitLine[] {
  const out = gitOk(cwd, ["log", `--max-count=${limit}`, "--format=%h%x00%s%x00", `${base}..${tip}`, "--"], `cannot compare ${tip} with ${base}`);
  const parts = out.split("\0").map((s) => s.replace(/^\n/, ""));
  const commits: CommitLine[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) commits.push({ sha: parts[i]!, subject: parts[i + 1]! });
  return commits;
}

/** How far `tip` has moved from `base`: commits only on tip (ahead) and only on base (behind). */
export function aheadBehind(cwd: string, base: string, tip: string): { ahead: number; behind: number } {
  const out = gitOk(cwd, ["rev-list", "--left-right", "--count", `${base}...${tip}`, "--"], `cannot compare ${tip} with ${base}`);
  const [behind, ahead] = out.trim().split(/\s+/).map(Number);
  return { ahead: ahead ?? 0, behind: behind ?? 0 };
}

/** A merge, rebase, cherry-pick or revert left half-done in the worktree at `path`, if any. */
export function operationInProgress(path: string): string | null {
  const marks: [string, string][] = [
    ["MERGE_HEAD", "a merge"],
    ["rebase-merge", "a rebase"],
    ["rebase-apply", "a rebase or am"],
    ["CHERRY_PICK_HEAD", "a cherry-pick"],
    ["REVERT_HEAD", "a revert"],
  ];
  const out = gitOk(path, ["rev-parse", "--path-format=absolute", ...marks.flatMap(([m]) => ["--git-path", m])], `cannot inspect ${path}`);
  const paths = out.trim().split("\n");
  for (let i = 0; i < marks.length; i++) if (paths[i] && existsSync(paths[i]!)) return marks[i]![1];
  return null;
}

/**
 * Add ignore patterns to the repository's own `info/exclude` (never to a tracked file), so what
 * orch writes for itself does not show up in `git status` of the user's checkout.
 */
export function ensureExcluded(
  info: RepoInfo,
  patterns: readonly string[],
  why = "its worktrees, state and logs stay out of git status",
): string[] {
  const file = join(info.commonDir, "info", "exclude");
  const current = existsSync(file) ? readFileSync(file, "utf8") : "";
  const have = new Set(current.split("\n").map((l) => l.trim()));
  const missing = patterns.filter((p) => !have.has(p));
  if (missing.length) {
    mkdirSync(dirname(file), { recursive: true });
    const sep = current && !current.endsWith("\n") ? "\n" : "";
    appendFileSync(file, `${sep}# orch: ${why}\n${missing.join("\n")}\n`);
  }
  return missing;
}

export function getConfig(cwd: string, key: string): string | null {
  const r = git(cwd, ["config", "--get", key]);
  return r.code === 0 ? trimLine(r.stdout) : null;
}

/** An integer setting (git's k/m/g suffixes understood), or null when unset or not a number. */
export function getConfigInt(cwd: string, key: string): number | null {
  const r = git(cwd, ["config", "--type=int", "--get", key]);
  return r.code === 0 && /^-?\d+$/.test(trimLine(r.stdout)) ? Number(trimLine(r.stdout)) : null;
}

export function setConfig(cwd: string, key: string, value: string): void {
  gitOk(cwd, ["config", key, value], `cannot set git config ${key}`);
}

export function unsetConfig(cwd: string, key: string): void {
  git(cwd, ["config", "--unset-all", key]);
}

/**
 * Delete branch `branch` only while it still points at `expected` (compare-and-swap: a commit
 * made on it meanwhile keeps it), with its config section, as `git branch -D` would. False when
 * it had moved (and is kept).
 */
export function deleteBranchAt(cwd: string, branch: string, expected: string): boolean {
  if (git(cwd, ["update-ref", "-m", "orch: removed", "-d", `refs/heads/${branch}`, expected]).code !== 0) return false;
  git(cwd, ["config", "--remove-section", `branch.${branch}`]);
  return true;
}

/** Point a new ref at a commit; fails rather than overwrite an existing ref. */
export function createRef(cwd: string, ref: string, commit: string): void {
  gitOk(cwd, ["update-ref", "-m", "orch: saved", ref, commit, ""], `cannot write ${ref}`);
}

/** The git directory of a checkout (a linked worktree's own, under the common dir). */
export function gitDirOf(path: string): string {
  return trimLine(gitOk(path, ["rev-parse", "--absolute-git-dir"], `cannot inspect ${path}`));
}
