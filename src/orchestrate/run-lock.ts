/**
 * One `orch start` per project at a time, for the whole run: an exclusive flock on
 * `.claude/orchestration/orchestration.lock` (the kernel drops it when the process dies, so a
 * killed run never leaves it held). Two runs started at the same moment cannot both launch an
 * agent for a stream; the second is refused at once, naming the first.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { conflict } from "../errors.ts";
import { RUN_LOCK_FILE } from "../paths.ts";
import { LOCK_EX, LOCK_NB, LOCK_UN, loadFlock } from "../sys/flock.ts";
import { sleepSync } from "../sys/process.ts";

export interface RunLock {
  release(): void;
}

export function holdRunLock(root: string): RunLock {
  const flock = loadFlock();
  if (!flock) return { release() {} }; // no C library: the state file's pid check still applies
  const path = join(root, RUN_LOCK_FILE);
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "a+");
  if (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    closeSync(fd);
    const holder = holderPid(path);
    throw conflict(`another orch start is running this project${/^\d+$/.test(holder) ? ` (pid ${holder})` : ""}: wait for it, or stop it (Ctrl+C) and use orch start --resume`);
  }
  writeFileSync(path, `${process.pid}\n`);
  return {
    release() {
      flock(fd, LOCK_UN);
      closeSync(fd);
    },
  };
}

/**
 * The pid the holder wrote. It takes the lock first and writes its pid just after: a start that
 * loses the race by microseconds waits a moment for it rather than naming no pid.
 */
function holderPid(path: string): string {
  for (let waited = 0; ; waited += 5) {
    let holder = "";
    try {
      holder = readFileSync(path, "utf8").trim();
    } catch {
      // unreadable: say it without the pid
    }
    if (/^\d+$/.test(holder) || waited >= 200) return holder;
    sleepSync(5);
  }
}
