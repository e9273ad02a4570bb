/**
 * A clean merge committed so that a crash at any instant (kill -9 of orch and its git) never
 * leaves the checkout mid-merge. `git merge` writes MERGE_HEAD, updates the files and the index
 * under `index.lock`, commits, then removes MERGE_HEAD: killed in between it leaves a stale lock
 * that blocks every git command, half-written files, or a MERGE_HEAD after the commit (measured
 * here: half of the kills of a 400-file merge).
 *
 * Here the merge commit is made first with `commit-tree` (an object only, nothing visible), then
 * the checkout moves in steps each atomic or undoable, after a journal says what is under way:
 *   1. journal `<git-dir>/orch-merge.json` (written by rename): branch, old and new tip;
 *   2. `read-tree -m -u OLD NEW` on a private copy of the index writes the files (it refuses,
 *      before writing anything, when local changes or untracked files are in the way); the
 *      journal then records the private index's inode;
 *   3. index.lock taken by hard-linking the private index to it: the lock already holds the new
 *      index, and is recognisable later by its inode, never mistaken for another git's lock;
 *   4. `update-ref BRANCH NEW OLD` moves the branch (compare-and-swap);
 *   5. the lock renamed over `index`: new index in place and lock released in one step;
 *   6. the journal goes.
 * No MERGE_HEAD ever; index.lock is held only around step 4. After a crash,
 * `recoverInterruptedMerge` (run before any merge) finishes what step 4 committed, or puts back
 * the files step 2 had begun to change (a file half-written by a killed git included).
 */
import { closeSync, copyFileSync, existsSync, linkSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { conflict, failed } from "../errors.ts";
import { git, gitBytes, gitMessage, gitOk, splitZ, trimLine } from "./git.ts";
import { pidAlive, sleepSync } from "../sys/process.ts";

const JOURNAL = "orch-merge.json";
const WORK_INDEX = "orch-merge-work.index";
const RESTORE_INDEX = "orch-merge-restore.index";

interface Journal {
  version: 1;
  pid: number;
  /** Start time of the process (Linux: /proc/<pid>/stat field 22), so a reused pid is not "alive". */
  pidStart: string | null;
  startedAt: string;
  branch: string;
  from: string;
  to: string;
  /** Inode of the private index once read-tree wrote it (it is hard-linked as index.lock in step 3). */
  workIno: number | null;
  what: string;
}

export interface MergeRecovery {
  branch: string;
  /** "finished": the merge had been committed and now is complete; "rolled_back": it had not, and the files are as before. */
  outcome: "finished" | "rolled_back" | "abandoned";
  commit: string;
  what: string;
  /** Files changed by hand since the crash, left as they are. */
  untouched: string[];
}

const gitDirOf = (root: string) => trimLine(gitOk(root, ["rev-parse", "--absolute-git-dir"], `cannot inspect ${root}`));
const commonDirOf = (root: string) => trimLine(gitOk(root, ["rev-parse", "--path-format=absolute", "--git-common-dir"], `cannot inspect ${root}`));

/** Whether some process has `path` open (Linux: /proc/<pid>/fd); null where that cannot be told. */
function heldOpen(path: string): boolean | null {
  if (process.platform !== "linux") return null;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}


/**
 * Wait while a git lock file exists and a live process holds it (git keeps its lock open until
 * it commits). Where that cannot be told, a lock younger than 2 s counts as held. False on timeout.
 */
function waitWhileHeld(lock: string, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let st;
    try {
      st = statSync(lock);
    } catch {
      return true; // no lock
    }
    const held = heldOpen(lock) ?? Date.now() - st.mtimeMs < 2000;
    if (!held) return true;
    if (Date.now() > deadline) return false;
    sleepSync(25);
  }
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function alive(j: Journal): boolean {
  if (j.pid === process.pid) return false; // our own earlier attempt in this process cannot still run
  if (!pidAlive(j.pid)) return false;
  const start = processStart(j.pid);
  return j.pidStart === null || start === null || start === j.pidStart;
}

function writeJournal(gitDir: string, j: Journal): void {
  const path = join(gitDir, JOURNAL);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(j)}\n`);
  renameSync(tmp, path);
}

function readJournal(gitDir: string): Journal | null {
  const path = join(gitDir, JOURNAL);
  if (!existsSync(path)) return null;
  try {
    const j = JSON.parse(readFileSync(path, "utf8")) as Journal;
    if (j && j.version === 1 && typeof j.branch === "string" && typeof j.from === "string" && typeof j.to === "string") return j;
  } catch {
    // unreadable: treated as absent below
  }
  // A journal we cannot read (a crash while writing it never leaves one: it is renamed into
  // place) is someone's doing; refuse rather than guess.
  throw failed(`${path} is not a merge journal orch can read; if no orch merge is running, remove it`);
}

const inodeOf = (path: string): number | null => {
  try {
    return lstatSync(path).ino;
  } catch {
    return null;
  }
};

/** A fresh copy of the index (or an empty file when the repository has none yet). */
function copyIndex(gitDir: string, to: string): void {
  rmSync(to, { force: true });
  const index = join(gitDir, "index");
  if (existsSync(index)) copyFileSync(index, to);
  else closeSync(openSync(to, "w"));
}

/** Our scratch files, and the locks git takes on them (left behind when git is killed too). */
function dropScratch(gitDir: string): void {
  for (const f of [WORK_INDEX, RESTORE_INDEX]) {
    rmSync(join(gitDir, f), { force: true });
    rmSync(join(gitDir, `${f}.lock`), { force: true });
  }
}

function cleanup(gitDir: string): void {
  dropScratch(gitDir);
  rmSync(join(gitDir, JOURNAL), { force: true });
}

/** index.lock, if it is ours (our private index hard-linked to it). */
const ourLock = (gitDir: string, j: Journal) => j.workIno !== null && inodeOf(join(gitDir, "index.lock")) === j.workIno;

/** What identifies the index file's version: another git writing it changes this. */
function indexSignature(gitDir: string): string {
  try {
    const st = statSync(join(gitDir, "index"));
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return "none";
  }
}

export interface SafeMergeInput {
  /** The branch checked out at `root`, merged into. */
  branch: string;
  /** Its tip now (the first parent). */
  ours: string;
  /** The commit merged in (the second parent). */
  theirs: string;
  /** The merged tree (git merge-tree --write-tree), already known to be clean. */
  tree: string;
  message: string;
  /** For messages after a crash: "Merge branch 'stream-b' (Stream-B)". */
  what?: string;
  /** Tests only: stop right after this step, leaving everything as a kill there would. */
  crashAfterStep?: 1 | 2 | 3 | 4;
}

/** Thrown by `crashAfterStep`: the process "died" here. */
export class SimulatedCrash extends Error {}

/**
 * Commit the clean merge of `theirs` into `branch` (checked out at `root`) and bring the checkout
 * to it. Returns the merge commit. Throws, with nothing changed, when local changes or another
 * git process are in the way.
 */
export function commitMerge(root: string, input: SafeMergeInput): string {
  const gitDir = gitDirOf(root);
  const commitR = git(root, ["commit-tree", input.tree, "-p", input.ours, "-p", input.theirs, "-m", input.message]);
  if (commitR.code !== 0) throw failed(`git merge stopped, nothing was merged: ${gitMessage(commitR)}`);
  const to = trimLine(commitR.stdout);

  const work = join(gitDir, WORK_INDEX);
  const lock = join(gitDir, "index.lock");
  const signature = indexSignature(gitDir);
  const j: Journal = {
    version: 1,
    pid: process.pid,
    pidStart: processStart(process.pid),
    startedAt: new Date().toISOString(),
    branch: input.branch,
    from: input.ours,
    to,
    workIno: null,
    what: input.what ?? input.message,
  };
  copyIndex(gitDir, work);
  const crash = (step: number) => {
    if (input.crashAfterStep === step) throw new SimulatedCrash(`simulated crash after step ${step}`);
  };
  // 1: the journal, before anything a crash could leave behind.
  writeJournal(gitDir, j);
  crash(1);
  /** Undo steps 2–3 and say why nothing was merged. */
  const abort = (why: string, locked: boolean, filesWritten = true) => {
    const left = rollBack(root, gitDir, j);
    if (locked) rmSync(lock, { force: true });
    cleanup(gitDir);
    const note = filesWritten && left.length ? ` (files changed meanwhile, left as they are: ${left.join(", ")})` : "";
    return conflict(`${why}; nothing was merged${note}`);
  };

  // 2: the files, through the private index — its stat data refreshed first, as `git merge`
  // does (files put back by a recovery, or merely touched, are unchanged, not "not uptodate").
  git(root, ["update-index", "-q", "--refresh"], { env: { GIT_INDEX_FILE: work } });
  const rt = git(root, ["read-tree", "-m", "-u", input.ours, to], { env: { GIT_INDEX_FILE: work } });
  // (read-tree checks everything before writing: refused, it wrote nothing; the roll-back is
  // only for an I/O error half-way.)
  if (rt.code !== 0) throw abort(`git stopped the merge: ${gitMessage(rt)}`, false, false);
  // read-tree replaced the private index (a new file): the journal names that one before it is linked.
  j.workIno = inodeOf(work);
  writeJournal(gitDir, j);
  crash(2);
  // 3: the lock, holding the new index already; the real index must be the one copied.
  if (indexSignature(gitDir) !== signature) throw abort("the main worktree's index changed during the merge (another git command?)", false);
  try {
    linkSync(work, lock);
  } catch (err) {
    const busy = (err as NodeJS.ErrnoException).code === "EEXIST";
    throw abort(busy ? `another git process is using the main worktree (${lock} exists; if none is running, remove it)` : `cannot lock the index: ${(err as Error).message}`, false);
  }
  if (indexSignature(gitDir) !== signature) throw abort("the main worktree's index changed during the merge (another git command?)", true);
  crash(3);
  // 4: the branch, only if it is still where the merge started.
  const ur = git(root, ["update-ref", "-m", `merge ${input.what ?? to}: made by orch`, `refs/heads/${input.branch}`, to, input.ours]);
  if (ur.code !== 0) throw abort(`${input.branch} moved during the merge: ${gitMessage(ur)}`, true);
  crash(4);
  // 5–6: the new index in place and the lock released in one rename, then the journal.
  renameSync(lock, join(gitDir, "index"));
  cleanup(gitDir);
  return to;
}

interface PathChange {
  path: string;
  oldMode: string;
  newMode: string;
  oldBlob: string;
  newBlob: string;
}

const ZERO = /^0+$/;

function changes(root: string, from: string, to: string): PathChange[] {
  const out = splitZ(gitOk(root, ["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", from, to], "cannot compare the merge"));
  const list: PathChange[] = [];
  for (let i = 0; i + 1 < out.length; i += 2) {
    const [oldMode, newMode, oldBlob, newBlob] = out[i]!.slice(1).split(" ");
    list.push({ path: out[i + 1]!, oldMode: oldMode!, newMode: newMode!, oldBlob: oldBlob!, newBlob: newBlob! });
  }
  return list;
}

/**
 * The blob ids of what is at each path in the work tree now (git's filters applied, as `git add`
 * would): null when nothing is there, "other" for a directory or anything not a file or link.
 */
function workBlobs(root: string, paths: readonly string[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const files: string[] = [];
  for (const path of paths) {
    const full = join(root, path);
    let st;
    try {
      st = lstatSync(full);
    } catch {
      out.set(path, null);
      continue;
    }
    if (st.isSymbolicLink()) out.set(path, trimLine(gitOk(root, ["hash-object", "-t", "blob", "--stdin", "--no-filters"], "cannot hash a link", { input: readlinkSync(full) })));
    else if (!st.isFile()) out.set(path, "other");
    else if (path.includes("\n")) out.set(path, trimLine(gitOk(root, ["hash-object", `--path=${path}`, "--", full], `cannot hash ${path}`)));
    else files.push(path);
  }
  if (files.length) {
    const ids = gitOk(root, ["hash-object", "--stdin-paths"], "cannot hash the checkout", { input: `${files.join("\n")}\n` }).trim().split("\n");
    files.forEach((f, i) => out.set(f, ids[i] ?? "other"));
  }
  return out;
}

/** Directories the merge created for a file it added, gone again once empty (as git does). */
function removeEmptyParents(root: string, path: string): void {
  for (let dir = dirname(path); dir !== "." && dir !== "/" && dir !== ""; dir = dirname(dir)) {
    try {
      rmdirSync(join(root, dir));
    } catch {
      return; // not empty (or not ours to remove)
    }
  }
}

/**
 * The file git was writing when it was killed: written since the merge began, and its bytes a
 * beginning of the new version (git writes a file front to back, after removing the old one).
 */
function partiallyWritten(root: string, c: PathChange, since: number): boolean {
  if (!/^1006[0-9]{2}$|^1007[0-9]{2}$/.test(c.newMode)) return false;
  const full = join(root, c.path);
  let st;
  try {
    st = lstatSync(full);
  } catch {
    return false;
  }
  if (!st.isFile() || st.mtimeMs < since) return false;
  const want = gitBytes(root, ["cat-file", "--filters", `--path=${c.path}`, c.newBlob]);
  if (!want || st.size > want.length) return false;
  const have = readFileSync(full);
  return want.subarray(0, have.length).equals(have);
}

/**
 * Put the files a merge from `j.from` to `j.to` had begun to change back to `j.from`, path by
 * path, each only if it is still one of the two versions. Returns the paths left alone.
 */
function rollBack(root: string, gitDir: string, j: Journal): string[] {
  const list = changes(root, j.from, j.to);
  const blobs = workBlobs(root, list.map((c) => c.path));
  const restore: string[] = [];
  const untouched: string[] = [];
  const started = Date.parse(j.startedAt) - 2000;
  for (const c of list) {
    const now = blobs.get(c.path) ?? null;
    const isOld = ZERO.test(c.oldMode) ? now === null : now === c.oldBlob;
    const isNew = ZERO.test(c.newMode) ? now === null : now === c.newBlob || partiallyWritten(root, c, started);
    if (isOld) continue;
    if (!isNew) {
      untouched.push(c.path);
      continue;
    }
    if (ZERO.test(c.oldMode)) {
      rmSync(join(root, c.path), { force: true });
      removeEmptyParents(root, c.path);
    } else restore.push(c.path);
  }
  if (restore.length) {
    // The old versions, from a scratch index of the old commit.
    const scratch = join(gitDir, RESTORE_INDEX);
    try {
      gitOk(root, ["read-tree", j.from], "cannot restore the checkout", { env: { GIT_INDEX_FILE: scratch } });
      for (let i = 0; i < restore.length; i += 200)
        gitOk(root, ["checkout-index", "-f", "-q", "--", ...restore.slice(i, i + 200)], "cannot restore the checkout", { env: { GIT_INDEX_FILE: scratch } });
    } finally {
      rmSync(scratch, { force: true });
    }
  }
  return untouched;
}

/**
 * Finish or undo a merge interrupted by a crash (a journal left in the git dir of `root`).
 * Returns what was done, or null when there was nothing to recover. Throws when the merge is
 * still running in another live process.
 */
export function recoverInterruptedMerge(root: string): MergeRecovery | null {
  const gitDir = gitDirOf(root);
  const j = readJournal(gitDir);
  if (!j) {
    // Leftovers of a crash before the journal was written hold nothing: drop them.
    dropScratch(gitDir);
    return null;
  }
  if (alive(j)) throw conflict(`another orch is merging into ${j.branch} right now (pid ${j.pid}): wait for it to finish`);
  // When only orch was killed, the git it was running goes on for a moment (writing files, or
  // moving the branch): let it finish before deciding anything.
  const refLock = join(commonDirOf(root), "refs", "heads", `${j.branch}.lock`);
  for (const held of [join(gitDir, `${WORK_INDEX}.lock`), refLock])
    if (!waitWhileHeld(held, 30_000))
      throw conflict(`a git process of an interrupted merge into ${j.branch} is still running (${held} is held): try again when it has finished`);
  // update-ref killed while it held the branch's lock (step 4 had begun, no process holds it now):
  // that lock is ours, and would block every later commit on the branch.
  if (j.workIno !== null && existsSync(refLock) && heldOpen(refLock) === false) rmSync(refLock, { force: true });
  const lock = join(gitDir, "index.lock");
  const locked = ourLock(gitDir, j);
  const tipR = git(root, ["rev-parse", "--verify", "--quiet", `refs/heads/${j.branch}`]);
  const tip = tipR.code === 0 ? trimLine(tipR.stdout) : null;
  const base = { branch: j.branch, commit: j.to, what: j.what };

  if (tip === j.to) {
    // Committed (step 4 ran, so every file was written): the new index in place, if not yet.
    if (locked) renameSync(lock, join(gitDir, "index"));
    else if (j.workIno !== null && inodeOf(join(gitDir, "index")) !== j.workIno && inodeOf(join(gitDir, WORK_INDEX)) === j.workIno) {
      // Our lock was removed by hand before the rename: take it again to install the index.
      try {
        linkSync(join(gitDir, WORK_INDEX), lock);
        renameSync(lock, join(gitDir, "index"));
      } catch {
        throw conflict(`a merge into ${j.branch} was interrupted after its commit and the index could not be updated (${lock} exists): run "git reset" there once no git is running`);
      }
    }
    cleanup(gitDir);
    return { ...base, outcome: "finished", untouched: [] };
  }
  if (tip === j.from) {
    // Not committed: the files step 2 may have changed go back; the index never changed.
    const untouched = rollBack(root, gitDir, j);
    if (locked) rmSync(lock, { force: true });
    cleanup(gitDir);
    return { ...base, outcome: "rolled_back", untouched };
  }
  // The branch moved on since (or is gone): nothing of ours to finish; release what is ours.
  if (locked) rmSync(lock, { force: true });
  cleanup(gitDir);
  return { ...base, outcome: "abandoned", untouched: [] };
}

/** For tests: the journal of a merge in progress or interrupted, if any. */
export function mergeJournalPath(root: string): string {
  return join(gitDirOf(root), JOURNAL);
}
