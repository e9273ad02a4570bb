/**
 * Synchronous writes to stdout/stderr. `process.stdout` builds Node's stream machinery on first
 * touch (≈7 ms of start-up here), so the CLI writes to the file descriptors directly.
 *
 * A reader that goes away is a normal end, never an error. Once stdout's reader has closed the
 * pipe (`orch task list | head -1`: EPIPE) the process exits 0 at once and quietly — what
 * `git log | head` does, minus the 141 of a SIGPIPE death, so a `set -o pipefail` script is not
 * failed by a reader that had seen enough. A closed stderr stops nothing (a server keeps serving,
 * a command keeps its exit code): what would have gone there is dropped.
 */
import { writeSync } from "node:fs";
import { failed } from "../errors.ts";
import { sleepSync } from "./process.ts";

const STDOUT = 1;
const STDERR = 2;

let stderrGone = false;

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code;

/** Writes all of `buf`; returns the error that stopped it, or null. */
function writeAll(fd: number, buf: Buffer): unknown {
  while (buf.length) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (err) {
      if (codeOf(err) !== "EAGAIN") return err;
      sleepSync(1);
    }
  }
  return null;
}

/** What a failed write to stdout means: the reader left (exit 0 now), or a real failure (one line). */
export function stdoutFailure(err: unknown): "reader-gone" | Error {
  if (codeOf(err) === "EPIPE") return "reader-gone";
  const why = codeOf(err) === "ENOSPC" ? "no space left on device" : ((err as Error)?.message ?? String(err));
  return failed(`cannot write the output: ${why}`);
}

export function out(text: string): void {
  const err = writeAll(STDOUT, Buffer.from(text));
  if (err === null) return;
  const verdict = stdoutFailure(err);
  if (verdict === "reader-gone") process.exit(0);
  throw verdict;
}

export function errOut(text: string): void {
  if (stderrGone) return;
  if (writeAll(STDERR, Buffer.from(text)) !== null) stderrGone = true;
}
