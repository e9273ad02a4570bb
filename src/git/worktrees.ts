/** `git worktree` as typed calls: list (porcelain, NUL-separated), add, remove, prune. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { failed } from "../errors.ts";
import { git, gitMessage, gitOk, splitZ } from "./git.ts";

export interface WorktreeEntry {
  path: string;
  head: string | null;
  /** Short branch name, or null when detached. */
  branch: string | null;
  bare: boolean;
  detached: boolean;
  locked: boolean;
  lockReason: string | null;
  /** git would prune it: its folder (or gitdir file) is gone. */
  prunable: boolean;
  /** The folder exists on disk right now. */
  present: boolean;
}

export function parseWorktreeList(out: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  let cur: WorktreeEntry | null = null;
  for (const line of splitZ(out)) {
    if (line === "") {
      cur = null;
      continue;
    }
    const sp = line.indexOf(" ");
    const key = sp === -1 ? line : line.slice(0, sp);
    const val = sp === -1 ? "" : line.slice(sp + 1);
    if (key === "worktree") {
      cur = { path: val, head: null, branch: null, bare: false, detached: false, locked: false, lockReason: null, prunable: false, present: false };
      entries.push(cur);
      continue;
    }
    if (!cur) continue;
    if (key === "HEAD") cur.head = val;
    else if (key === "branch") cur.branch = val.replace(/^refs\/heads\//, "");
    else if (key === "bare") cur.bare = true;
    else if (key === "detached") cur.detached = true;
    else if (key === "locked") {
      cur.locked = true;
      cur.lockReason = val || null;
    } else if (key === "prunable") cur.prunable = true;
  }
  return entries;
}

export function listWorktrees(repoRoot: string): WorktreeEntry[] {
  const entries = parseWorktreeList(gitOk(repoRoot, ["worktree", "list", "--porcelain", "-z"], "cannot list worktrees"));
  for (const e of entries) e.present = existsSync(e.path);
  return entries;
}

/**
 * Check out `branch` (a short branch name) at `path`, creating the branch from `startPoint` (a
 * full ref name or a commit id, so a tag of the same name never stands in) when given.
 */
export function addWorktree(repoRoot: string, path: string, branch: string, startPoint?: string): void {
  const args = startPoint
    ? ["worktree", "add", "-b", branch, "--", path, startPoint]
    : ["worktree", "add", "--", path, branch];
  const r = git(repoRoot, args);
  if (r.code !== 0) throw failed(`cannot create worktree ${path}: ${gitMessage(r)}`);
}

/** `git worktree remove`; `force` also removes a dirty or locked one (callers save first). */
export function removeWorktree(repoRoot: string, path: string, opts: { force: boolean; locked?: boolean }): void {
  const args = ["worktree", "remove", ...(opts.force ? ["--force"] : []), ...(opts.force && opts.locked ? ["--force"] : []), "--", path];
  const r = git(repoRoot, args);
  if (r.code !== 0) throw failed(`cannot remove worktree ${path}: ${gitMessage(r)}`);
}

/** Forget worktrees whose folders are gone; returns the paths git let go of. */
export function pruneWorktrees(repoRoot: string): string[] {
  const before = listWorktrees(repoRoot).filter((w) => w.prunable && !w.locked).map((w) => w.path);
  gitOk(repoRoot, ["worktree", "prune"], "cannot prune worktrees");
  const after = new Set(listWorktrees(repoRoot).map((w) => w.path));
  return before.filter((p) => !after.has(p));
}

/**
 * The administrative folder git keeps for the linked worktree at `path`
 * (`<common dir>/worktrees/<id>`: its HEAD, index, per-worktree refs), found by the `gitdir` file
 * that points back at it; null when there is none.
 */
export function adminDirOf(commonDir: string, path: string): string | null {
  const base = join(commonDir, "worktrees");
  let ids: string[];
  try {
    ids = readdirSync(base);
  } catch {
    return null;
  }
  for (const id of ids) {
    try {
      const gitdir = readFileSync(join(base, id, "gitdir"), "utf8").replace(/\n+$/, "");
      if (dirname(gitdir) === path) return join(base, id);
    } catch {
      // not a worktree's folder
    }
  }
  return null;
}
