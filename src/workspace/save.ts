/**
 * Saving what a worktree alone holds before orch deletes it, where the printed steps bring it
 * back: commits and files as refs under `refs/orch/saved/<branch>/<timestamp>` (a snapshot
 * checked byte for byte first), nested repositories moved whole to
 * `<git dir>/orch/saved/<branch>/<timestamp>/<path>`. Also `pruneSafely`: git's `worktree prune`
 * after saving the HEAD and index of every registration it is about to forget.
 */
import { mkdirSync, renameSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { conflict } from "../errors.ts";
import { commitsOnlyFrom, refTips } from "../git/reach.ts";
import { createRef, isValidBranchName, resolveCommit } from "../git/repo.ts";
import { indexCommit, type Snapshot } from "../git/snapshot.ts";
import { adminDirOf, listWorktrees, pruneWorktrees } from "../git/worktrees.ts";
import type { NestedRepo } from "./census.ts";
import { lockPath, withFileLockSync } from "./lock.ts";
import { rel, savedRefName, shellWord } from "./naming.ts";
import { restoreSteps, type RestorePlan } from "./restore.ts";

export interface SavedRef {
  ref: string;
  commit: string;
  /** "worktree" (HEAD, index and files) or "branch" (the deleted branch's tip). */
  holds: "worktree" | "branch";
}

export interface SavedWork {
  /** The main ref: the worktree's, else the branch's. */
  ref: string;
  commit: string;
  /** Uncommitted changes (staged, unstaged, untracked, ignored) are in it. */
  includesUncommitted: boolean;
  refs: SavedRef[];
  /** Nested repositories moved out whole: path in the worktree → where it is now (absolute). */
  moved: { path: string; to: string }[];
  /** What was saved, one phrase each. */
  items: string[];
  /** Shell commands that bring it back, run in `restoreIn`. */
  restore: string[];
  restoreIn: string;
}

/** A saved-ref name no earlier save used (nor its `-branch` twin). */
export function uniqueSavedRef(root: string, name: string): string {
  const free = (r: string) => !resolveCommit(root, r) && !resolveCommit(root, `${r}-branch`);
  const ref = savedRefName(name);
  if (free(ref)) return ref;
  for (let i = 1; ; i++) if (free(`${ref}-${i}`)) return `${ref}-${i}`;
}

/** Move nested repositories out of the worktree (a rename: every byte, every branch). All or none. */
function moveNested(root: string, commonDir: string, wt: string, ref: string, nested: readonly NestedRepo[]): { path: string; to: string }[] {
  const dir = join(commonDir, "orch", "saved", ref.slice("refs/orch/saved/".length));
  const moved: { path: string; to: string }[] = [];
  try {
    for (const n of nested) {
      const to = join(dir, n.path);
      mkdirSync(dirname(to), { recursive: true });
      renameSync(join(wt, n.path), to);
      moved.push({ path: n.path, to });
    }
  } catch (err) {
    for (const m of moved.reverse()) renameSync(m.to, join(wt, m.path));
    throw conflict(`cannot move the nested repository out of ${rel(root, wt)} to save it (${(err as Error).message}); nothing was removed`);
  }
  return moved;
}

export interface SaveInput {
  root: string;
  commonDir: string;
  wt: string;
  snapshot: Snapshot | null;
  /** The branch's tip when the commits at risk were counted. */
  branchTip: string | null;
  nested: readonly NestedRepo[];
  /** What is saved, in words (the removal's risk report). */
  items: string[];
  plan: Omit<RestorePlan, "worktreeRef" | "index" | "work" | "branchRef" | "nested">;
}

/** Write the refs and move the nested repositories; returns what was saved and how to restore it. */
export function saveRemoval(s: SaveInput): SavedWork {
  const { root, snapshot, plan } = s;
  const attached = plan.head.kind === "branch";
  const ref = uniqueSavedRef(root, plan.branch);
  const movable = s.nested.filter((n) => !n.linked);
  // The worktree's own ref: whenever it holds changes, or HEAD is not on the stream's branch (so
  // the restore puts HEAD back where it was), or it is how the deleted branch comes back.
  let worktreeCommit = snapshot && (snapshot.tip !== snapshot.head || !attached || plan.branchDeleted) ? snapshot.tip : null;
  // A deleted branch comes back where it was (from the worktree's ref when HEAD was on it), even
  // when another ref holds its commits.
  const branchTip = plan.branchDeleted && !(attached && worktreeCommit) ? s.branchTip : null;
  // Work was found, so something is saved, whatever its kind (an operation in progress on a clean tree).
  if (snapshot && !worktreeCommit && !branchTip && !movable.length) worktreeCommit = snapshot.tip;
  const moved = moveNested(root, s.commonDir, s.wt, ref, movable);
  const refs: SavedRef[] = [];
  try {
    if (worktreeCommit) refs.push({ ref, commit: worktreeCommit, holds: "worktree" });
    if (branchTip) refs.push({ ref: worktreeCommit ? `${ref}-branch` : ref, commit: branchTip, holds: "branch" });
    for (const r of refs) createRef(root, r.ref, r.commit);
  } catch (err) {
    for (const m of [...moved].reverse()) renameSync(m.to, join(s.wt, m.path));
    throw err;
  }
  const worktreeRef = refs.find((r) => r.holds === "worktree")?.ref ?? null;
  const restore = restoreSteps({
    ...plan,
    worktreeRef,
    index: !!(worktreeRef && snapshot?.index),
    work: !!(worktreeRef && snapshot?.work),
    branchRef: refs.find((r) => r.holds === "branch")?.ref ?? null,
    nested: moved.map((m) => ({ from: relative(root, m.to), to: m.path, tracked: s.nested.some((n) => n.path === m.path && n.tracked) })),
  });
  const main = refs[0];
  return {
    ref: main?.ref ?? relative(root, join(s.commonDir, "orch", "saved", ref.slice("refs/orch/saved/".length))),
    commit: main?.commit ?? "",
    includesUncommitted: !!snapshot && snapshot.tip !== snapshot.head,
    refs,
    moved,
    items: s.items,
    restore,
    restoreIn: root,
  };
}

// ── prune ───────────────────────────────────────────────────────────────────

export interface PrunedSave {
  worktreePath: string;
  ref: string;
  commit: string;
  /** What was saved, in words. */
  items: string[];
  restore: string[];
  restoreIn: string;
}

const refComponent = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[.-]+|[.]+$|\.lock$/g, "") || "worktree";

/**
 * `git worktree prune`, after saving what each registration it would forget alone holds: the
 * commits of a detached HEAD no ref reaches, and staged changes in its index (the folder and its
 * files are already gone). Under the repository's prune lock.
 */
export function pruneSafely(root: string, commonDir: string): { pruned: string[]; saved: PrunedSave[] } {
  return withFileLockSync(lockPath(commonDir, "prune"), "prune of worktrees", () => {
    const entries = listWorktrees(root);
    const going = entries.filter((w) => w.prunable && !w.locked);
    const others = [...refTips(root).map((t) => t.commit), ...entries.filter((w) => !going.includes(w) && w.head).map((w) => w.head!)];
    const saved: PrunedSave[] = [];
    for (const w of going) {
      const s = saveRegistration(root, commonDir, w, others);
      if (s) {
        saved.push(s);
        others.push(s.commit);
      }
    }
    return { pruned: pruneWorktrees(root), saved };
  });
}

function saveRegistration(root: string, commonDir: string, w: { path: string; head: string | null; branch: string | null }, others: readonly string[]): PrunedSave | null {
  const head = w.head && !/^0+$/.test(w.head) ? w.head : null;
  if (!head) return null;
  const headOnly = w.branch ? { total: 0 } : commitsOnlyFrom(root, [head], others);
  const admin = adminDirOf(commonDir, w.path);
  const staged = admin ? indexCommit(root, join(admin, "index"), head, `orch: staged changes of the deleted worktree ${w.path}`).commit : null;
  if (!headOnly.total && !staged) return null;
  const name = w.branch && isValidBranchName(root, w.branch) ? w.branch : `detached-${refComponent(basename(w.path))}`;
  const ref = uniqueSavedRef(root, name);
  const commit = staged ?? head;
  createRef(root, ref, commit);
  const where = rel(root, w.path);
  const g = (...a: string[]) => ["git", "-C", where, ...a].map(shellWord).join(" ");
  const items = [
    ...(headOnly.total ? [`${headOnly.total} commit${headOnly.total === 1 ? "" : "s"} on its detached HEAD that no branch or tag holds`] : []),
    ...(staged ? ["its staged changes"] : []),
  ];
  const restore = [
    ["git", "worktree", "add", "--detach", "--", where, ref].map(shellWord).join(" "),
    ...(staged ? [g("reset", "-q", "--soft", "HEAD~1")] : []),
    ...(w.branch ? [g("switch", "-q", w.branch)] : []),
  ];
  return { worktreePath: w.path, ref, commit, items, restore, restoreIn: root };
}
