/** The scheduler, pure: `decide()` and the dry-run summary, on hand-made stream views and run states. */
import { describe, expect, test } from "bun:test";
import type { StreamView } from "../../src/core/streams.ts";
import { decide, dryRunSummary, isDone, planOrder } from "../../src/orchestrate/plan.ts";
import { newRunState, newStreamRun, type RunState, type StreamRun } from "../../src/orchestrate/state.ts";

type Phase = StreamView["streamPhase"];

/** A stream as the database sees it: `done` of `total` tasks completed. */
function sv(id: string, phase: Phase, deps: string[], done = 0, total = 2): StreamView {
  const pct = total ? Math.floor((done * 1000) / total) / 10 : 0;
  return {
    streamId: id,
    streamName: id,
    streamPhase: phase,
    totalTasks: total,
    completedTasks: done,
    inProgressTasks: 0,
    blockedTasks: 0,
    pendingTasks: total - done,
    progressPercentage: pct,
    status: total > 0 && done === total ? "completed" : done > 0 ? "in_progress" : "pending",
    dependencies: deps,
    worktreePath: null,
    branchName: null,
    files: [],
    archived: false,
    initiativeId: "INIT-x",
  };
}

/** A run state with each stream's run status (default pending). */
function state(streams: StreamView[], runs: Record<string, StreamRun["status"]> = {}): RunState {
  const s = newRunState({ initiativeId: "INIT-x", launcher: "headless", maxParallelStreams: 5, restartLimit: 2, now: "2026-01-01T00:00:00.000Z" });
  for (const v of streams) s.streams[v.streamId] = { ...newStreamRun(), status: runs[v.streamId] ?? "pending" };
  return s;
}

/** The guide's shape: A → B, C → D. */
const plan = (a = 0, b = 0, c = 0, d = 0) => [
  sv("Stream-D", "integration", ["Stream-B", "Stream-C"], d),
  sv("Stream-B", "parallel", ["Stream-A"], b),
  sv("Stream-C", "parallel", ["Stream-A"], c),
  sv("Stream-A", "foundation", [], a),
];

describe("decide()", () => {
  test("a dependency done on another machine whose work has not arrived holds its dependents back", () => {
    const streams = plan(2);
    const d = decide(streams, state(streams), { maxParallel: 5, notArrived: new Set(["Stream-A"]) });
    expect(d).toMatchObject({ completed: [], launch: [], finished: false });
    expect(decide(streams, state(streams), { maxParallel: 5 }).launch).toEqual(["Stream-B", "Stream-C"]);
  });

  test("streams another machine works are not launched here, and count against the team's limit", () => {
    const streams = plan(2);
    const st = state(streams, { "Stream-A": "merged" });
    // B is claimed elsewhere: with a limit of 2, only one of C runs here.
    expect(decide(streams, st, { maxParallel: 2, elsewhere: new Set(["Stream-B"]) })).toMatchObject({ launch: ["Stream-C"], elsewhere: ["Stream-B"], running: 2 });
    expect(decide(streams, st, { maxParallel: 1, elsewhere: new Set(["Stream-B"]) })).toMatchObject({ launch: [], elsewhere: ["Stream-B"], running: 1 });
    // A stream whose tasks are all done no longer holds a place, whoever claimed it.
    const bDone = plan(2, 2);
    expect(decide(bDone, state(bDone, { "Stream-A": "merged" }), { maxParallel: 1, elsewhere: new Set(["Stream-B"]) }).launch).toEqual(["Stream-C"]);
  });

  test("a fresh run launches the foundation only; plan order is foundation, parallel, integration", () => {
    const streams = plan();
    expect(planOrder(streams).map((s) => s.streamId)).toEqual(["Stream-A", "Stream-B", "Stream-C", "Stream-D"]);
    expect(decide(streams, state(streams), { maxParallel: 5 })).toEqual({ completed: [], awaitingExit: [], merge: [], launch: ["Stream-A"], stuck: [], paused: [], elsewhere: [], finished: false, running: 1 });
  });

  test("an agent that marked its last task done but is still running: not complete, not merged, nothing launched on it", () => {
    const streams = plan(2, 2, 0);
    const st = state(streams, { "Stream-A": "merged", "Stream-B": "running", "Stream-C": "running" });
    st.streams["Stream-B"]!.agentAlive = true;
    const d = decide(streams, st, { maxParallel: 5 });
    expect(d).toMatchObject({ completed: [], awaitingExit: ["Stream-B"], merge: [], launch: [], running: 2, finished: false });
    // It ended: now it is complete and merged before Stream-D can start.
    st.streams["Stream-B"]!.agentAlive = false;
    expect(decide(streams, st, { maxParallel: 5 })).toMatchObject({ completed: ["Stream-B"], awaitingExit: [], merge: ["Stream-B"], running: 1 });
  });

  test("a foundation whose tasks are done while its agent still runs holds the parallel streams back", () => {
    const streams = plan(2);
    const st = state(streams, { "Stream-A": "running" });
    st.streams["Stream-A"]!.agentAlive = true;
    expect(decide(streams, st, { maxParallel: 5 })).toMatchObject({ completed: [], awaitingExit: ["Stream-A"], launch: [], running: 1 });
  });

  test("a running foundation that is not done yet holds everything back", () => {
    const streams = plan(1);
    const d = decide(streams, state(streams, { "Stream-A": "running" }), { maxParallel: 5 });
    expect(d).toMatchObject({ completed: [], launch: [], running: 1, finished: false });
  });

  test("foundation done in the DB → completed, and both parallel streams launch in the same decision", () => {
    const streams = plan(2);
    const d = decide(streams, state(streams, { "Stream-A": "running" }), { maxParallel: 5 });
    // A's agent may still be alive, but the stream is done: it no longer counts against the limit.
    expect(d).toMatchObject({ completed: ["Stream-A"], merge: [], launch: ["Stream-B", "Stream-C"], running: 2 });
  });

  test("never more than maxParallel running, counting agents already running", () => {
    const streams = [sv("F1", "foundation", []), sv("F2", "foundation", []), sv("F3", "foundation", []), sv("P", "parallel", ["F1", "F2", "F3"])];
    expect(decide(streams, state(streams), { maxParallel: 1 }).launch).toEqual(["F1"]);
    expect(decide(streams, state(streams), { maxParallel: 2 }).launch).toEqual(["F1", "F2"]);
    expect(decide(streams, state(streams, { F1: "running" }), { maxParallel: 2 })).toMatchObject({ launch: ["F2"], running: 2 });
    expect(decide(streams, state(streams, { F1: "running", F2: "running" }), { maxParallel: 2 })).toMatchObject({ launch: [], running: 2 });
    expect(decide(streams, state(streams, { F1: "running" }), { maxParallel: 1 })).toMatchObject({ launch: [], running: 1 });
    // Finished streams free their slot.
    const oneDone = [sv("F1", "foundation", [], 2), sv("F2", "foundation", []), sv("F3", "foundation", []), sv("P", "parallel", ["F1", "F2", "F3"])];
    expect(decide(oneDone, state(oneDone, { F1: "running", F2: "running" }), { maxParallel: 2 })).toMatchObject({ completed: ["F1"], launch: ["F3"], running: 2 });
  });

  test("parallel streams are merged before anything that depends on them starts", () => {
    const streams = plan(2, 2, 1);
    const s = state(streams, { "Stream-A": "completed", "Stream-B": "running", "Stream-C": "running" });
    expect(decide(streams, s, { maxParallel: 5 })).toMatchObject({ completed: ["Stream-B"], merge: ["Stream-B"], launch: [], finished: false });

    const both = plan(2, 2, 2);
    const s2 = state(both, { "Stream-A": "completed", "Stream-B": "completed", "Stream-C": "running" });
    // Completed in the DB is not enough for the integration stream: it needs the code merged.
    expect(decide(both, s2, { maxParallel: 5 })).toMatchObject({ completed: ["Stream-C"], merge: ["Stream-B", "Stream-C"], launch: [] });
    const s3 = state(both, { "Stream-A": "completed", "Stream-B": "merged", "Stream-C": "completed" });
    expect(decide(both, s3, { maxParallel: 5 })).toMatchObject({ merge: ["Stream-C"], launch: [] });
    const s4 = state(both, { "Stream-A": "completed", "Stream-B": "merged", "Stream-C": "merged" });
    expect(decide(both, s4, { maxParallel: 5 })).toMatchObject({ merge: [], launch: ["Stream-D"], finished: false });
  });

  test("a foundation stream needs no merge: it works in the main worktree", () => {
    const streams = [sv("F1", "foundation", [], 2), sv("F2", "foundation", ["F1"])];
    expect(decide(streams, state(streams, { F1: "completed" }), { maxParallel: 5 })).toMatchObject({ merge: [], launch: ["F2"] });
  });

  test("finished only when every stream is done and every parallel one merged", () => {
    const streams = plan(2, 2, 2, 2);
    expect(decide(streams, state(streams, { "Stream-A": "completed", "Stream-B": "merged", "Stream-C": "completed", "Stream-D": "completed" }), { maxParallel: 5 }).finished).toBe(false);
    expect(decide(streams, state(streams, { "Stream-A": "completed", "Stream-B": "merged", "Stream-C": "merged", "Stream-D": "running" }), { maxParallel: 5 })).toMatchObject({
      completed: ["Stream-D"],
      finished: true,
      running: 0,
    });
  });

  test("after a failure: the dependents are stuck (transitively), nothing launches, the run is not finished", () => {
    const streams = plan(1);
    const d = decide(streams, state(streams, { "Stream-A": "failed" }), { maxParallel: 5 });
    expect(d).toEqual({ completed: [], awaitingExit: [], merge: [], launch: [], stuck: ["Stream-B", "Stream-C", "Stream-D"], paused: [], elsewhere: [], finished: false, running: 0 });

    // Within one phase a dependency may come later in plan order: still stuck.
    const chain = [sv("F3", "foundation", ["F2"]), sv("F2", "foundation", ["F1"]), sv("F1", "foundation", []), sv("X", "foundation", [])];
    const c = decide(chain, state(chain, { F1: "failed" }), { maxParallel: 5 });
    expect(c.stuck).toEqual(["F3", "F2"]);
    expect(c.launch).toEqual(["X"]); // an independent stream still runs
  });

  test("a failed stream whose tasks were finished by hand counts as complete (on --resume)", () => {
    const streams = plan(2);
    expect(decide(streams, state(streams, { "Stream-A": "failed" }), { maxParallel: 5 })).toMatchObject({
      completed: ["Stream-A"],
      stuck: [],
      launch: ["Stream-B", "Stream-C"],
    });
  });

  test("a stream with no tasks (totalTasks 0) is done at once: never launched; a parallel one still goes through merge", () => {
    const empty = [sv("A", "foundation", [], 0, 0), sv("B", "parallel", ["A"], 0, 0), sv("C", "parallel", ["A"])];
    expect(isDone(empty[0]!)).toBe(true);
    const d = decide(empty, state(empty), { maxParallel: 5 });
    expect(d).toMatchObject({ completed: ["A", "B"], merge: ["B"], launch: ["C"] });
    // All cancelled: same thing.
    const none = [sv("A", "foundation", [], 0, 0)];
    expect(decide(none, state(none), { maxParallel: 1 })).toMatchObject({ completed: ["A"], launch: [], finished: true });
  });

  test("--stream: only that stream launches; only its own parallel dependencies are merged", () => {
    const streams = plan(2, 2, 2);
    const s = state(streams, { "Stream-A": "completed", "Stream-B": "completed", "Stream-C": "completed" });
    expect(decide(streams, s, { maxParallel: 5, only: "Stream-D" })).toMatchObject({ merge: ["Stream-B", "Stream-C"], launch: [], finished: false });
    const merged = state(streams, { "Stream-A": "completed", "Stream-B": "merged", "Stream-C": "merged" });
    expect(decide(streams, merged, { maxParallel: 5, only: "Stream-D" })).toMatchObject({ launch: ["Stream-D"] });

    const fresh = plan(2);
    const f = decide(fresh, state(fresh), { maxParallel: 5, only: "Stream-C" });
    expect(f).toMatchObject({ completed: ["Stream-A"], merge: [], launch: ["Stream-C"], finished: false });
    // Its own branch is not merged by a --stream run: completed is finished.
    const cDone = plan(2, 0, 2);
    expect(decide(cDone, state(cDone, { "Stream-A": "completed", "Stream-C": "running" }), { maxParallel: 5, only: "Stream-C" })).toMatchObject({
      completed: ["Stream-C"],
      merge: [],
      finished: true,
    });
  });
});

describe("dryRunSummary()", () => {
  test("foundation incomplete: which, and how far; only the foundation can start", () => {
    const r = dryRunSummary(plan(1));
    expect(r).toEqual({ lines: ["⚠ Foundation incomplete: Stream-A (50.0%) — parallel streams wait"], canStart: ["Stream-A"] });
  });

  test("the guide's words once the foundation is complete; then the integration line", () => {
    expect(dryRunSummary(plan(2))).toEqual({ lines: ["✓ Foundation complete, parallel streams can start"], canStart: ["Stream-B", "Stream-C"] });
    expect(dryRunSummary(plan(2, 2, 2))).toEqual({
      lines: ["✓ Foundation complete, parallel streams can start", "✓ Parallel streams complete, integration can start"],
      canStart: ["Stream-D"],
    });
    expect(dryRunSummary(plan(2, 2, 2, 2)).canStart).toEqual([]);
  });
});
