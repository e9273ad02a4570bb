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

test("a synchronous wait for a lock this process already holds is refused at once, not a deadlock (found by fuzz-mcp, seed 2133029204)", async () => {
  const { withFileLock, withFileLockSync } = await import("../../src/workspace/lock.ts");
  const { isOrchError } = await import("../../src/errors.ts");
  const path = join(tempDir(), "locks", "worktree-stream-b.lock");
  let release!: () => void;
  const held = withFileLock(path, "worktree change", () => new Promise<void>((r) => (release = r)));
  await Bun.sleep(0);
  const t0 = performance.now();
  let message = "";
  try {
    withFileLockSync(path, "merge of stream-b", () => "merged");
  } catch (err) {
    message = isOrchError(err) ? err.message : String(err);
  }
  expect(message).toBe("another merge of stream-b is under way in this session: try again when it has finished");
  expect(performance.now() - t0).toBeLessThan(1000);
  release();
  await held;
  expect(withFileLockSync(path, "merge of stream-b", () => "merged")).toBe("merged");
});
