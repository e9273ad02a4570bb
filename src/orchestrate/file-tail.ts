/**
 * Reading the files `orch start` leaves for people to look at (agent logs, transcripts, the run
 * state), bounded and careful: the last bytes of a file only, a regular file only (a FIFO would
 * block, a device never end), never through a symlink at the last step, and only inside the
 * folder it must be in, judged on real paths (a symlink higher up cannot lead out).
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from "node:fs";
import { isAbsolute, sep } from "node:path";
import { findProjectRoot } from "../config.ts";

const roots = new Map<string, string>();

/** The project root for `cwd` (git's main top level, else the folder), asked of git once per folder. */
export function projectRootOf(cwd: string = process.cwd()): string {
  let root = roots.get(cwd);
  if (root === undefined) {
    root = findProjectRoot(cwd);
    if (roots.size > 100) roots.clear();
    roots.set(cwd, root);
  }
  return root;
}

/** `path`'s real path when it lies inside `folder` (real path too), else null (missing, outside, unreadable). */
export function realPathInside(path: string, folder: string): string | null {
  if (!isAbsolute(path) || path.length > 4096 || path.includes("\0")) return null;
  try {
    const base = realpathSync(folder);
    const real = realpathSync(path);
    return real.startsWith(base.endsWith(sep) ? base : base + sep) ? real : null;
  } catch {
    return null;
  }
}

export interface Tail {
  text: string;
  /** The file is longer than what was read: `text` begins mid-file (its first line is a piece). */
  cut: boolean;
  size: number;
}

/** The last `maxBytes` of a regular file, or null (missing, not a regular file, a symlink, unreadable). */
export function readTail(path: string, maxBytes: number): Tail | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    const start = Math.max(0, st.size - maxBytes);
    const buf = Buffer.alloc(Math.min(st.size, maxBytes));
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n <= 0) break;
      got += n;
    }
    return { text: buf.subarray(0, got).toString("utf8"), cut: start > 0, size: st.size };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
