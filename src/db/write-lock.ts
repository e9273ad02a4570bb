/**
 * The writers' queue of one database: an async queue for the tasks of this process, then a
 * blocking lock across processes, taken around each write transaction.
 *
 * In the process: a transaction body is async, so the API server, an `orch mcp` session with
 * calls in flight or the orchestrator may start a second transaction while the first waits on an
 * await. They must not share one connection's transaction: each waits in a FIFO queue, without
 * blocking the thread, until the one before has committed. The queue is per database file (by its
 * real path), so two stores of one process on one file queue together too.
 *
 * Across processes: SQLite's busy handler polls: a writer that finds the write lock taken sleeps
 * 1, 2, 5, 10… ms before it tries again, while the lock is usually free again within a hundred
 * microseconds. With sixteen agent sessions writing at once, the waiters oversleep and the cores
 * sit idle (measured: 1.6 ms of waiting per transaction, 16 % of the CPU idle). flock(2) wakes the
 * next waiter the moment the holder lets go, and the kernel drops the lock of a process that dies,
 * so a writer killed mid-transaction never leaves it held.
 *
 * SQLite's own locks still guard the data; this only puts orch's writers in a queue (another
 * program writing the file still goes through busy_timeout). Where flock cannot be reached (no
 * C library through bun:ffi, a lock file that cannot be created), writers go without it.
 */
import { closeSync, openSync, realpathSync } from "node:fs";
import { LOCK_EX, LOCK_UN, loadFlock } from "../sys/flock.ts";

export interface WriteLock {
  /** The same for every store of this process on the same database file. */
  readonly key: string;
  /**
   * This task is the one writer of the database among orch's once it returns, or once the promise
   * it returns resolves (another task of the process writes): first among this process's tasks
   * (in order of asking), then among processes. Not re-entrant: the store joins nested
   * transactions before it asks.
   */
  acquire(): Promise<void> | undefined;
  release(): void;
  /** This store is done with it; the file is closed when no store of the process uses it. */
  close(): void;
}

interface Shared {
  /** The lock file's descriptor, opened at the first write (undefined), or null: no flock here. */
  fd: number | null | undefined;
  /** Stores of this process using it. */
  users: number;
  /** A task of this process holds the queue. */
  held: boolean;
  /** Tasks waiting for it, first come first served. */
  waiting: (() => void)[];
  locked: boolean;
}

/**
 * One queue and one lock per database per process, by the database's real path: flock locks of
 * two descriptors in one process exclude each other, so two stores reaching one file by different
 * paths (relative, through a symlink) would otherwise wait on each other for ever.
 */
const byPath = new Map<string, Shared>();

/** The lock file is the database's path plus `-lock`, beside SQLite's `-wal` and `-shm`. */
export const writeLockPath = (dbPath: string) => `${dbPath}-lock`;

/** The lock file's descriptor, or null when there is no flock or the file cannot be made. */
function openLockFile(path: string): number | null {
  if (!loadFlock()) return null;
  try {
    return openSync(path, "a", 0o644);
  } catch {
    return null;
  }
}

/**
 * The queue of the database at `dbPath` (which must exist). `flock: false` (a private database
 * nobody else opens) queues this process's tasks only.
 */
export function openWriteLock(dbPath: string, opts: { flock?: boolean } = {}): WriteLock {
  let path: string;
  try {
    path = writeLockPath(realpathSync(dbPath));
  } catch {
    path = writeLockPath(dbPath);
  }
  let shared = byPath.get(path);
  if (!shared) {
    shared = { fd: opts.flock === false ? null : undefined, users: 0, held: false, waiting: [], locked: false };
    byPath.set(path, shared);
  }
  shared.users++;
  const s = shared;
  let closed = false;

  const lockAcrossProcesses = () => {
    // Opened at the first write, so commands that only read never create the lock file.
    if (s.fd === undefined) s.fd = openLockFile(path);
    const fn = loadFlock();
    if (s.fd === null || !fn) return;
    // A signal can interrupt the wait (EINTR): try again. A lock that cannot be had at all
    // (ENOLCK) leaves the writer to SQLite's busy handler, as without this module.
    for (let attempt = 0; attempt < 3 && !s.locked; attempt++) s.locked = fn(s.fd, LOCK_EX) === 0;
  };

  return {
    key: path,
    acquire() {
      if (!s.held) {
        s.held = true;
        lockAcrossProcesses();
        return undefined; // nobody to wait for: no promise, no tick
      }
      return new Promise<void>((resolve) => s.waiting.push(resolve)).then(lockAcrossProcesses);
    },
    release() {
      if (s.locked) loadFlock()!(s.fd!, LOCK_UN);
      s.locked = false;
      const next = s.waiting.shift();
      // Handed on while still held: nobody can slip in between.
      if (next) next();
      else s.held = false;
    },
    close() {
      if (closed) return;
      closed = true;
      if (--s.users > 0) return;
      byPath.delete(path);
      if (typeof s.fd === "number") closeSync(s.fd); // releases the lock too, should it still be held
    },
  };
}
