/**
 * What a checkout holds beyond what `git status` shows: edits git was told not to look at
 * (assume-unchanged, skip-worktree), files it does not track at all (ignored ones included),
 * gitlinks, and whether a file's bytes survive a trip through git's filters. Paths relative to
 * the checkout, as git prints them (`-z`, never quoted).
 */
import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { git, gitBytes, gitOk, splitZ, trimLine } from "./git.ts";
import type { StatusEntry } from "./repo.ts";

export interface IndexEntry {
  /** `ls-files -v` tag: H tracked, S skip-worktree, lower case assume-unchanged… */
  tag: string;
  mode: string;
  blob: string;
  stage: number;
  path: string;
}

/** Every index entry with its tag (`git ls-files -v -s`). */
export function indexEntries(path: string): IndexEntry[] {
  const out = gitOk(path, ["ls-files", "-z", "-v", "-s"], `cannot read the index of ${path}`);
  const entries: IndexEntry[] = [];
  for (const line of splitZ(out)) {
    const tab = line.indexOf("\t");
    const [tag = "", mode = "", blob = "", stage = "0"] = line.slice(0, tab).split(" ");
    entries.push({ tag, mode, blob, stage: Number(stage), path: line.slice(tab + 1) });
  }
  return entries;
}

const isAssumeUnchanged = (e: IndexEntry) => e.tag !== e.tag.toUpperCase();
const isSkipWorktree = (e: IndexEntry) => e.tag.toUpperCase() === "S";

/** Entries git skips when it looks for changes: assume-unchanged or skip-worktree. */
export function hiddenEntries(entries: readonly IndexEntry[]): IndexEntry[] {
  return entries.filter((e) => e.stage === 0 && e.mode !== "160000" && (isAssumeUnchanged(e) || isSkipWorktree(e)));
}

/** Skip-worktree entries whose file is not on disk: a sparse checkout, not a deletion. */
export function sparseAbsent(root: string, entries: readonly IndexEntry[]): IndexEntry[] {
  return hiddenEntries(entries).filter((e) => isSkipWorktree(e) && lstatKind(join(root, e.path)) === null);
}

export type FileKind = "file" | "link" | "dir" | "other";

export function lstatKind(full: string): FileKind | null {
  try {
    const st = lstatSync(full);
    return st.isSymbolicLink() ? "link" : st.isFile() ? "file" : st.isDirectory() ? "dir" : "other";
  } catch {
    return null;
  }
}

/**
 * The blob ids of files on disk as `git add` would store them (its filters applied; a link's
 * target for a symbolic link); null for a path with nothing (or no file) there.
 */
export function diskBlobs(root: string, paths: readonly string[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const batch: string[] = [];
  for (const p of paths) {
    const full = join(root, p);
    const kind = lstatKind(full);
    if (kind === "link")
      out.set(p, trimLine(gitOk(root, ["hash-object", "-t", "blob", "--stdin", "--no-filters"], "cannot hash a link", { input: readlinkSync(full) })));
    else if (kind !== "file") out.set(p, null);
    else if (p.includes("\n")) out.set(p, trimLine(gitOk(root, ["hash-object", `--path=${p}`, "--", full], `cannot hash ${p}`)));
    else batch.push(p);
  }
  if (batch.length) {
    const ids = gitOk(root, ["hash-object", "--stdin-paths"], "cannot hash files", { input: `${batch.join("\n")}\n` }).trim().split("\n");
    batch.forEach((p, i) => out.set(p, ids[i] ?? null));
  }
  return out;
}

/**
 * Edits `git status` does not show: an assume-unchanged or skip-worktree file whose content on
 * disk differs from its index entry (" M"), or an assume-unchanged file deleted (" D"). A
 * skip-worktree file absent from disk is a sparse checkout, not an edit.
 */
export function hiddenEdits(root: string, entries: readonly IndexEntry[] = indexEntries(root)): StatusEntry[] {
  const hidden = hiddenEntries(entries);
  if (!hidden.length) return [];
  const blobs = diskBlobs(root, hidden.map((e) => e.path));
  const edits: StatusEntry[] = [];
  for (const e of hidden) {
    const now = blobs.get(e.path) ?? null;
    if (now === null) {
      if (isAssumeUnchanged(e) && lstatKind(join(root, e.path)) === null) edits.push({ code: " D", path: e.path });
      continue;
    }
    if (now !== e.blob) edits.push({ code: " M", path: e.path });
  }
  return edits;
}

/**
 * Files and folders git does not track in `root`, ignored ones included (`--directory`: a folder
 * nothing in is tracked is one entry ending in "/"; a nested repository is one too).
 */
export function untrackedAll(root: string): string[] {
  return splitZ(gitOk(root, ["ls-files", "-z", "--others", "--directory"], `cannot list untracked files in ${root}`));
}

/** Ignored files, and wholly ignored folders (ending in "/"), in `root`. */
export function ignoredEntries(root: string): string[] {
  return splitZ(gitOk(root, ["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"], `cannot list ignored files in ${root}`));
}

/** Untracked (and not ignored) files under `paths`: what `git add -A` would take. */
export function addableUntracked(cwd: string, paths: readonly string[]): string[] {
  if (!paths.length) return [];
  const r = git(cwd, ["ls-files", "-z", "--others", "--exclude-standard", "--", ...paths.map((p) => `:(literal)${p}`)]);
  return r.code === 0 ? splitZ(r.stdout) : [...paths];
}

/** Files under `paths` that git neither tracks nor shows because an ignore rule hides them. */
export function ignoredUntracked(cwd: string, paths: readonly string[]): string[] {
  if (!paths.length) return [];
  const r = git(cwd, ["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--", ...paths.map((p) => `:(literal)${p}`)]);
  return r.code === 0 ? splitZ(r.stdout) : [];
}

/** A blob as a checkout would write it at `path` (smudge, line endings), or null. */
function checkedOutBytes(root: string, blob: string, path: string): Buffer | null {
  return gitBytes(root, ["cat-file", "--filters", `--path=${path}`, blob]);
}

/** Parse `cat-file --batch` output: `<id> <type> <size>\n<bytes>\n` per object. */
function parseBatch(out: Buffer, count: number): (Buffer | null)[] {
  const found: (Buffer | null)[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const nl = out.indexOf(10, at);
    if (nl < 0) break;
    const header = out.subarray(at, nl).toString();
    if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
      found.push(null);
      at = nl + 1;
      continue;
    }
    const size = Number(header.slice(header.lastIndexOf(" ") + 1));
    found.push(out.subarray(nl + 1, nl + 1 + size));
    at = nl + 1 + size + 1;
  }
  while (found.length < count) found.push(null);
  return found;
}

export interface SavedPath {
  path: string;
  mode: string;
  blob: string;
}

/**
 * The paths whose bytes on disk differ from what checking out `saved` would write there: the
 * proof that a snapshot brings a file back byte for byte (a link: its target).
 */
export function notRoundTripping(root: string, saved: readonly SavedPath[]): string[] {
  const bad: string[] = [];
  const batch: SavedPath[] = [];
  for (const s of saved) {
    const full = join(root, s.path);
    const kind = lstatKind(full);
    if (s.mode === "120000") {
      const target = kind === "link" ? readlinkSync(full) : null;
      const blob = gitBytes(root, ["cat-file", "blob", s.blob]);
      if (target === null || !blob || blob.toString() !== target) bad.push(s.path);
    } else if (kind !== "file") bad.push(s.path);
    else if (s.path.includes("\n")) {
      const want = checkedOutBytes(root, s.blob, s.path);
      if (!want || !want.equals(readFileSync(full))) bad.push(s.path);
    } else batch.push(s);
  }
  if (batch.length) {
    const out = gitBytes(root, ["cat-file", "--batch", "--filters"], { input: batch.map((s) => `${s.blob} ${s.path}\n`).join("") });
    const blobs = out ? parseBatch(out, batch.length) : batch.map(() => null);
    batch.forEach((s, i) => {
      const want = blobs[i];
      if (!want || !want.equals(readFileSync(join(root, s.path)))) bad.push(s.path);
    });
  }
  return bad;
}

/** Whether `path` (relative to `root`, tracked or not) matches an ignore rule there (.gitignore, info/exclude, global). */
export function isIgnoredPath(root: string, path: string): boolean {
  return git(root, ["check-ignore", "-q", "--no-index", "--", path]).code === 0;
}
