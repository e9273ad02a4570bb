/**
 * A small cross-process lock (an O_EXCL file holding the owner's pid) so two orch processes never
 * act on one stream's worktree at once — two agents continuing it do not both run `git worktree
 * add`, two removals do not both save and delete, a removal does not delete a branch a merge is
 * reading — and two merges into one branch, or two prunes, take turns. The second waits, then
 * sees what the first did. A lock whose owner process is gone is taken over.
 *
 * Order, so no two processes wait on each other: a stream's lock first, then the prune or merge
 * lock of the repository.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { conflict, failed } from "../errors.ts";
import { pidAlive, sleepSync } from "../sys/process.ts";

/** A lock file with no pid yet is being written by its owner (open, then write): held while young. */
const WRITING_GRACE_MS = 10_000;

function ownerAlive(path: string): boolean {
  let pid: number;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
    pid = Number.parseInt(text, 10);
  } catch {
    return true; // being written right now: treat as held
  }
  if (!Number.isInteger(pid) || pid <= 0) {
    // The stress suite caught two removals both taking the lock: the second read the file
    // between its creation and the pid being written, and took it for a dead owner's.
    try {
      return Date.now() - statSync(path).mtimeMs < WRITING_GRACE_MS;
    } catch {
      return false;
    }
  }
  return pidAlive(pid);
}

/** Locks this process holds: a synchronous wait for one of them could never end (see below). */
const heldHere = new Set<string>();

function tryAcquire(path: string): boolean {
  try {
    const fd = openSync(path, "wx");
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return false;
  }
}

/** Where the locks live: `<common dir>/orch/locks/<name>.lock`. */
export const lockPath = (commonDir: string, name: string) => join(commonDir, "orch", "locks", `${name}.lock`);
/** One stream's worktree and branch (create, remove, merge). */
export const streamLock = (commonDir: string, branch: string) => lockPath(commonDir, `worktree-${branch.replace(/\//g, "%")}`);

/**
 * One try at the lock: taken (true), or held by a live owner (false; wait and try again). A dead
 * owner's lock is taken over; past the deadline the wait ends in one line.
 */
function tryOnce(path: string, what: string, deadline: number): boolean {
  for (;;) {
    if (tryAcquire(path)) {
      heldHere.add(path);
      return true;
    }
    if (ownerAlive(path)) break;
    rmSync(path, { force: true });
  }
  if (Date.now() > deadline) throw failed(`timed out waiting for another orch ${what} (lock ${path})`);
  return false;
}

function release(path: string): void {
  heldHere.delete(path);
  rmSync(path, { force: true });
}

export async function withFileLock<T>(path: string, what: string, fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; !tryOnce(path, what, deadline); delay = Math.min(delay * 2, 250)) await Bun.sleep(delay);
  try {
    return await fn();
  } finally {
    release(path);
  }
}

/** The same lock for synchronous callers (a merge, a removal): waits by sleeping the thread. */
export function withFileLockSync<T>(path: string, what: string, fn: () => T, timeoutMs = 5 * 60_000): T {
  // Held by an operation of this very process that is awaiting something (an MCP session serves
  // calls side by side): sleeping the thread would keep it from ever letting go. Say so instead.
  if (heldHere.has(path)) throw conflict(`another ${what} is under way in this session: try again when it has finished`);
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; !tryOnce(path, what, deadline); delay = Math.min(delay * 2, 100)) sleepSync(delay);
  try {
    return fn();
  } finally {
    release(path);
  }
}
