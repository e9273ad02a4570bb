/** `orch start` from the compiled binary on real repositories, with the simulated agent. */
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newRunState, newStreamRun, saveState } from "../../src/orchestrate/state.ts";
import { gitStatus } from "../git/repo-helpers.ts";
import { cleanEnv, orchBin, tempDir } from "../helpers.ts";
import {
  freePort,
  lastTaskAt,
  maxConcurrency,
  PRD_GUIDE,
  setup,
  simThen,
  startInBackground,
  startsOf,
  waitForRecords,
} from "./start-helpers.ts";

const HEADLESS = ["--launcher", "headless"];

/** A local webhook receiver on 127.0.0.1:0. */
function webhookServer(status = 200) {
  const texts: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as { text: string };
      expect(req.method).toBe("POST");
      expect(req.headers.get("content-type")).toBe("application/json");
      expect(Object.keys(body)).toEqual(["text"]);
      texts.push(body.text);
      return new Response("ok", { status });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/hook`, texts, stop: () => server.stop(true) };
}

describe("orch start --dry-run / --status", () => {
  test("the plan by phase, what can start now in the guide's words, and progress per phase", async () => {
    const p = await setup(PRD_GUIDE);
    const port = freePort(); // the preflight's port line, whatever else this machine runs on 9090
    const dry = await p.orch(["start", "--dry-run"], { HTTP_API_PORT: String(port) });
    expect(dry).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        "Execution plan (dry run: nothing is launched)",
        "",
        "Foundation phase:",
        "  Stream-A: Core — 0/2 tasks",
        "Parallel phase:",
        "  Stream-B: API — 0/1 tasks, depends on Stream-A",
        "  Stream-C: UI — 0/1 tasks, depends on Stream-A",
        "Integration phase:",
        "  Stream-D: Tests — 0/1 tasks, depends on Stream-B, Stream-C",
        "",
        "⚠ Foundation incomplete: Stream-A (0.0%) — parallel streams wait",
        "Can start now: Stream-A",
        'Launcher: manual; agent command: claude "/continue {streamId}"; at most 5 at once',
        "",
        "Preflight:",
        `  ✓ git repository at ${p.root}`,
        "  ✓ main checkout clean",
        "  ⚠ .mcp.json is missing and .claude/commands/continue.md is missing: run orch init (Claude Code reaches orch and works a stream through them)",
        `  ✓ API port 127.0.0.1:${port} free`,
        "",
      ].join("\n"),
    });
    for (const id of ["TASK-001", "TASK-002"]) expect((await p.orch(["task", "update", id, "--status", "completed"])).code).toBe(0);
    const after = await p.orch(["start", "--dry-run"]);
    expect(after.stdout).toContain("  Stream-A: Core — 2/2 tasks ✓\n");
    expect(after.stdout).toContain("\n✓ Foundation complete, parallel streams can start\nCan start now: Stream-B, Stream-C\n");
    const json = JSON.parse((await p.orch(["start", "--dry-run", "--json", "--max-parallel", "2", "--launcher", "headless"])).stdout);
    expect(json).toMatchObject({
      streams: ["Stream-A", "Stream-B", "Stream-C", "Stream-D"],
      lines: ["✓ Foundation complete, parallel streams can start"],
      canStart: ["Stream-B", "Stream-C"],
      settings: { launcher: "headless", maxParallel: 2, restartLimit: 2 },
    });

    const status = await p.orch(["start", "--status"]);
    expect(status.code).toBe(0);
    expect(status.stdout.split("\n").filter((l) => /^\S/.test(l))).toEqual([
      "Start Demo (INIT-start-demo)",
      "Overall      ████████░░░░░░░░░░░░  40.0% (2/5 tasks)",
      "Foundation   ████████████████████ 100.0% (2/2 tasks) ✓ COMPLETE",
      "Parallel     ░░░░░░░░░░░░░░░░░░░░   0.0% (0/2 tasks)",
      "Integration  ░░░░░░░░░░░░░░░░░░░░   0.0% (0/1 tasks)",
    ]);
    expect(status.stdout).toContain("  Stream-D   ░░░░░░░░░░░░░░░░░░░░   0.0% (0/1 tasks)  ⚠ Waiting on: Stream-B, Stream-C\n");
    expect(status.stdout).not.toContain("Run:"); // nothing has run yet
    // Neither command launched or wrote anything.
    expect(p.records()).toEqual([]);
    expect(existsSync(join(p.root, ".claude"))).toBe(false);
  });
});

describe("orch start --launcher headless (simulated agents)", () => {
  test("the whole run: foundation first, parallel in worktrees, merged, integration in the main worktree; env, logs, state", async () => {
    const p = await setup(PRD_GUIDE);
    // A wrapper agent: notes what it was given, prints a line to its log, then is the simulated agent.
    const dir = tempDir();
    const script = join(dir, "agent.sh");
    writeFileSync(
      script,
      `#!/bin/sh\nprintf '%s|%s|%s|%s|%s|%s\\n' "$1" "$(pwd -P)" "$2" "$3" "$ORCH_DB" "$HTTP_API_PORT" >> "${join(dir, "seen.txt")}"\necho "hello from $ORCH_STREAM_ID"\nexec "${orchBin()}" agent-sim "$ORCH_STREAM_ID" --pause 30 --record "${p.recordFile}"\n`,
    );
    chmodSync(script, 0o755);
    const hook = webhookServer();
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", `"${script}" {streamId} {worktree} {projectRoot}`], {
      HTTP_API_PORT: "9555",
      ORCHESTRATION_WEBHOOK_URL: hook.url,
    });
    hook.stop();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("orch start — Start Demo: 4 streams, launcher headless, at most 5 at once");
    expect(lines.at(-1)).toBe("✓ All 4 streams complete.");
    for (const l of [
      "Phase 1: Foundation",
      "Phase 2: Parallel",
      "Phase 3: Integration",
      "✓ Worktree created: .claude/worktrees/Stream-B (branch stream-b)",
      "✓ Stream-A complete (2/2 tasks)",
      "✓ Stream-D complete (1/1 tasks)",
    ])
      expect(lines).toContain(l);
    expect(lines.filter((l) => /^⇄ Stream-[BC] merged into main \([0-9a-f]{7}\)$/.test(l))).toHaveLength(2);
    expect(lines.indexOf("Phase 2: Parallel")).toBeGreaterThan(lines.indexOf("✓ Stream-A complete (2/2 tasks)"));

    // From the timeline: no parallel agent before the foundation's last task; integration after both.
    const recs = p.records();
    expect(startsOf(recs).map((s) => s.stream).sort()).toEqual(["Stream-A", "Stream-B", "Stream-C", "Stream-D"]);
    const foundationDone = lastTaskAt(recs, "Stream-A");
    for (const s of startsOf(recs).filter((s) => s.stream === "Stream-B" || s.stream === "Stream-C")) expect(s.t).toBeGreaterThanOrEqual(foundationDone);
    expect(startsOf(recs, "Stream-D")[0]!.t).toBeGreaterThanOrEqual(Math.max(lastTaskAt(recs, "Stream-B"), lastTaskAt(recs, "Stream-C")));

    // What each agent was given: working directory, placeholders, environment.
    const seen = Object.fromEntries(
      readFileSync(join(dir, "seen.txt"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split("|"))
        .map(([id, ...rest]) => [id, rest]),
    );
    const wt = (id: string) => join(p.root, ".claude/worktrees", id);
    expect(seen).toEqual({
      "Stream-A": [p.root, p.root, p.root, p.dbLocation, "9555"],
      "Stream-B": [wt("Stream-B"), wt("Stream-B"), p.root, p.dbLocation, "9555"],
      "Stream-C": [wt("Stream-C"), wt("Stream-C"), p.root, p.dbLocation, "9555"],
      "Stream-D": [p.root, p.root, p.root, p.dbLocation, "9555"],
    });
    for (const id of ["Stream-A", "Stream-B", "Stream-C", "Stream-D"])
      expect(readFileSync(join(p.root, ".claude/orchestration/logs", `${id}.log`), "utf8")).toStartWith(`hello from ${id}\n`);

    // Git: the parallel work came back through merge commits; the integration commit sits on top.
    const log = p.git("log", "--format=%s", "main").trim().split("\n");
    expect(log[0]).toBe("TASK-005: end to end");
    expect(log.filter((l) => l.startsWith("Merge branch 'stream-"))).toHaveLength(2);
    expect(log).toContain("TASK-003: routes");
    expect(gitStatus(p.root)).toBe(""); // state file, logs and worktrees stay out of git status

    const state = p.state();
    expect(state).toMatchObject({
      version: 1,
      launcher: "headless",
      outcome: "complete",
      completedStreams: ["Stream-A", "Stream-B", "Stream-C", "Stream-D"],
      mergedStreams: ["Stream-B", "Stream-C"],
      failedStreams: [],
      conflict: null,
    });
    expect(state.streams["Stream-B"]).toMatchObject({ status: "merged", launches: 1, restarts: 0, cwd: wt("Stream-B"), log: join(p.root, ".claude/orchestration/logs/Stream-B.log") });
    expect(state.streams["Stream-B"].mergeCommit).toMatch(/^[0-9a-f]{40}$/);
    const streams = JSON.parse((await p.orch(["stream", "list", "--json"])).stdout).streams;
    expect(streams.map((s: { status: string }) => s.status)).toEqual(["completed", "completed", "completed", "completed"]);

    // The webhook: each stream's completion and the end of the run (sent concurrently: any order).
    expect([...hook.texts].sort()).toEqual(
      [
        "✓ Stream-A complete! (foundation phase)",
        "✓ Stream-B complete! (parallel phase)",
        "✓ Stream-C complete! (parallel phase)",
        "✓ Stream-D complete! (integration phase)",
        "✓ Orchestration complete: 4/4 streams",
      ].sort(),
    );

    const status = await p.orch(["start", "--status"]);
    expect(status.stdout).toContain("Overall      ████████████████████ 100.0% (5/5 tasks)");
    expect(status.stdout).toMatch(/\nRun: complete \(started \S+, launcher headless\)\n$/);
  });

  const WIDE = `# Initiative: Wide

## Foundation Phase
### Stream-F1: Base one
- TASK-101: a
### Stream-F2: Base two
- TASK-102: b

## Parallel Phase
### Stream-P1: One (depends on Stream-F1, Stream-F2)
- TASK-201: a
### Stream-P2: Two (depends on Stream-F1, Stream-F2)
- TASK-202: b
### Stream-P3: Three (depends on Stream-F1, Stream-F2)
- TASK-203: c

## Integration Phase
### Stream-I1: Glue (depends on Stream-P1, Stream-P2, Stream-P3)
- TASK-301: a
### Stream-I2: Docs (depends on Stream-P1, Stream-P2, Stream-P3)
- TASK-302: b
`;

  for (const limit of [1, 2]) {
    test(`--max-parallel ${limit}: never more than ${limit} agents at once; every stream still runs`, async () => {
      const p = await setup(WIDE);
      const r = await p.orch(["start", ...HEADLESS, "--max-parallel", String(limit), "--agent-cmd", p.sim("--pause 20")]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`launcher headless, at most ${limit} at once`);
      const recs = p.records();
      expect(startsOf(recs)).toHaveLength(7);
      expect(maxConcurrency(recs)).toBe(limit); // reaches the limit, never passes it
      const foundationDone = Math.max(lastTaskAt(recs, "Stream-F1"), lastTaskAt(recs, "Stream-F2"));
      for (const s of startsOf(recs).filter((s) => s.stream.startsWith("Stream-P"))) expect(s.t).toBeGreaterThanOrEqual(foundationDone);
      const parallelDone = Math.max(...["Stream-P1", "Stream-P2", "Stream-P3"].map((id) => lastTaskAt(recs, id)));
      for (const s of startsOf(recs).filter((s) => s.stream.startsWith("Stream-I"))) expect(s.t).toBeGreaterThanOrEqual(parallelDone);
    });
  }

  const FLAKY = `# Initiative: Flaky

## Foundation Phase
### Stream-A: Core
- TASK-001: one
- TASK-002: two
- TASK-003: three
- TASK-004: four

## Parallel Phase
### Stream-B: API
- TASK-005: routes
`;

  test("an agent that keeps exiting early: restarted up to the limit, then the stream fails, is alerted, and the run ends (exit 1)", async () => {
    const p = await setup(FLAKY);
    const hook = webhookServer();
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", p.sim("--pause 20 --stop-after 1")], { ORCHESTRATION_WEBHOOK_URL: hook.url });
    hook.stop();
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("↻ "))).toEqual([
      "↻ Stream-A: agent exited (code 3) with 3 task(s) left; restarting (1/2)",
      "↻ Stream-A: agent exited (code 3) with 2 task(s) left; restarting (2/2)",
    ]);
    expect(lines.filter((l) => l.startsWith("▶ Stream-A")).map((l) => l.replace(/: pid .*/, ""))).toEqual([
      "▶ Stream-A (foundation) started",
      "▶ Stream-A (foundation) started again (restart 1 of 2)",
      "▶ Stream-A (foundation) started again (restart 2 of 2)",
    ]);
    expect(lines.slice(-2)).toEqual([
      "✖ Stream-A failed: its agent exited 3 time(s) with the stream unfinished (restart limit 2)",
      "✖ Run ended with 0/2 streams complete; failed: Stream-A",
    ]);
    const recs = p.records();
    expect(recs.map((x) => `${x.event}${x.task ? ` ${x.task}` : ""}`)).toEqual([
      "start", "task TASK-001", "crash",
      "start", "task TASK-002", "crash",
      "start", "task TASK-003", "crash",
    ]);
    expect(new Set(recs.map((x) => x.pid)).size).toBe(3);
    expect(startsOf(recs, "Stream-B")).toEqual([]); // its dependency failed
    expect(p.state()).toMatchObject({ outcome: "failed", failedStreams: ["Stream-A"], streams: { "Stream-A": { status: "failed", launches: 3, restarts: 2, lastExitCode: 3 } } });
    expect([...hook.texts].sort()).toEqual(["✖ Orchestration ended: 0/2 streams complete", "✖ Stream-A failed! (foundation phase)"]);

    // The count lives in the state file: resuming does not hand out fresh restarts.
    const again = await p.orch(["start", "--resume", ...HEADLESS, "--agent-cmd", p.sim("--pause 20 --stop-after 1")]);
    expect(again.code).toBe(1);
    expect(again.stdout.trimEnd().split("\n").at(-1)).toBe("✖ Run ended with 0/2 streams complete; failed: Stream-A");
    expect(startsOf(p.records())).toHaveLength(3);
  });

  test("kill -9 of orch start between restarts: --resume keeps the restart count from the state file", async () => {
    const p = await setup(FLAKY);
    const args = [...HEADLESS, "--restart-limit", "2", "--agent-cmd", p.sim("--pause 150 --stop-after 1")];
    const bg = startInBackground(p, args);
    await waitForRecords(p, (recs) => startsOf(recs).length === 2);
    bg.proc.kill("SIGKILL");
    expect((await bg.result()).code).toBe(137);
    // The second agent crashes while orch is away; --resume counts that exit as the second restart.
    await waitForRecords(p, (recs) => recs.filter((x) => x.event === "crash").length === 2);
    const r = await p.orch(["start", "--resume", ...args]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("↻ Stream-A: agent exited (code 3) with 2 task(s) left; restarting (2/2)\n");
    expect(startsOf(p.records())).toHaveLength(3); // 1 + restartLimit, across both orch processes
    expect(p.state().streams["Stream-A"]).toMatchObject({ status: "failed", launches: 3, restarts: 2 });
  });

  test("kill -9 of orch start mid-run, then --resume: follows the live agent, launches no duplicate, finishes", async () => {
    const p = await setup(PRD_GUIDE.replace("- TASK-003: routes", "- TASK-003: routes\n- TASK-006: more routes"));
    // A slow worktree setup: after Stream-B's agent starts, orch spends 400 ms on Stream-C's worktree.
    mkdirSync(join(p.root, ".claude/orchestration"), { recursive: true });
    writeFileSync(join(p.root, ".claude/orchestration/orchestration-config.json"), JSON.stringify({ worktree: { setup: ["sleep", "0.4"] } }));
    const args = [...HEADLESS, "--agent-cmd", p.sim("--pause 250")];
    const bg = startInBackground(p, args);
    // Killed right after the first parallel agent started, while the next worktree is being made.
    await waitForRecords(p, (recs) => startsOf(recs, "Stream-B").length === 1);
    bg.proc.kill("SIGKILL");
    const killed = await bg.result();
    expect(killed.code).toBe(137);
    expect(startsOf(p.records(), "Stream-C")).toEqual([]);
    const state = p.state();
    expect(state.outcome).toBe("running"); // as the crash left it
    // The agent was recorded the moment it started, not at the end of the scheduling round.
    expect(state.streams["Stream-B"]).toMatchObject({ status: "running", pid: startsOf(p.records(), "Stream-B")[0]!.pid });

    // Agents of the dead run are still working: a plain start refuses, naming them.
    const plain = await p.orch(["start", ...args]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe(`orch: agents of an earlier run are still working (Stream-B pid ${state.streams["Stream-B"].pid}): use orch start --resume\n`);

    const r = await p.orch(["start", "--resume", ...args]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`↺ Stream-B: its agent is still running (pid ${state.streams["Stream-B"].pid}); following it\n`);
    expect(r.stdout).toContain("(resumed)");
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("✓ All 4 streams complete.");
    const recs = p.records();
    for (const id of ["Stream-A", "Stream-B", "Stream-C", "Stream-D"]) expect(startsOf(recs, id)).toHaveLength(1);
    expect(p.state()).toMatchObject({ outcome: "complete", mergedStreams: ["Stream-B", "Stream-C"] });
    expect(p.git("log", "--format=%s", "-1", "main").trim()).toBe("TASK-005: end to end");
  });

  test("killed between spawning an agent and saving its pid: --resume finds the agent by its launch token, never a second one", async () => {
    const p = await setup(PRD_GUIDE);
    const initiativeId = JSON.parse((await p.orch(["stream", "list", "--json"])).stdout).streams[0].initiativeId;
    // The state as such a kill leaves it: the launch decided and saved, no pid yet.
    const state = newRunState({ initiativeId, launcher: "headless", maxParallelStreams: 5, restartLimit: 2, now: new Date().toISOString() });
    const argv = [orchBin(), "agent-sim", "Stream-A", "--pause", "300", "--record", p.recordFile];
    state.streams["Stream-A"] = { ...newStreamRun(), status: "running", argv, cwd: p.root, launchToken: "tok-kill-window" };
    saveState(p.root, { ...state, orchestratorPid: null });
    const agent = Bun.spawn(argv, { cwd: p.root, env: cleanEnv({ ...p.env, ORCH_STREAM_ID: "Stream-A", ORCH_LAUNCH_TOKEN: "tok-kill-window" }), stdout: "ignore", stderr: "ignore" });
    await waitForRecords(p, (recs) => startsOf(recs, "Stream-A").length === 1);
    const r = await p.orch(["start", "--resume", ...HEADLESS, "--agent-cmd", p.sim("--pause 20")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`↺ Stream-A: its agent is still running (pid ${agent.pid}); following it\n`);
    expect(startsOf(p.records(), "Stream-A")).toHaveLength(1);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("✓ All 4 streams complete.");
  });

  test("Ctrl+C: stops launching, saves the state (stopped), says what still runs, exit 0; --resume finishes without a second agent", async () => {
    const p = await setup(PRD_GUIDE);
    const args = [...HEADLESS, "--agent-cmd", p.sim("--pause 200")];
    const bg = startInBackground(p, args);
    await waitForRecords(p, (recs) => startsOf(recs, "Stream-A").length === 1);
    bg.proc.kill("SIGINT");
    const r = await bg.result();
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("\nStopping: no new agents will be launched…\n");
    const pid = startsOf(p.records(), "Stream-A")[0]!.pid;
    expect(r.stdout.trimEnd().split("\n").slice(-2)).toEqual([
      "Stopped launching; state saved to .claude/orchestration/orchestration-state.json.",
      `Still running: Stream-A (pid ${pid}) — orch start --resume follows them again.`,
    ]);
    expect(p.state()).toMatchObject({ outcome: "stopped", streams: { "Stream-A": { status: "running", pid }, "Stream-B": { status: "pending" } } });

    const resumed = await p.orch(["start", "--resume", ...args.slice(0, 2), "--agent-cmd", p.sim("--pause 20")]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`↺ Stream-A: its agent is still running (pid ${pid}); following it\n`);
    const recs = p.records();
    expect(startsOf(recs, "Stream-A")).toHaveLength(1);
    expect(startsOf(recs)).toHaveLength(4);
    expect(p.state().outcome).toBe("complete");
  });

  test("two parallel streams edit the same file: the conflict stops the run before integration; nothing archived or removed; resolved, --resume finishes", async () => {
    const p = await setup(
      PRD_GUIDE.replace("- TASK-003: routes", "- TASK-003: routes [files: src/shared.ts]").replace("- TASK-004: pages", "- TASK-004: pages [files: src/shared.ts]"),
    );
    const hook = webhookServer();
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", p.sim("--pause 20")], { ORCHESTRATION_WEBHOOK_URL: hook.url });
    hook.stop();
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    const merged = lines.find((l) => l.startsWith("⇄ "))!;
    const [, first] = merged.match(/^⇄ (Stream-[BC]) merged into main \([0-9a-f]{7}\)$/)!;
    const second = first === "Stream-B" ? "Stream-C" : "Stream-B";
    expect(lines.slice(-2)).toEqual([
      `✖ Merging ${second.toLowerCase()} into main would conflict in: src/shared.ts`,
      `  Nothing was merged, archived or removed. Resolve it: in ${p.root} run \`git merge ${second.toLowerCase()}\`, fix those files, commit; then \`orch start --resume\`.`,
    ]);
    expect(startsOf(p.records(), "Stream-D")).toEqual([]);
    expect(p.state()).toMatchObject({ outcome: "conflict", conflict: { streamId: second, into: "main", files: ["src/shared.ts"] }, mergedStreams: [first] });
    expect(hook.texts).toContain(`✖ ${second}: merge conflict in src/shared.ts — integration stopped`);
    // Nothing archived, no worktree removed, the main checkout untouched (not mid-merge, clean).
    const streams = JSON.parse((await p.orch(["stream", "list", "--all", "--json"])).stdout).streams;
    expect(streams.map((s: { archived: boolean }) => s.archived)).toEqual([false, false, false, false]);
    for (const id of ["Stream-B", "Stream-C"]) expect(existsSync(join(p.root, ".claude/worktrees", id, "src/shared.ts"))).toBe(true);
    expect(gitStatus(p.root)).toBe("");
    expect(existsSync(join(p.root, ".git/MERGE_HEAD"))).toBe(false);
    const status = await p.orch(["start", "--status"]);
    expect(status.stdout).toContain(`; merge conflict in ${second}: src/shared.ts\n`);

    // The next step it named: merge by hand, resolve, commit, --resume.
    Bun.spawnSync(["git", "merge", "-q", second.toLowerCase()], { cwd: p.root, stdout: "ignore", stderr: "ignore" });
    writeFileSync(join(p.root, "src/shared.ts"), "resolved\n");
    p.git("add", "src/shared.ts");
    p.git("commit", "-q", "-m", "resolve");
    const resumed = await p.orch(["start", "--resume", ...HEADLESS, "--agent-cmd", p.sim("--pause 20")]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`⇄ ${second} already in main\n`);
    expect(startsOf(p.records(), "Stream-D")).toHaveLength(1);
    expect(p.state()).toMatchObject({ outcome: "complete", conflict: null });
  });

  test("an agent that marks tasks done before committing: orch waits for it to end, and every commit reaches main", async () => {
    const p = await setup(PRD_GUIDE);
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", p.sim("--pause 150 --done-before-commit")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.at(-1)).toBe("✓ All 4 streams complete.");
    expect(lines).toContain("… Stream-B: all tasks done; waiting for its agent to end before merging");
    // Every task's commit is on main, the late ones included, and nothing is left outside it.
    const log = p.git("log", "--format=%s", "main");
    for (const t of ["TASK-001", "TASK-002", "TASK-003", "TASK-004", "TASK-005"]) expect(log).toContain(`${t}:`);
    for (const id of ["Stream-B", "Stream-C"]) expect(p.git("log", "--oneline", `main..refs/heads/${id.toLowerCase()}`)).toBe("");
    // Each merge came after its agent's last commit; integration started after both merges.
    const recs = p.records();
    const lastCommit = (id: string) => Math.max(...recs.filter((x) => x.event === "committed" && x.stream === id).map((x) => x.t));
    expect(startsOf(recs, "Stream-D")[0]!.t).toBeGreaterThan(Math.max(lastCommit("Stream-B"), lastCommit("Stream-C")));
  });

  test("an agent that ends leaving uncommitted changes: the run stops naming them, nothing of it merged; committed, --resume finishes", async () => {
    const p = await setup(PRD_GUIDE);
    const script = simThen(p, `[ "$ORCH_STREAM_ID" = Stream-B ] && echo draft > draft.txt`);
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", `"${script}"`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✖ Stream-B: its agent ended leaving uncommitted changes in .claude/worktrees/Stream-B: draft.txt\n");
    expect(r.stdout).not.toContain("All 4 streams complete");
    expect(r.stdout).not.toContain("⇄ Stream-B");
    expect(p.state()).toMatchObject({ outcome: "conflict", conflict: { streamId: "Stream-B", kind: "uncommitted", files: ["draft.txt"] } });
    expect(startsOf(p.records(), "Stream-D")).toEqual([]);

    const wt = join(p.root, ".claude/worktrees/Stream-B");
    Bun.spawnSync(["git", "add", "draft.txt"], { cwd: wt });
    Bun.spawnSync(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "draft"], { cwd: wt });
    const again = await p.orch(["start", "--resume", ...HEADLESS, "--agent-cmd", `"${script}"`]);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(again.stdout.trimEnd().split("\n").at(-1)).toBe("✓ All 4 streams complete.");
    expect(readFileSync(join(p.root, "draft.txt"), "utf8")).toBe("draft\n");
  });

  test("a foundation agent that ends leaving files uncommitted in the main checkout: the run stops before any parallel stream starts", async () => {
    const p = await setup(PRD_GUIDE);
    writeFileSync(join(p.root, "notes.txt"), "the user's own untracked file\n");
    const script = simThen(p, `[ "$ORCH_STREAM_ID" = Stream-A ] && echo forgotten > theme.ts`);
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", `"${script}"`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✖ Stream-A: its agent ended leaving uncommitted changes in the main checkout: theme.ts\n");
    expect(r.stdout).not.toContain("✓ Stream-A complete");
    expect(startsOf(p.records()).map((x) => x.stream)).toEqual(["Stream-A"]);

    p.git("add", "theme.ts");
    p.git("commit", "-qm", "the foundation's last file");
    const again = await p.orch(["start", "--resume", ...HEADLESS, "--agent-cmd", `"${script}"`]);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(again.stdout.trimEnd().split("\n").at(-1)).toBe("✓ All 4 streams complete.");
  });

  test("an agent that commits on another branch in its worktree: the run stops saying so, never 'already in main'; brought back, --resume merges it", async () => {
    const p = await setup(PRD_GUIDE);
    const dir = tempDir();
    const script = join(dir, "agent.sh");
    writeFileSync(script, `#!/bin/sh\n[ "$ORCH_STREAM_ID" = Stream-B ] && git switch -q -c side\nexec "${orchBin()}" agent-sim "$ORCH_STREAM_ID" --pause 20 --record "${p.recordFile}"\n`);
    chmodSync(script, 0o755);
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", `"${script}"`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✖ Stream-B: its worktree .claude/worktrees/Stream-B has side checked out, not stream-b: what its agent committed there is not on stream-b\n");
    expect(r.stdout).not.toContain("⇄ Stream-B");
    expect(p.state()).toMatchObject({ outcome: "conflict", conflict: { streamId: "Stream-B", kind: "off-branch" } });
    expect(startsOf(p.records(), "Stream-D")).toEqual([]);

    const wt = join(p.root, ".claude/worktrees/Stream-B");
    for (const args of [["switch", "-q", "stream-b"], ["merge", "-q", "--ff-only", "side"]]) expect(Bun.spawnSync(["git", ...args], { cwd: wt }).exitCode).toBe(0);
    const again = await p.orch(["start", "--resume", ...HEADLESS, "--agent-cmd", `"${script}"`]);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(p.git("log", "--format=%s", "main")).toContain("TASK-003:");
  });

  test("two orch start at the same moment: one runs, the other is refused at once; no stream gets two agents", async () => {
    const p = await setup(PRD_GUIDE);
    const [a, b] = await Promise.all([0, 1].map(() => p.orch(["start", ...HEADLESS, "--agent-cmd", p.sim("--pause 40")])));
    const results = [a!, b!].sort((x, y) => x.code - y.code);
    expect(results.map((r) => r.code)).toEqual([0, 1]);
    expect(results[1]!.stderr).toMatch(/^orch: another orch start is running this project \(pid \d+\): wait for it, or stop it \(Ctrl\+C\) and use orch start --resume\n$/);
    expect(results[1]!.stdout).toBe("");
    const starts = startsOf(p.records()).map((r) => r.stream).sort();
    expect(starts).toEqual(["Stream-A", "Stream-B", "Stream-C", "Stream-D"]);
    expect(gitStatus(p.root)).toBe("");
  });

  test("a foundation finished and archived earlier: the parallel streams start at once; the monitor and --dry-run do not wait on it", async () => {
    const p = await setup(PRD_GUIDE);
    for (const t of ["TASK-001", "TASK-002"]) expect((await p.orch(["task", "update", t, "--status", "completed"])).code).toBe(0);
    expect((await p.orch(["stream", "archive", "Stream-A"])).code).toBe(0);
    const dry = await p.orch(["start", ...HEADLESS, "--dry-run", "--agent-cmd", p.sim("--pause 20")]);
    expect(dry.stdout).toContain("Can start now: Stream-B, Stream-C\n");
    const watch = await p.orch(["watch", "--once"], { HTTP_API_PORT: String(freePort()) });
    expect(watch.stdout).not.toContain("Waiting on: Stream-A");
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", p.sim("--pause 20")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(startsOf(p.records()).map((x) => x.stream).sort()).toEqual(["Stream-B", "Stream-C", "Stream-D"]);
  });

  test("an agent that deletes its worktree and branch: the run stops saying its branch is gone, never 'merged'", async () => {
    const p = await setup(PRD_GUIDE);
    const script = simThen(p, `[ "$ORCH_STREAM_ID" = Stream-B ] && W=$(pwd) && cd ../../.. && git worktree remove --force "$W" && git branch -D stream-b`);
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", `"${script}"`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✖ Stream-B: its branch is gone (its agent worked in ");
    expect(r.stdout).not.toContain("⇄ Stream-B");
    expect(r.stdout).not.toContain("All 4 streams complete");
    expect(p.state().streams["Stream-B"].status).not.toBe("merged");
  });

  test("a foundation agent that moves the main checkout to another branch: the run stops, nothing merged into that branch", async () => {
    const p = await setup(PRD_GUIDE);
    const script = simThen(p, `[ "$ORCH_STREAM_ID" = Stream-A ] && git switch -q -c featureA`);
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", `"${script}"`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✖ Stream-A: its agent left the main checkout on featureA, not main: what it committed there is not on main.\n");
    expect(startsOf(p.records()).map((x) => x.stream)).toEqual(["Stream-A"]);
  });

  test("an agent whose background job commits after it exited: orch waits for its process group, and the commit reaches main", async () => {
    const p = await setup(PRD_GUIDE);
    const script = simThen(p, `[ "$ORCH_STREAM_ID" = Stream-B ] && (sleep 1; echo late > late.txt; git add late.txt; git -c user.name=a -c user.email=a@a commit -qm LATE-COMMIT) >/dev/null 2>&1 &`);
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", `"${script}"`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(p.git("log", "--format=%s", "main")).toContain("LATE-COMMIT");
  });

  const ID = "git -c user.name=a -c user.email=a@a";
  for (const [what, then] of [
    ["commits on a side branch, then switches back", `git switch -q -c side && echo s > side.txt && git add side.txt && ${ID} commit -qm SIDE && git switch -q stream-b`],
    ["commits on a detached HEAD, then goes back", `git checkout -q --detach && echo d > d.txt && git add d.txt && ${ID} commit -qm DETACHED && git checkout -q stream-b`],
    ["stashes its work", `echo wip > wip.txt && git add wip.txt && ${ID} stash -q`],
  ] as const)
    test(`an agent that ${what}: the run stops naming the commits left off its branch`, async () => {
      const p = await setup(PRD_GUIDE);
      const script = simThen(p, `[ "$ORCH_STREAM_ID" = Stream-B ] && ${then}`);
      const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", `"${script}"`]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/✖ Stream-B: its agent made commits in \.claude\/worktrees\/Stream-B that are not on stream-b: [0-9a-f]{7}/);
      expect(r.stdout).not.toContain("⇄ Stream-B");
      expect(startsOf(p.records(), "Stream-D")).toEqual([]);
    });

  test("--stream with a stream that does not exist: one line, exit 1, with --dry-run too", async () => {
    const p = await setup(PRD_GUIDE);
    for (const extra of [[], ["--dry-run"]]) expect(await p.orch(["start", "--stream", "Nope", ...extra])).toMatchObject({ code: 1, stdout: "", stderr: "orch: Stream not found: Nope\n" });
  });

  test("a failing webhook is logged, never fatal", async () => {
    const p = await setup("# Initiative: Hooked\n\n## Foundation Phase\n### Stream-A: Core\n- TASK-001: one\n");
    const hook = webhookServer(500);
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", p.sim("--pause 20")], { ORCHESTRATION_WEBHOOK_URL: hook.url });
    hook.stop();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("⚠ Webhook notification failed: HTTP 500\n");
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("⚠ Webhook notification failed: HTTP 500");
    expect(hook.texts.sort()).toEqual(["✓ Orchestration complete: 1/1 streams", "✓ Stream-A complete! (foundation phase)"]);
    // Nobody listening at all: the same.
    const closed = await p.orch(["start", ...HEADLESS, "--agent-cmd", p.sim("--pause 20")], { ORCHESTRATION_WEBHOOK_URL: hook.url });
    expect(closed.code).toBe(0);
    expect(closed.stdout).toMatch(/⚠ Webhook notification failed: .+\n/);
  });

  test("a missing agent command: refused before anything starts (exit 2); one that vanishes mid-run fails the stream with one clear line (exit 1)", async () => {
    const p = await setup(PRD_GUIDE);
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", "nope-not-installed {streamId}"]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: "orch: agent command not found on PATH: nope-not-installed (install it, or choose another with --agent-cmd)\n" });
    expect(existsSync(join(p.root, ".claude"))).toBe(false);

    // An agent script that is there for the preflight and the first stream, then gone.
    const q = await setup("# Initiative: Vanish\n\n## Foundation Phase\n### Stream-A: Core\n- TASK-001: one\n\n## Parallel Phase\n### Stream-B: API\n- TASK-002: two\n");
    const script = join(tempDir(), "agent.sh");
    writeFileSync(script, `#!/bin/sh\nrm -f "$0"\nexec "${orchBin()}" agent-sim "$1" --pause 20 --record "${q.recordFile}"\n`);
    chmodSync(script, 0o755);
    const gone = await q.orch(["start", ...HEADLESS, "--agent-cmd", `"${script}" {streamId}`]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe("");
    expect(gone.stdout.trimEnd().split("\n").slice(-2)).toEqual([
      `✖ Stream-B failed to start: agent command not found: ${script} (install it, or choose another with --agent-cmd)`,
      "✖ Run ended with 1/2 streams complete; failed: Stream-B",
    ]);
    expect(q.state()).toMatchObject({ outcome: "failed", failedStreams: ["Stream-B"] });
  });

  test("no progress and no heartbeat for stallTimeout: alerted once", async () => {
    const p = await setup("# Initiative: Stall\n\n## Foundation Phase\n### Stream-A: Core\n- TASK-001: one\n");
    const hook = webhookServer();
    const r = await p.orch(["start", ...HEADLESS, "--stall-timeout", "1", "--restart-limit", "0", "--agent-cmd", "sleep 2.5"], { ORCHESTRATION_WEBHOOK_URL: hook.url });
    hook.stop();
    expect(r.code).toBe(1);
    const stalls = r.stdout.split("\n").filter((l) => l.startsWith("⚠ Stream-A"));
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toMatch(/^⚠ Stream-A: no progress and no heartbeat for [12] s$/);
    expect(hook.texts.filter((t) => t.startsWith("⚠ Stream-A stalled: no progress for "))).toHaveLength(1);
  });
});

describe("orch start --stream ID", () => {
  test("gated by dependencies; runs that one stream; an integration stream gets its parallel dependencies merged first", async () => {
    const p = await setup(PRD_GUIDE);
    const sim = ["--agent-cmd", p.sim("--pause 20"), ...HEADLESS];
    expect(await p.orch(["start", "--stream", "Stream-B", ...sim])).toEqual({ code: 1, stdout: "", stderr: "orch: Stream cannot start - dependencies incomplete: Stream-A (0.0%)\n" });
    expect(await p.orch(["start", "--stream", "Stream-X", ...sim])).toEqual({ code: 1, stdout: "", stderr: "orch: Stream not found: Stream-X\n" });

    const a = await p.orch(["start", "--stream", "Stream-A", ...sim]);
    expect(a.code).toBe(0);
    expect(a.stdout.trimEnd().split("\n").at(-1)).toBe("✓ Stream-A complete.");
    expect(startsOf(p.records()).map((s) => s.stream)).toEqual(["Stream-A"]);
    expect(gitStatus(p.root)).toBe("");

    const b = await p.orch(["start", "--stream", "Stream-B", ...sim]);
    expect(b.code).toBe(0);
    expect(b.stdout).toContain("✓ Worktree created: .claude/worktrees/Stream-B (branch stream-b)\n");
    expect(b.stdout).not.toContain("⇄"); // its own branch waits for a full run (or orch worktree merge)
    expect(startsOf(p.records()).map((s) => s.stream)).toEqual(["Stream-A", "Stream-B"]);

    expect(await p.orch(["start", "--stream", "Stream-D", ...sim])).toMatchObject({ code: 1, stderr: "orch: Stream cannot start - dependencies incomplete: Stream-C (0.0%)\n" });
    expect((await p.orch(["start", "--stream", "Stream-C", ...sim])).code).toBe(0);
    const d = await p.orch(["start", "--stream", "Stream-D", ...sim]);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/^⇄ Stream-B merged into main \([0-9a-f]{7}\)$/m);
    expect(d.stdout).toMatch(/^⇄ Stream-C merged into main \([0-9a-f]{7}\)$/m);
    expect(d.stdout.trimEnd().split("\n").at(-1)).toBe("✓ Stream-D complete.");
    expect(startsOf(p.records()).map((s) => s.stream)).toEqual(["Stream-A", "Stream-B", "Stream-C", "Stream-D"]);
  });
});

describe("orch start: usage and failures", () => {
  test("bad flags: exit 2 with one orch: line, nothing written", async () => {
    const p = await setup(PRD_GUIDE);
    const cases: [string[], string][] = [
      [["--launcher", "screen"], 'orch: invalid launcher "screen" (expected one of manual, tmux, headless)'],
      [["--max-parallel", "0"], 'orch: flag --max-parallel must be a whole number from 1 to 1000, not "0"'],
      [["--restart-limit", "lots"], 'orch: flag --restart-limit must be a whole number from 0 to 100, not "lots"'],
      [["--agent-cmd", "claude {stream}"], "orch: agent command has an unknown placeholder {stream} (known: {streamId}, {worktree}, {projectRoot})"],
      [["--agent-cmd", 'claude -p "/continue'], 'orch: agent command has an unclosed " quote: claude -p "/continue'],
      [["--dry-run", "--status"], "orch: choose one of --dry-run and --status"],
      [["--dryrun"], 'orch: unknown flag "--dryrun" for "orch start" (did you mean "--dry-run"?)'],
    ];
    for (const [args, line] of cases) {
      const r = await p.orch(["start", ...args]);
      expect({ args, ...r }).toEqual({ args, code: 2, stdout: "", stderr: `${line}\n` });
    }
    expect(existsSync(join(p.root, ".claude"))).toBe(false);
  });

  test("nothing to run or resume; a corrupt state file: exit 1 with one line", async () => {
    const p = await setup(PRD_GUIDE);
    expect(await p.orch(["start", "--resume", ...HEADLESS])).toEqual({ code: 1, stdout: "", stderr: "orch: Nothing to resume: no .claude/orchestration/orchestration-state.json (run orch start first)\n" });
    mkdirSync(join(p.root, ".claude/orchestration"), { recursive: true });
    writeFileSync(join(p.root, ".claude/orchestration/orchestration-state.json"), "{ not json");
    for (const args of [["--status"], ["--resume", ...HEADLESS], [...HEADLESS]]) {
      const r = await p.orch(["start", ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^orch: \.claude\/orchestration\/orchestration-state\.json is not valid JSON \(.+\); move it aside to start afresh\n$/);
    }
    // A saved run of another initiative is not resumed.
    const other = newRunState({ initiativeId: "INIT-other", launcher: "headless", maxParallelStreams: 5, restartLimit: 2, now: "2026-01-01T00:00:00.000Z" });
    saveState(p.root, { ...other, orchestratorPid: null });
    expect(await p.orch(["start", "--resume", ...HEADLESS])).toEqual({
      code: 1,
      stdout: "",
      stderr: "orch: the saved run is for INIT-other, not INIT-start-demo: start a new run (orch start without --resume)\n",
    });
    const empty = await setup("# Initiative: Other\n\n## Foundation Phase\n### Stream-Z: Z\n- TASK-900: z\n");
    const none = await empty.orch(["start", ...HEADLESS], { ORCH_DB: join(tempDir(), "empty.db") });
    expect(none).toEqual({ code: 1, stdout: "", stderr: "orch: No streams to run: import a PRD first (orch prd import FILE.md)\n" });
    expect(p.records()).toEqual([]);
  });
});

describe("orch start --launcher manual", () => {
  test("prints the guide's manual steps per stream, then follows the database", async () => {
    const p = await setup("# Initiative: By Hand\n\n## Foundation Phase\n### Stream-A: Core\n- TASK-001: one\n\n## Parallel Phase\n### Stream-B: API\n- TASK-002: two\n");
    const bg = startInBackground(p, ["--launcher", "manual"]);
    const reader = lineReader(bg.stdout);
    expect(await reader.until("  4. Run: /continue Stream-A")).toEqual([
      "orch start — By Hand: 2 streams, launcher manual, at most 5 at once",
      "Phase 1: Foundation",
      "─".repeat(56),
      "Starting Stream-A (foundation)...",
      "⚠ Manual action required:",
      "  1. Open new terminal",
      `  2. Run: cd ${p.root}`,
      "  3. Run: claude",
      "  4. Run: /continue Stream-A",
    ]);
    expect((await p.orch(["task", "update", "TASK-001", "--status", "completed"])).code).toBe(0);
    const next = await reader.until("  4. Run: /continue Stream-B");
    expect(next).toContain(`  2. Run: cd ${join(p.root, ".claude/worktrees/Stream-B")}`);
    expect(next).toContain("✓ Stream-A complete (1/1 tasks)");
    expect((await p.orch(["task", "update", "TASK-002", "--status", "completed"])).code).toBe(0);
    const rest = await reader.until("✓ All 2 streams complete.");
    expect(rest).toContain("⇄ Stream-B already in main");
    expect(await bg.proc.exited).toBe(0);
  });
});

describe("a stream that cannot start", () => {
  test("ends the run (exit 1) whatever the launcher, instead of waiting for it forever", async () => {
    const p = await setup("# Initiative: Blocked\n\n## Foundation Phase\n### Stream-A: Core\n- TASK-001: one\n\n## Parallel Phase\n### Stream-B: API\n- TASK-002: two\n");
    expect((await p.orch(["task", "update", "TASK-001", "--status", "completed"])).code).toBe(0);
    // Something that is not a worktree sits where Stream-B's must go: orch will not delete it.
    mkdirSync(join(p.root, ".claude/worktrees/Stream-B"), { recursive: true });
    writeFileSync(join(p.root, ".claude/worktrees/Stream-B/notes.txt"), "mine\n");
    const r = await p.orch(["start", "--launcher", "manual"]);
    expect(r.code).toBe(1);
    expect(r.stdout.trimEnd().split("\n").slice(-2)).toEqual([
      "✖ Stream-B failed to start: .claude/worktrees/Stream-B exists but is not a git worktree: move it away (orch will not delete it)",
      "✖ Run ended with 1/2 streams complete; failed: Stream-B",
    ]);
    expect(readFileSync(join(p.root, ".claude/worktrees/Stream-B/notes.txt"), "utf8")).toBe("mine\n");
  });
});

/** Lines of a child's stdout, handed out up to (and including) the first that equals `line`. */
function lineReader(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  let buf = "";
  const waiter: { wake: (() => void) | null } = { wake: null };
  let ended = false;
  (async () => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      const parts = buf.split("\n");
      buf = parts.pop()!;
      lines.push(...parts);
      waiter.wake?.();
    }
    ended = true;
    waiter.wake?.();
  })();
  return {
    async until(line: string, timeoutMs = 10_000): Promise<string[]> {
      const t0 = performance.now();
      for (;;) {
        const i = lines.indexOf(line);
        if (i >= 0) return lines.splice(0, i + 1);
        if (ended || performance.now() - t0 > timeoutMs) throw new Error(`no line ${JSON.stringify(line)}; got:\n${lines.join("\n")}`);
        await new Promise<void>((r) => {
          waiter.wake = r;
          setTimeout(r, 200);
        });
      }
    },
  };
}
