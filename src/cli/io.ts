/**
 * Synchronous writes to stdout/stderr. `process.stdout` builds Node's stream machinery on first
 * touch (≈7 ms of start-up here), so the CLI writes to the file descriptors directly.
 */
import { writeSync } from "node:fs";

function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
      Bun.sleepSync(1);
    }
  }
}

export const out = (text: string) => writeAll(1, text);
export const errOut = (text: string) => writeAll(2, text);
