/**
 * A blocking lock, across processes, that orch's writers take around each write transaction.
 *
 * SQLite's busy handler polls: a writer that finds the write lock taken sleeps 1, 2, 5, 10… ms
 * before it tries again, while the lock is usually free again within a hundred microseconds. With
 * sixteen agent sessions writing at once, the waiters oversleep and the cores sit idle (measured:
 * 1.6 ms of waiting per transaction, 16 % of the CPU idle). flock(2) wakes the next waiter the
 * moment the holder lets go, and the kernel drops the lock of a process that dies, so a writer
 * killed mid-transaction never leaves it held.
 *
 * SQLite's own locks still guard the data; this only puts orch's writers in a queue (another
 * program writing the file still goes through busy_timeout). Where flock cannot be reached (no
 * C library through bun:ffi, a lock file that cannot be created), writers go without it.
 */
import { closeSync, openSync, realpathSync } from "node:fs";
import { LOCK_EX, LOCK_UN, loadFlock } from "../sys/flock.ts";

export interface WriteLock {
  /** Blocks until this process is the one writer among orch's (re-entrant within the process). */
  acquire(): void;
  release(): void;
  /** This store is done with it; the file is closed when no store of the process uses it. */
  close(): void;
}

interface Shared {
  fd: number;
  /** Stores of this process using it. */
  users: number;
  /** Acquisitions not yet released; the lock is held while > 0. */
  depth: number;
  locked: boolean;
}

/**
 * One lock per database per process, by the database's real path: flock locks of two descriptors
 * in one process exclude each other, so two stores reaching one file by different paths (relative,
 * through a symlink) would otherwise wait on each other for ever.
 */
const byPath = new Map<string, Shared>();

/** The lock file is the database's path plus `-lock`, beside SQLite's `-wal` and `-shm`. */
export const writeLockPath = (dbPath: string) => `${dbPath}-lock`;

export function openWriteLock(dbPath: string): WriteLock | null {
  const fn = loadFlock();
  if (!fn) return null;
  let path: string;
  try {
    path = writeLockPath(realpathSync(dbPath));
  } catch {
    return null;
  }
  let shared = byPath.get(path);
  if (!shared) {
    let fd: number;
    try {
      fd = openSync(path, "a", 0o644);
    } catch {
      return null;
    }
    shared = { fd, users: 0, depth: 0, locked: false };
    byPath.set(path, shared);
  }
  shared.users++;
  const s = shared;
  let closed = false;
  return {
    acquire() {
      if (s.depth++ > 0) return;
      // A signal can interrupt the wait (EINTR): try again. A lock that cannot be had at all
      // (ENOLCK) leaves the writer to SQLite's busy handler, as without this module.
      for (let attempt = 0; attempt < 3 && !s.locked; attempt++) s.locked = fn(s.fd, LOCK_EX) === 0;
    },
    release() {
      if (s.depth === 0 || --s.depth > 0) return;
      if (s.locked) fn(s.fd, LOCK_UN);
      s.locked = false;
    },
    close() {
      if (closed) return;
      closed = true;
      if (--s.users > 0) return;
      byPath.delete(path);
      closeSync(s.fd); // releases the lock too, should it still be held
    },
  };
}
