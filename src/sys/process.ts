/** Is a process alive, and a synchronous pause: one of each for every module that needs them. */
import { readdirSync, readFileSync } from "node:fs";

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

/** Is any process of group `pgid` left (an agent's children that outlive it)? */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The live process whose environment holds `key=value` (Linux: /proc/<pid>/environ), or null —
 * how a process spawned just before its launcher was killed is found again.
 */
export function findProcessByEnv(key: string, value: string): number | null {
  const want = `${key}=${value}`;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "utf8").split("\0").includes(want) && pidAlive(Number(name))) return Number(name);
    } catch {
      // gone, or not ours to read
    }
  }
  return null;
}

/** How long a stopped agent gets to end on SIGTERM before its whole group is killed. */
export const STOP_GRACE_MS = 2000;

/**
 * Stop a process and everything of its group (an agent started through a wrapper script runs as
 * the wrapper's child): SIGTERM, then SIGKILL to whatever is left after STOP_GRACE_MS. A process
 * that leads no group of its own is signalled alone.
 */
export function stopProcessGroup(pid: number): void {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // gone
      }
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => {
    if (groupAlive(pid) || pidAlive(pid)) signal("SIGKILL");
  }, STOP_GRACE_MS);
  timer.unref?.();
}
