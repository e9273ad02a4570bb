/** Is a process alive, and a synchronous pause: one of each for every module that needs them. */
import { readFileSync } from "node:fs";

/**
 * Is `pid` a live process? kill(0) says it exists (EPERM: it does, someone else's); a zombie
 * (exited, not yet reaped) answers kill(0) too but runs nothing, so /proc is asked where it exists.
 */
export function pidAlive(pid: number | null | undefined): boolean {
  if (!pid || !Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): kill(0) is all there is
  }
}

/** Block this thread for `ms` (lock retries in synchronous code paths). */
export function sleepSync(ms: number): void {
  Bun.sleepSync(ms);
}
