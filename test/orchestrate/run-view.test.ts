/** The run state as faces show it: no pids, argv or paths; read again only when the file changed. */
import { describe, expect, test } from "bun:test";
import { readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newRunState, newStreamRun, saveState, STATE_FILE } from "../../src/orchestrate/state.ts";
import { readRunView, RUN_CONFLICT_FILES, runView } from "../../src/orchestrate/run-view.ts";
import { tempDir } from "../helpers.ts";

const fresh = () => newRunState({ initiativeId: "INIT-x", launcher: "headless", maxParallelStreams: 2, restartLimit: 2, now: "2026-01-01T00:00:00.000Z" });

describe("runView", () => {
  test("per stream: status, paused, restarts, last exit code — never the pid, argv, cwd or log path", () => {
    const s = fresh();
    s.streams["Stream-A"] = { ...newStreamRun(), status: "merged", launches: 1, pid: 4242, argv: ["claude", "-p", "secret prompt"], cwd: "/home/me/repo", log: "/home/me/repo/.claude/orchestration/logs/Stream-A.log" };
    s.streams["Stream-B"] = { ...newStreamRun(), status: "failed", restarts: 2, lastExitCode: 1 };
    s.streams["Stream-C"] = { ...newStreamRun(), status: "running", pid: 99 };
    s.pausedStreams = ["Stream-C", "Stream-D"];
    s.conflict = { streamId: "Stream-B", into: "main", kind: "conflict", files: Array.from({ length: RUN_CONFLICT_FILES + 5 }, (_, i) => `f${i}.ts`) };
    const v = runView(s, true);
    expect(v.streams).toEqual({
      "Stream-A": { status: "merged", paused: false, restarts: 0, lastExitCode: null },
      "Stream-B": { status: "failed", paused: false, restarts: 2, lastExitCode: 1 },
      "Stream-C": { status: "running", paused: true, restarts: 0, lastExitCode: null },
      "Stream-D": { status: "pending", paused: true, restarts: 0, lastExitCode: null },
    });
    expect(v).toMatchObject({ outcome: "running", launcher: "headless", startedAt: "2026-01-01T00:00:00.000Z", finishedAt: null, live: true });
    expect(v.conflict!.files.length).toBe(RUN_CONFLICT_FILES);
    expect(v.conflict!.totalFiles).toBe(RUN_CONFLICT_FILES + 5);
    const text = JSON.stringify(v);
    for (const secret of ["4242", "secret prompt", "/home/me", "orchestratorPid", "argv"]) expect(text).not.toContain(secret);
  });
});

describe("readRunView", () => {
  test("no file → null; read once, then again only when its mtime or size changed; whether it still runs asked every time", () => {
    const root = tempDir();
    expect(readRunView(root)).toEqual({ run: null });
    const s = fresh();
    s.orchestratorPid = process.pid;
    s.streams["Stream-A"] = { ...newStreamRun(), status: "running" };
    saveState(root, s, "2026-01-01T00:01:00.000Z");
    const file = join(root, STATE_FILE);
    const when = new Date("2026-01-01T00:01:00.000Z");
    utimesSync(file, when, when);
    const first = readRunView(root);
    expect(first.run).toMatchObject({ live: true, lastUpdate: "2026-01-01T00:01:00.000Z", streams: { "Stream-A": { status: "running" } } });

    // Rewritten in place with the same size and modification time: not read again.
    const size = statSync(file).size;
    writeFileSync(file, readFileSync(file, "utf8").replace('"status": "running"', '"status": "failed" '));
    expect(statSync(file).size).toBe(size);
    utimesSync(file, when, when);
    expect(readRunView(root).run!.streams["Stream-A"]!.status).toBe("running");
    // Its modification time moves: read again.
    const later = new Date("2026-01-01T00:02:00.000Z");
    utimesSync(file, later, later);
    expect(readRunView(root).run!.streams["Stream-A"]!.status).toBe("failed");

    // A run whose orch start is gone is not live, though the file still says running.
    s.orchestratorPid = 2 ** 22 + 12345; // above any pid_max: no such process
    saveState(root, s);
    expect(readRunView(root).run).toMatchObject({ outcome: "running", live: false });
  });

  test("a file orch cannot read: run null with the reason, never a throw", () => {
    const root = tempDir();
    saveState(root, fresh());
    writeFileSync(join(root, STATE_FILE), "{ not json");
    const r = readRunView(root);
    expect(r.run).toBeNull();
    expect(r.error).toContain("is not valid JSON");
    writeFileSync(join(root, STATE_FILE), JSON.stringify({ version: 2 }));
    expect(readRunView(root).error).toContain("not a state file orch understands");
  });
});
