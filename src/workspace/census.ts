/**
 * What a worktree holds that nothing else does — everything its removal could lose:
 *   - changes git shows (staged, unstaged, untracked) and those it hides: an edited
 *     assume-unchanged or skip-worktree file, an edited copy orch made (excluded from status);
 *   - ignored files whose content is not the same file in the main checkout (an edited `.env`);
 *     ignored build output (`orch.neverSave`) and files over `orch.maxSaveSize` are named, not kept;
 *   - nested git repositories (their own commits, branches and files);
 *   - commits no ref and no other worktree reaches: a detached HEAD's, a branch about to go;
 *   - a merge, rebase… in progress; file names that are not valid UTF-8 (orch cannot name them).
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { ALWAYS_COPY, resolveWorktreeSetup } from "./config.ts";
import { hiddenEdits, ignoredEntries, ignoredUntracked, indexEntries, lstatKind } from "../git/files.ts";
import { commitsOnlyFrom, refTips, type OnlyReached } from "../git/reach.ts";
import { getConfig, getConfigInt, operationInProgress, resolveCommit, statusEntries, symbolicHead, type StatusEntry } from "../git/repo.ts";
import { listWorktrees } from "../git/worktrees.ts";
import { headsRef, samePath } from "./naming.ts";

// ── the rule for ignored files ──────────────────────────────────────────────

export const NEVER_SAVE_KEY = "orch.neverSave";
export const MAX_SAVE_SIZE_KEY = "orch.maxSaveSize";
/** Ignored folders and files by these names (any path component; `*` wildcards) are build output. */
export const DEFAULT_NEVER_SAVE = [
  "node_modules", "dist", "build", "out", "target", ".next", ".nuxt", ".svelte-kit", ".turbo", ".cache",
  ".parcel-cache", "coverage", "__pycache__", ".pytest_cache", ".mypy_cache", ".venv", "venv", ".tox", ".gradle",
] as const;
export const DEFAULT_MAX_SAVE_SIZE = 5 * 1024 * 1024;

export interface IgnoredRules {
  neverSave: string[];
  maxSaveSize: number;
}

/** `git config orch.neverSave "node_modules dist …"` replaces the list; `orch.maxSaveSize 20m` the limit. */
export function ignoredRules(root: string): IgnoredRules {
  const names = getConfig(root, NEVER_SAVE_KEY);
  const size = getConfigInt(root, MAX_SAVE_SIZE_KEY);
  return {
    neverSave: names === null ? [...DEFAULT_NEVER_SAVE] : names.split(/[\s,]+/).filter(Boolean),
    maxSaveSize: size !== null && size >= 0 ? size : DEFAULT_MAX_SAVE_SIZE,
  };
}

const globRe = (g: string) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, ".*")}$`);

/** The rule that makes `path` build output, if any (matched against each path component). */
export function neverSaveMatch(path: string, names: readonly string[]): string | null {
  const parts = path.split("/").filter(Boolean);
  for (const n of names) {
    const re = globRe(n);
    if (parts.some((p) => re.test(p))) return n;
  }
  return null;
}

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// ── uncommitted changes (what list, merge and remove call "uncommitted") ────

function sameFile(a: string, b: string): boolean {
  try {
    const sa = lstatSync(a);
    const sb = lstatSync(b);
    if (sa.isSymbolicLink() && sb.isSymbolicLink()) return readlinkSync(a) === readlinkSync(b);
    if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

function copiedPaths(root: string): string[] {
  try {
    return resolveWorktreeSetup(root).copy;
  } catch {
    return [...ALWAYS_COPY]; // a broken config file must not hide work
  }
}

/**
 * Uncommitted changes in a worktree: staged, unstaged and untracked (what `git status` shows),
 * edits to assume-unchanged and skip-worktree files (which it does not), and edited copies of the
 * files orch copies in (kept out of status by .git/info/exclude). An untracked file identical to
 * the same path in the main checkout (the `.mcp.json` orch copied) is not work.
 */
export function uncommittedChanges(root: string, worktreePath: string): StatusEntry[] {
  const shown = statusEntries(worktreePath, { untracked: true });
  const seen = new Set(shown.map((e) => e.path));
  const hidden = hiddenEdits(worktreePath).filter((e) => !seen.has(e.path));
  for (const e of hidden) seen.add(e.path);
  const copies = ignoredUntracked(worktreePath, copiedPaths(root))
    .filter((p) => !seen.has(p))
    .map((path): StatusEntry => ({ code: "??", path }));
  return [...shown, ...hidden, ...copies].filter((e) => !(e.code === "??" && sameFile(join(worktreePath, e.path), join(root, e.path))));
}

// ── the whole census ────────────────────────────────────────────────────────

export interface SizedPath {
  path: string;
  size: number;
}

export interface NestedRepo {
  path: string;
  /** Its `.git` is a file (a submodule, another repository's worktree): orch cannot save it. */
  linked: boolean;
  /** A gitlink in the index (a submodule's folder): a checkout recreates it empty. */
  tracked: boolean;
  /** Inside an ignored folder (git add never takes it). */
  ignored: boolean;
}

export interface WorktreeCensus {
  head: string | null;
  /** Short name of the branch checked out, or null (detached HEAD, or no commit yet). */
  branch: string | null;
  uncommitted: StatusEntry[];
  /** Ignored files holding content the main checkout does not have at that path (to save). */
  ignored: SizedPath[];
  /** Ignored files over the size limit. */
  tooLarge: SizedPath[];
  /** Ignored build output, by rule: `[path, rule]`. */
  buildOutput: [string, string][];
  nested: NestedRepo[];
  /** Paths whose names are not valid UTF-8. */
  badNames: string[];
  operation: string | null;
  rules: IgnoredRules;
}

const badName = (p: string) => p.includes("\uFFFD");

function nestedAt(full: string): NestedRepo["linked"] | null {
  const kind = lstatKind(join(full, ".git"));
  return kind === "dir" ? false : kind === "file" ? true : null;
}

interface Walk {
  root: string;
  wt: string;
  rules: IgnoredRules;
  out: WorktreeCensus;
  known: Set<string>;
}

/** One ignored file: work unless the main checkout has the same file there. */
function consider(w: Walk, path: string): void {
  if (w.known.has(path)) return;
  const full = join(w.wt, path);
  let st;
  try {
    st = lstatSync(full);
  } catch {
    return;
  }
  if (!st.isFile() && !st.isSymbolicLink()) return; // fifos, sockets: no content
  if (sameFile(full, join(w.root, path))) return;
  const size = st.isFile() ? st.size : 0;
  (size > w.rules.maxSaveSize ? w.out.tooLarge : w.out.ignored).push({ path, size });
}

/** An ignored folder: its files, its nested repositories, its build output. */
function walkIgnored(w: Walk, dir: string): void {
  let names: string[];
  try {
    names = readdirSync(join(w.wt, dir));
  } catch {
    return;
  }
  for (const name of names.sort()) {
    const path = `${dir}/${name}`;
    if (badName(name)) {
      w.out.badNames.push(path);
      continue;
    }
    const rule = neverSaveMatch(name, w.rules.neverSave);
    const kind = lstatKind(join(w.wt, path));
    if (kind === "dir") {
      const nested = nestedAt(join(w.wt, path));
      if (rule) w.out.buildOutput.push([`${path}/`, rule]);
      else if (nested !== null) w.out.nested.push({ path, linked: nested, tracked: false, ignored: true });
      else walkIgnored(w, path);
    } else if (rule) w.out.buildOutput.push([path, rule]);
    else consider(w, path);
  }
}

function censusIgnored(w: Walk): void {
  for (const e of ignoredEntries(w.wt)) {
    if (badName(e)) {
      w.out.badNames.push(e);
      continue;
    }
    const path = e.replace(/\/$/, "");
    const rule = neverSaveMatch(path, w.rules.neverSave);
    if (rule) w.out.buildOutput.push([e, rule]);
    else if (!e.endsWith("/")) consider(w, path);
    else {
      const nested = nestedAt(join(w.wt, path));
      if (nested !== null) w.out.nested.push({ path, linked: nested, tracked: false, ignored: true });
      else walkIgnored(w, path);
    }
  }
}

/** Everything in the worktree at `wt` that its removal could lose (commits aside: `commitsAtRisk`). */
export function worktreeCensus(root: string, wt: string): WorktreeCensus {
  const rules = ignoredRules(root);
  const out: WorktreeCensus = {
    head: resolveCommit(wt, "HEAD"),
    branch: checkedOutBranch(wt),
    uncommitted: [],
    ignored: [],
    tooLarge: [],
    buildOutput: [],
    nested: [],
    badNames: [],
    operation: operationInProgress(wt),
    rules,
  };
  const changes = uncommittedChanges(root, wt);
  // Nested checkouts: untracked ones (`?? dir/`) and initialised submodules (gitlinks).
  const gitlinks = indexEntries(wt).filter((e) => e.mode === "160000").map((e) => e.path);
  for (const p of [...changes.filter((e) => e.code === "??" && e.path.endsWith("/")).map((e) => e.path.slice(0, -1)), ...gitlinks]) {
    const nested = nestedAt(join(wt, p));
    if (nested !== null && !out.nested.some((n) => n.path === p)) out.nested.push({ path: p, linked: nested, tracked: gitlinks.includes(p), ignored: false });
  }
  const nestedSet = new Set(out.nested.map((n) => n.path));
  out.uncommitted = changes.filter((e) => !nestedSet.has(e.path.replace(/\/$/, "")));
  out.badNames.push(...out.uncommitted.map((e) => e.path).filter(badName));
  censusIgnored({ root, wt, rules, out, known: new Set(out.uncommitted.map((e) => e.path)) });
  return out;
}

function checkedOutBranch(wt: string): string | null {
  const ref = symbolicHead(wt);
  return ref?.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : null;
}

// ── commits ─────────────────────────────────────────────────────────────────

export interface CommitsAtRisk {
  /** On the branch about to be deleted, on no other ref and in no other worktree. */
  branch: OnlyReached;
  /** On the worktree's detached HEAD (or its unborn branch's tip), on nothing else. */
  head: OnlyReached;
}

const NONE: OnlyReached = { commits: [], total: 0 };

/**
 * Commits that would be lost with the worktree at `wt` (HEAD `head`) and, when `deleting`, the
 * branch `branch` (at `branchTip`): everything else — every ref by its full name, every other
 * worktree's HEAD — keeps what it reaches.
 */
export function commitsAtRisk(root: string, c: { wt: string; head: string | null; branch: string; branchTip: string | null; deleting: boolean }): CommitsAtRisk {
  const drop = c.deleting ? headsRef(c.branch) : null;
  const others = refTips(root)
    .filter((t) => t.ref !== drop)
    .map((t) => t.commit);
  for (const w of listWorktrees(root)) if (w.head && !samePath(w.path, c.wt) && w.path !== c.wt) others.push(w.head);
  const branch = c.deleting && c.branchTip ? commitsOnlyFrom(root, [c.branchTip], others) : NONE;
  const viaBranch = c.deleting && c.branchTip ? [c.branchTip] : [];
  const head = c.head && c.head !== c.branchTip ? commitsOnlyFrom(root, [c.head], [...others, ...viaBranch]) : NONE;
  return { branch, head };
}
