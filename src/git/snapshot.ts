/**
 * A worktree saved as commits without touching its index or files, in the shape that `git reset`
 * undoes: HEAD ← I (the index, when it differs from HEAD) ← W (the files, when they differ from
 * the index). Checking out W and running `git reset HEAD~1` (then `git reset --soft HEAD~1` when
 * I exists) gives back HEAD, the index and every file. Each saved file is then checked: what a
 * checkout of W would write at its path must be the bytes on disk (a file git's filters would
 * change is stored raw instead; one that still would not come back is reported, not claimed).
 */
import { copyFileSync, existsSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { notFound } from "../errors.ts";
import { hiddenEntries, indexEntries, notRoundTripping, sparseAbsent, type SavedPath } from "./files.ts";
import { git, gitOk, splitZ, trimLine } from "./git.ts";

export interface SnapshotInput {
  /** The worktree. */
  path: string;
  /** Its HEAD commit. */
  head: string;
  /** Ignored files to save too (paths relative to the worktree). */
  ignored: readonly string[];
  /** Folders left out (nested repositories saved another way). */
  exclude: readonly string[];
  message: string;
}

export interface Snapshot {
  head: string;
  /** The index as a commit on HEAD; null when it equals HEAD's tree or could not be saved. */
  index: string | null;
  /** The files as a commit on the index (or HEAD); null when they equal it. */
  work: string | null;
  /** work ?? index ?? head. */
  tip: string;
  /** Why the index is not saved as it is (unresolved conflicts), or null. */
  indexUnsaved: string | null;
  /** Files whose bytes a checkout would not give back, even stored raw. */
  inexact: string[];
  /** Files stored raw (without git's filters) so that their bytes come back. */
  raw: string[];
}

const scratchName = (what: string) => join(tmpdir(), `orch-${what}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.index`);

function withScratch<T>(fn: (index: string) => T): T {
  const index = scratchName("snapshot");
  try {
    return fn(index);
  } finally {
    rmSync(index, { force: true });
    rmSync(`${index}.lock`, { force: true });
  }
}

const treeOf = (cwd: string, rev: string) => trimLine(gitOk(cwd, ["rev-parse", `${rev}^{tree}`], "cannot snapshot the worktree"));

/** The tree of the index file `real`, written from a copy (write-tree would refresh the real one). */
function indexTree(path: string, real: string): { tree: string | null; why: string | null } {
  if (!existsSync(real)) return { tree: null, why: null };
  return withScratch((copy) => {
    copyFileSync(real, copy);
    const r = git(path, ["write-tree"], { env: { GIT_INDEX_FILE: copy } });
    if (r.code === 0) return { tree: trimLine(r.stdout), why: null };
    return { tree: null, why: "its index has unresolved conflicts (the conflict stages are not saved; the files are, as they are)" };
  });
}

/**
 * The index file `indexFile` (a worktree's, even one whose folder is gone) as a commit on `head`,
 * or null when it holds nothing HEAD does not (or cannot be written: `why`).
 */
export function indexCommit(cwd: string, indexFile: string, head: string, message: string): { commit: string | null; tree: string | null; why: string | null } {
  const idx = indexTree(cwd, indexFile);
  if (!idx.tree || idx.tree === treeOf(cwd, head)) return { commit: null, tree: idx.tree, why: idx.why };
  return { commit: commitTree(cwd, idx.tree, head, message), tree: idx.tree, why: null };
}

function commitTree(path: string, tree: string, parent: string, message: string): string {
  return trimLine(gitOk(path, ["commit-tree", tree, "-p", parent, "-m", message], "cannot snapshot the worktree", { env: fallbackIdentity(path) }));
}

/** A snapshot must succeed where no identity is configured; a configured one always wins. */
export function fallbackIdentity(path: string): Record<string, string> {
  if (git(path, ["var", "GIT_COMMITTER_IDENT"]).code === 0 && git(path, ["var", "GIT_AUTHOR_IDENT"]).code === 0) return {};
  return { GIT_AUTHOR_NAME: "orch", GIT_AUTHOR_EMAIL: "orch@localhost", GIT_COMMITTER_NAME: "orch", GIT_COMMITTER_EMAIL: "orch@localhost" };
}

/**
 * The files as a tree, built in `scratch`: a copy of the real index (its stat data spares
 * hashing unchanged files; its timestamp kept so racily-clean entries are still re-read), with
 * the assume-unchanged and skip-worktree marks cleared so hidden edits are seen; then everything
 * `git add -A` takes, the ignored files named, and sparse (absent skip-worktree) entries kept.
 */
function filesTree(input: SnapshotInput, gitDir: string, scratch: string, baseTree: string): string {
  const { path } = input;
  const env = { GIT_INDEX_FILE: scratch };
  const what = "cannot snapshot the worktree";
  const entries = indexEntries(path);
  const real = join(gitDir, "index");
  if (existsSync(real)) {
    copyFileSync(real, scratch);
    const st = statSync(real);
    utimesSync(scratch, st.atime, st.mtime);
  } else gitOk(path, ["read-tree", baseTree], what, { env });
  const hidden = hiddenEntries(entries).map((e) => e.path);
  if (hidden.length) {
    const input0 = `${hidden.join("\0")}\0`;
    gitOk(path, ["update-index", "--no-assume-unchanged", "-z", "--stdin"], what, { env, input: input0 });
    gitOk(path, ["update-index", "--no-skip-worktree", "-z", "--stdin"], what, { env, input: input0 });
  }
  gitOk(path, ["add", "-A", "--", ".", ...input.exclude.map((p) => `:(exclude,literal)${p}`)], what, { env });
  if (input.ignored.length)
    gitOk(path, ["--literal-pathspecs", "add", "-f", "--pathspec-from-file=-", "--pathspec-file-nul"], what, { env, input: `${input.ignored.join("\0")}\0` });
  const sparse = sparseAbsent(path, entries);
  if (sparse.length)
    gitOk(path, ["update-index", "-z", "--index-info"], what, { env, input: sparse.map((e) => `${e.mode} ${e.blob} 0\t${e.path}\0`).join("") });
  return trimLine(gitOk(path, ["write-tree"], what, { env }));
}

/** What the snapshot holds at each path it changes from `base` (deletions have no blob). */
function changedEntries(path: string, base: string, tree: string, also: readonly string[]): { saved: SavedPath[]; deleted: string[] } {
  const out = splitZ(gitOk(path, ["diff-tree", "-r", "-z", "--no-renames", base, tree], "cannot check the snapshot"));
  const saved: SavedPath[] = [];
  const deleted: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i + 1 < out.length; i += 2) {
    const [, newMode = "", , newBlob = ""] = out[i]!.slice(1).split(" ");
    const p = out[i + 1]!;
    seen.add(p);
    if (/^0+$/.test(newMode)) deleted.push(p);
    else if (newMode !== "160000") saved.push({ path: p, mode: newMode, blob: newBlob });
  }
  const missing = also.filter((p) => !seen.has(p));
  if (missing.length) {
    // Named ignored files identical to what the base holds there already: checked too.
    const ls = splitZ(gitOk(path, ["ls-tree", "-z", tree, "--", ...missing.map((p) => `:(literal)${p}`)], "cannot check the snapshot"));
    for (const l of ls) {
      const tab = l.indexOf("\t");
      const [mode = "", , blob = ""] = l.slice(0, tab).split(" ");
      saved.push({ path: l.slice(tab + 1), mode, blob });
    }
  }
  return { saved, deleted };
}

/** Store `paths` as their raw bytes (no filters) in the scratch index; returns the new tree. */
function storeRaw(path: string, scratch: string, entries: readonly SavedPath[]): string {
  const env = { GIT_INDEX_FILE: scratch };
  const lines: string[] = [];
  for (const e of entries) {
    if (e.mode === "120000") continue;
    const blob = trimLine(gitOk(path, ["hash-object", "-w", "--no-filters", "--", join(path, e.path)], `cannot save ${e.path}`));
    lines.push(`${e.mode} ${blob} 0\t${e.path}\0`);
  }
  if (lines.length) gitOk(path, ["update-index", "-z", "--index-info"], "cannot snapshot the worktree", { env, input: lines.join("") });
  return trimLine(gitOk(path, ["write-tree"], "cannot snapshot the worktree", { env }));
}

/** Save the worktree at `input.path` as commits (see the file comment). Writes no ref. */
export function snapshotWorktree(input: SnapshotInput): Snapshot {
  const { path, head } = input;
  if (!head) throw notFound(`nothing to save in ${path}: it has no commit checked out`);
  const gitDir = trimLine(gitOk(path, ["rev-parse", "--absolute-git-dir"], `cannot inspect ${path}`));
  const headTree = treeOf(path, head);
  const idx = indexCommit(path, join(gitDir, "index"), head, `${input.message}\n\nThe index (staged changes).`);
  const index = idx.commit;
  const base = index ?? head;
  const baseTree = index ? idx.tree! : headTree;
  return withScratch((scratch) => {
    let tree = filesTree(input, gitDir, scratch, baseTree);
    let { saved } = changedEntries(path, baseTree, tree, input.ignored);
    let bad = notRoundTripping(path, saved);
    const raw: string[] = [];
    if (bad.length) {
      const set = new Set(bad);
      tree = storeRaw(path, scratch, saved.filter((s) => set.has(s.path)));
      raw.push(...bad);
      saved = changedEntries(path, baseTree, tree, input.ignored).saved.filter((s) => set.has(s.path));
      bad = notRoundTripping(path, saved);
    }
    const work = tree !== baseTree ? commitTree(path, tree, base, `${input.message}\n\nThe files (unstaged, untracked and ignored).`) : null;
    const badSet = new Set(bad);
    return { head, index, work, tip: work ?? base, indexUnsaved: idx.why, inexact: bad, raw: raw.filter((p) => !badSet.has(p)) };
  });
}
