/**
 * The scheduler, pure: streams as the database sees them + the run's state → what to do next.
 * A stream may launch when every dependency is complete — and, for a parallel dependency,
 * merged back, so the code it built is in the branch the dependent starts from. Never more than
 * `maxParallel` agents at once. A stream is done when its tasks are done in the database, not
 * when its agent exits.
 */
import type { StreamView } from "../core/streams.ts";
import type { RunState, StreamRun } from "./state.ts";

export interface Decision {
  /** Streams that became complete in the database since the state last said so (and whose agent has ended). */
  completed: string[];
  /** Streams whose tasks are all done while their agent is still running: merged once it ends. */
  awaitingExit: string[];
  /** Completed parallel streams whose branch is not merged yet, in plan order. */
  merge: string[];
  /** Streams to launch now, in plan order, within the concurrency limit. */
  launch: string[];
  /** Streams that cannot make progress: their dependencies failed. */
  stuck: string[];
  /** Streams that could launch but are paused for budget: they wait for a raise. */
  paused: string[];
  /** Streams that could launch but another machine works them (its claim is live): not here. */
  elsewhere: string[];
  /** Every stream done (and parallel ones merged). */
  finished: boolean;
  /** Agents currently running after this decision's launches. */
  running: number;
}

/** Nothing to do in a stream with no tasks (or only cancelled ones): it counts as done. */
export const isDone = (s: StreamView) => s.status === "completed" || s.totalTasks === 0;

const ORDER: Record<StreamView["streamPhase"], number> = { foundation: 0, parallel: 1, integration: 2 };

export function planOrder(streams: readonly StreamView[]): StreamView[] {
  return [...streams].sort((a, b) => ORDER[a.streamPhase] - ORDER[b.streamPhase]);
}

export function decide(
  streams: readonly StreamView[],
  state: RunState,
  opts: {
    maxParallel: number;
    only?: string | null;
    /** Archived streams that were completed: dependencies met. */
    archivedDone?: ReadonlySet<string>;
    /** Streams paused for budget: never launched until raised. */
    paused?: ReadonlySet<string>;
    /**
     * Streams another machine has claimed (a live lease): never launched here, and each counts
     * against `maxParallel`, which is the whole team's.
     */
    elsewhere?: ReadonlySet<string>;
    /**
     * Streams done on another machine whose work has not reached this one yet (team runs: it
     * travels through the git remote): neither complete here nor launched; dependents wait.
     */
    notArrived?: ReadonlySet<string>;
  },
): Decision {
  const byId = new Map(streams.map((s) => [s.streamId, s]));
  const run = (id: string) => state.streams[id];
  const completed: string[] = [];
  const awaitingExit: string[] = [];
  const merge: string[] = [];
  const launch: string[] = [];
  const paused: string[] = [];
  const elsewhere: string[] = [];

  // A failed stream whose tasks someone finished by hand counts as complete after all (on --resume).
  // An agent may mark its last task done and go on committing: done means done *and* ended.
  for (const s of planOrder(streams)) {
    const r = run(s.streamId);
    if (!isDone(s) || !r || !(r.status === "pending" || r.status === "running" || r.status === "failed")) continue;
    if (opts.notArrived?.has(s.streamId)) continue;
    if (r.status === "running" && r.agentAlive) awaitingExit.push(s.streamId);
    else completed.push(s.streamId);
  }
  const statusOf = (id: string) => (completed.includes(id) ? "completed" : run(id)?.status ?? "pending");
  const merged = (id: string) => statusOf(id) === "merged";
  const doneOf = (id: string) => ["completed", "merged"].includes(statusOf(id));

  // With --stream, only what that stream builds on is merged (its own branch is left for a full
  // run or `orch worktree merge`); otherwise every finished parallel stream, before its dependents.
  const onlyDeps = opts.only ? new Set(byId.get(opts.only)?.dependencies ?? []) : null;
  for (const s of planOrder(streams)) {
    if (s.streamPhase === "parallel" && statusOf(s.streamId) === "completed" && (!onlyDeps || onlyDeps.has(s.streamId))) merge.push(s.streamId);
  }

  let running = Object.values(state.streams).filter((r) => r.status === "running").length - completed.filter((id) => run(id)?.status === "running").length;
  // Other machines' agents share the limit, but not streams whose work is done (awaiting their merge).
  const elsewhereRunning = [...(opts.elsewhere ?? [])].filter((id) => byId.has(id) && run(id)?.status !== "running" && !isDone(byId.get(id)!));
  running += elsewhereRunning.length;
  const failed = (id: string) => statusOf(id) === "failed";

  // Stuck: a dependency failed, directly or through other stuck streams (to a fixpoint, since a
  // dependency may come later in plan order within one phase).
  const pending = planOrder(streams).filter((s) => statusOf(s.streamId) === "pending");
  const stuckSet = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of pending) {
      if (stuckSet.has(s.streamId)) continue;
      if (s.dependencies.some((d) => d !== s.streamId && (failed(d) || stuckSet.has(d)))) {
        stuckSet.add(s.streamId);
        grew = true;
      }
    }
  }
  const stuck = pending.filter((s) => stuckSet.has(s.streamId)).map((s) => s.streamId);

  for (const s of planOrder(streams)) {
    if (opts.only && s.streamId !== opts.only) continue;
    if (statusOf(s.streamId) !== "pending" || stuckSet.has(s.streamId)) continue;
    // Waiting for a raise whatever its dependencies: the run must not end while it could go on.
    if (opts.paused?.has(s.streamId)) {
      paused.push(s.streamId);
      continue;
    }
    if (opts.elsewhere?.has(s.streamId)) {
      elsewhere.push(s.streamId);
      continue;
    }
    if (opts.notArrived?.has(s.streamId)) continue;
    const deps = s.dependencies.filter((d) => d !== s.streamId);
    const ready = deps.every((d) => {
      const dep = byId.get(d);
      if (!dep) return opts.archivedDone?.has(d) === true;
      if (awaitingExit.includes(d)) return false; // its agent may still be changing the main checkout
      if (opts.notArrived?.has(d)) return false; // done elsewhere, but its work is not in this checkout yet
      return dep.streamPhase === "parallel" ? merged(d) : doneOf(d) || isDone(dep);
    });
    if (!ready || running >= opts.maxParallel) continue;
    launch.push(s.streamId);
    running++;
  }

  const relevant = opts.only ? streams.filter((s) => s.streamId === opts.only) : streams;
  const finished = relevant.every((s) => {
    const st = statusOf(s.streamId);
    return s.streamPhase === "parallel" && !opts.only ? st === "merged" : st === "completed" || st === "merged";
  });
  return { completed, awaitingExit, merge, launch, stuck, paused, elsewhere, finished, running };
}

/** What `--dry-run` says can start now, in the guide's words. */
export function dryRunSummary(streams: readonly StreamView[], archivedDone: readonly StreamView[] = []): { lines: string[]; canStart: string[] } {
  const byId = new Map([...archivedDone, ...streams].map((s) => [s.streamId, s]));
  const foundation = [...archivedDone, ...streams].filter((s) => s.streamPhase === "foundation");
  const parallel = streams.filter((s) => s.streamPhase === "parallel");
  const lines: string[] = [];
  const foundationDone = foundation.every(isDone);
  if (foundationDone) lines.push("✓ Foundation complete, parallel streams can start");
  else
    lines.push(
      `⚠ Foundation incomplete: ${foundation.filter((s) => !isDone(s)).map((s) => `${s.streamId} (${s.progressPercentage.toFixed(1)}%)`).join(", ")} — parallel streams wait`,
    );
  if (parallel.length && parallel.every(isDone)) lines.push("✓ Parallel streams complete, integration can start");
  const canStart = planOrder(streams)
    .filter((s) => !isDone(s))
    .filter((s) => s.dependencies.every((d) => d === s.streamId || (byId.get(d) !== undefined && isDone(byId.get(d)!))))
    .map((s) => s.streamId);
  return { lines, canStart };
}

/**
 * An agent ended with its stream unfinished: restart it, or fail the stream. An agent that was
 * denied tools and completed nothing would only be denied again: it is not restarted blindly.
 */
export function afterUnfinishedExit(r: StreamRun, s: StreamView, restartLimit: number): "fail-denied" | "restart" | "fail-limit" {
  if (r.denials > 0 && s.completedTasks <= r.completedAtLaunch) return "fail-denied";
  return r.restarts < restartLimit ? "restart" : "fail-limit";
}
