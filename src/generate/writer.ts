/**
 * Writes a set of files as one unit: every file goes to a temp file beside its target first;
 * only when all of them are on disk are they renamed into place. A failure before the renames
 * (a full disk, a folder in the way) removes the temp files and leaves every target untouched.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { failed } from "../errors.ts";

export interface FileToWrite {
  /** Relative to the root given to writeFiles. */
  path: string;
  content: string;
  /** e.g. 0o755 for the launchers. */
  mode?: number;
}

export function writeFiles(root: string, files: readonly FileToWrite[]): void {
  const staged: { tmp: string; target: string }[] = [];
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    for (const f of files) {
      const target = join(root, f.path);
      let isDir = false;
      try {
        isDir = statSync(target).isDirectory();
      } catch {
        // absent: fine
      }
      if (isDir) throw failed(`cannot write ${f.path}: a directory is in the way`);
      mkdirSync(dirname(target), { recursive: true });
      const tmp = `${target}.tmp-${tag}`;
      const fd = openSync(tmp, "w", f.mode ?? 0o644);
      staged.push({ tmp, target });
      try {
        writeSync(fd, f.content);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (f.mode !== undefined) chmodSync(tmp, f.mode); // the umask may have trimmed it
    }
  } catch (err) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    if (err instanceof Error && err.name === "OrchError") throw err;
    throw failed(`cannot write generated files: ${(err as Error).message}`);
  }
  for (const s of staged) renameSync(s.tmp, s.target);
}
