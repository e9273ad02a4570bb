/** The file lock that keeps two orch processes off one worktree, branch, merge or prune at once. */
import { describe, expect, test } from "bun:test";
import { existsSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withFileLockSync } from "../../src/workspace/lock.ts";
import { tempDir } from "../helpers.ts";

describe("withFileLockSync", () => {
  test("a lock file whose owner has not written its pid yet is held (the race two removals hit), until it is stale", () => {
    const lock = join(tempDir(), "x.lock");
    writeFileSync(lock, ""); // created, pid not yet written
    expect(() => withFileLockSync(lock, "test", () => "ran", 300)).toThrow(/timed out waiting for another orch test/);
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lock, old, old);
    expect(withFileLockSync(lock, "test", () => "ran", 300)).toBe("ran");
    expect(existsSync(lock)).toBe(false);
  });

  test("a dead owner's lock is taken over; a live one is waited for", () => {
    const lock = join(tempDir(), "y.lock");
    writeFileSync(lock, "999999999");
    expect(withFileLockSync(lock, "test", () => 1)).toBe(1);
    const holder = Bun.spawnSync(["sh", "-c", "sleep 0.3 >/dev/null 2>&1 & echo $!"]).stdout.toString().trim();
    writeFileSync(lock, holder);
    const t0 = performance.now();
    expect(withFileLockSync(lock, "test", () => 2)).toBe(2);
    expect(performance.now() - t0).toBeGreaterThan(200);
  });
});
