/** The run's state file (atomic, validated), process liveness, and the run settings (flags > config > defaults). */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isOrchError } from "../../src/errors.ts";
import { resolveRunSettings } from "../../src/orchestrate/config.ts";
import { idleFor } from "../../src/orchestrate/messages.ts";
import { loadState, newRunState, newStreamRun, processAlive, saveState, STATE_FILE } from "../../src/orchestrate/state.ts";
import { ensureExcluded, repoInfo } from "../../src/git/repo.ts";
import { EXCLUDE_PATTERNS, stateTempFile } from "../../src/paths.ts";
import { tempDir } from "../helpers.ts";

const fresh = () => newRunState({ initiativeId: "INIT-x", launcher: "headless", maxParallelStreams: 2, restartLimit: 2, now: "2026-01-01T00:00:00.000Z" });

function orchErrorOf(fn: () => unknown): { message: string; exitCode: number } {
  try {
    fn();
  } catch (err) {
    if (!isOrchError(err)) throw err;
    return { message: err.message, exitCode: err.exitCode };
  }
  throw new Error("expected an OrchError");
}

describe("state file", () => {
  test("none yet → null; save then load round-trips; the guide's lists are derived from the per-stream records", () => {
    const root = tempDir();
    expect(loadState(root)).toBeNull();
    const s = fresh();
    s.streams["Stream-A"] = { ...newStreamRun(), status: "completed", launches: 1 };
    s.streams["Stream-B"] = { ...newStreamRun(), status: "merged", launches: 2, restarts: 1, mergeCommit: "abc" };
    s.streams["Stream-C"] = { ...newStreamRun(), status: "failed", launches: 3, restarts: 2 };
    s.streams["Stream-D"] = newStreamRun();
    s.completedStreams = ["bogus"];
    saveState(root, s, "2026-01-01T00:00:05.000Z");
    const back = loadState(root)!;
    expect(back).toEqual(s);
    expect(back).toMatchObject({
      lastUpdate: "2026-01-01T00:00:05.000Z",
      completedStreams: ["Stream-A", "Stream-B"],
      mergedStreams: ["Stream-B"],
      failedStreams: ["Stream-C"],
    });
    expect(readFileSync(join(root, STATE_FILE), "utf8")).toEndWith("}\n");
  });

  test("written atomically: a new file is renamed over the old one, no temporary file is left", () => {
    const root = tempDir();
    saveState(root, fresh());
    const file = join(root, STATE_FILE);
    const before = statSync(file).ino;
    const s = fresh();
    s.outcome = "complete";
    saveState(root, s);
    // A reader holding the old file keeps a whole old file; a new reader gets the whole new one.
    expect(statSync(file).ino).not.toBe(before);
    expect(readdirSync(dirname(file))).toEqual(["orchestration-state.json"]);
    expect(loadState(root)!.outcome).toBe("complete");
  });

  test("a temporary file left by a killed orch start is removed at the next save, and git never shows it", () => {
    const root = tempDir();
    Bun.spawnSync(["git", "init", "-q", root]);
    saveState(root, fresh());
    const dead = Bun.spawnSync(["true"]).pid; // a pid that has exited
    const leftover = join(root, stateTempFile(dead));
    writeFileSync(leftover, "{ half a fil");
    const live = join(root, stateTempFile(process.ppid)); // a live process's: not ours to remove
    writeFileSync(live, "{}");
    ensureExcluded(repoInfo(root), EXCLUDE_PATTERNS);
    expect(Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=all"], { cwd: root }).stdout.toString()).toBe("");
    saveState(root, fresh());
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  test("a corrupt or foreign file is refused with one clear line (exit 1), never silently replaced", () => {
    const root = tempDir();
    const file = join(root, STATE_FILE);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '{"version": 1, "outcome": "runn');
    const bad = orchErrorOf(() => loadState(root));
    expect(bad.exitCode).toBe(1);
    expect(bad.message).toStartWith(".claude/orchestration/orchestration-state.json is not valid JSON (");
    expect(bad.message).toEndWith("); move it aside to start afresh");

    writeFileSync(file, JSON.stringify({ ...fresh(), outcome: "exploded", streams: { A: { status: "running" } } }));
    const foreign = orchErrorOf(() => loadState(root));
    expect(foreign.exitCode).toBe(1);
    expect(foreign.message).toStartWith(".claude/orchestration/orchestration-state.json is not a state file orch understands: ");
    expect(foreign.message).toContain("outcome: ");
    expect(foreign.message).toContain("streams.A.launches: ");
    expect(readFileSync(file, "utf8")).toContain("exploded");
  });
});

describe("processAlive", () => {
  test("alive; with a different program's argv (a recycled pid): not ours; no pid: not alive", async () => {
    expect(processAlive(process.pid)).toBe(true);
    const p = Bun.spawn(["sleep", "30"]);
    // Until the child has exec'd, its command line is still this process's.
    while (!readFileSync(`/proc/${p.pid}/cmdline`, "utf8").startsWith("sleep\0")) await Bun.sleep(1);
    try {
      expect(processAlive(p.pid, ["sleep", "30"])).toBe(true);
      expect(processAlive(p.pid, ["/bin/sleep"])).toBe(true);
      expect(processAlive(p.pid, ["/usr/bin/definitely-not-this-program"])).toBe(false);
    } finally {
      p.kill();
      await p.exited;
    }
    expect(processAlive(p.pid, ["sleep"])).toBe(false);
    expect(processAlive(null)).toBe(false);
  });

  test("a process that has exited is not alive", async () => {
    const p = Bun.spawn(["true"]);
    await p.exited;
    expect(processAlive(p.pid)).toBe(false);
  });
});

describe("run settings", () => {
  test("defaults; config file; flags win", () => {
    const root = tempDir();
    expect(resolveRunSettings(root, {})).toEqual({
      launcher: "manual",
      agentCommand: 'claude "/continue {streamId}"',
      maxParallel: 5,
      restartLimit: 2,
      stallTimeoutMs: 600_000,
    });
    mkdirSync(join(root, ".claude/orchestration"), { recursive: true });
    writeFileSync(
      join(root, ".claude/orchestration/orchestration-config.json"),
      JSON.stringify({ version: "1.0", maxParallelStreams: 3, agentCommand: "agent {streamId}", launcher: "tmux", restartLimit: 0, stallTimeout: 60, streams: [] }),
    );
    expect(resolveRunSettings(root, {})).toEqual({ launcher: "tmux", agentCommand: "agent {streamId}", maxParallel: 3, restartLimit: 0, stallTimeoutMs: 60_000 });
    expect(resolveRunSettings(root, { launcher: "headless", agentCmd: "x", maxParallel: "1", restartLimit: "5", stallTimeout: "2" })).toEqual({
      launcher: "headless",
      agentCommand: "x",
      maxParallel: 1,
      restartLimit: 5,
      stallTimeoutMs: 2000,
    });
  });

  test("bad flags are usage errors (exit 2); a bad config file fails (exit 1)", () => {
    const root = tempDir();
    expect(orchErrorOf(() => resolveRunSettings(root, { launcher: "screen" }))).toEqual({ message: 'invalid launcher "screen" (expected one of manual, tmux, headless)', exitCode: 2 });
    expect(orchErrorOf(() => resolveRunSettings(root, { maxParallel: "0" }))).toEqual({ message: 'flag --max-parallel must be a whole number from 1 to 1000, not "0"', exitCode: 2 });
    expect(orchErrorOf(() => resolveRunSettings(root, { restartLimit: "-1" }))).toEqual({ message: 'flag --restart-limit must be a whole number from 0 to 100, not "-1"', exitCode: 2 });
    expect(orchErrorOf(() => resolveRunSettings(root, { stallTimeout: "1.5" })).exitCode).toBe(2);
    expect(orchErrorOf(() => resolveRunSettings(root, { agentCmd: "a {nope}" })).exitCode).toBe(2);
    mkdirSync(join(root, ".claude/orchestration"), { recursive: true });
    const cfg = join(root, ".claude/orchestration/orchestration-config.json");
    writeFileSync(cfg, "{");
    expect(orchErrorOf(() => resolveRunSettings(root, {}))).toMatchObject({ exitCode: 1 });
    writeFileSync(cfg, JSON.stringify({ launcher: "screen" }));
    const e = orchErrorOf(() => resolveRunSettings(root, {}));
    expect(e.exitCode).toBe(1);
    expect(e.message).toStartWith(".claude/orchestration/orchestration-config.json: launcher: ");
  });
});

test("idleFor: seconds under two minutes, minutes after", () => {
  expect(idleFor(1_400)).toBe("1 s");
  expect(idleFor(119_000)).toBe("119 s");
  expect(idleFor(600_000)).toBe("10 min");
});
