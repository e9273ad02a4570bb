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
    let holder = "";
    try {
      holder = readFileSync(path, "utf8").trim();
    } catch {
      // unreadable: say it without the pid
    }
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
