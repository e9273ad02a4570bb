/**
 * `orch start`: the three-phase run. Launches each stream's agent as soon as its dependencies
 * are complete (driven by the change feed, so within a second), never more than maxParallel at
 * once; merges each finished parallel stream — once its agent has ended, and never with changes
 * the agent left uncommitted — through the worktree manager before anything that depends on it
 * starts; reads headless agents' event streams for permission denials (alerted; a denied agent
 * that got nowhere is not restarted) and cost; restarts an agent that exits with its stream
 * unfinished up to restartLimit times (counted in the state file); alerts on stalls; stops
 * cleanly on a merge conflict with nothing archived and no worktree removed.
 */
import { existsSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { createChangeFeed } from "../core/change-feed.ts";
import { listActivity } from "../core/activity.ts";
import { currentInitiative } from "../core/initiatives.ts";
import { getStream, listStreams, type StreamView } from "../core/streams.ts";
import { validateGraph } from "../core/graph.ts";
import type { Store } from "../db/client.ts";
import { BranchMissingError, conflict, isOrchError, notFound } from "../errors.ts";
import { addDenial, closeAgentSession, openAgentSession, setSessionFigures, setSessionId } from "../core/agent-sessions.ts";
import { describeDenial, ruleFor, type AgentEvent } from "./agent-output.ts";
import { tailAgentLog, type AgentTail } from "./agent-tail.ts";
import { resolveWorktreeSetup } from "../workspace/config.ts";
import { createStreamWorktree, EXCLUDE_PATTERNS, mergeStream } from "../workspace/stream-worktrees.ts";
import { ensureExcluded, repoInfo } from "../git/repo.ts";
import { agentArgv } from "./agent-command.ts";
import type { Launcher } from "./launchers/types.ts";
import { sendWebhook } from "./notify.ts";
import { decide, isDone } from "./plan.ts";
import { LOG_DIR, loadState, newRunState, newStreamRun, processAlive, saveState, STATE_FILE, type RunState } from "./state.ts";

export interface RunOptions {
  store: Store;
  root: string;
  launcher: Launcher;
  agentTemplate: string;
  maxParallel: number;
  restartLimit: number;
  stallTimeoutMs: number;
  resume: boolean;
  only?: string | null;
  webhookUrl?: string;
  apiPort?: number;
  /** One line of progress for the person watching (no trailing newline). */
  print: (line: string) => void;
  signal?: AbortSignal;
  /** How often liveness and stalls are checked (ms). */
  tickMs?: number;
}

export type RunOutcome = RunState["outcome"];

const PHASE_TITLE = { foundation: "Phase 1: Foundation", parallel: "Phase 2: Parallel", integration: "Phase 3: Integration" } as const;

/** The streams this run is about: the current initiative's (all, if none is linked). */
export function runStreams(store: Store): StreamView[] {
  const initiative = currentInitiative(store);
  const all = listStreams(store);
  const mine = initiative ? all.filter((s) => s.initiativeId === initiative.id || s.initiativeId === null) : all;
  return mine;
}

export async function runOrchestration(o: RunOptions): Promise<{ outcome: RunOutcome; state: RunState }> {
  const { store, root, print } = o;
  const streams = runStreams(store);
  if (!streams.length) throw notFound("No streams to run: import a PRD first (orch prd import FILE.md)");
  // The structure must hold (foundation, known dependencies, no cycle). The number of parallel
  // streams was checked at import; here the limit is how many agents run at once, and more
  // streams than that run in batches (the guide's "run 5 streams first, then the remaining").
  validateGraph(
    streams.map((s) => ({ id: s.streamId, phase: s.streamPhase, dependencies: s.dependencies })),
    { maxParallel: Number.POSITIVE_INFINITY },
  );
  o.launcher.check();
  const initiative = currentInitiative(store);

  const previous = loadState(root);
  if (previous && previous.outcome === "running" && previous.orchestratorPid !== process.pid && processAlive(previous.orchestratorPid)) {
    throw conflict(`another orch start is running this initiative (pid ${previous.orchestratorPid})`);
  }
  const liveAgents = previous
    ? Object.entries(previous.streams).filter(([, r]) => r.status === "running" && processAlive(r.pid, r.argv))
    : [];
  if (!o.resume && liveAgents.length) {
    throw conflict(
      `agents of an earlier run are still working (${liveAgents.map(([id, r]) => `${id} pid ${r.pid}`).join(", ")}): use orch start --resume`,
    );
  }
  if (o.resume && !previous) throw notFound(`Nothing to resume: no ${STATE_FILE} (run orch start first)`);
  // Resuming another initiative's run would count its streams as running here forever.
  if (o.resume && previous && previous.initiativeId !== (initiative?.id ?? null))
    throw conflict(`the saved run is for ${previous.initiativeId ?? "no initiative"}, not ${initiative?.id ?? "no initiative"}: start a new run (orch start without --resume)`);

  const state: RunState =
    o.resume && previous
      ? { ...previous, outcome: "running", finishedAt: null, orchestratorPid: process.pid, conflict: null }
      : newRunState({ initiativeId: initiative?.id ?? null, launcher: o.launcher.name, maxParallelStreams: o.maxParallel, restartLimit: o.restartLimit, now: store.now() });
  state.maxParallelStreams = o.maxParallel;
  state.restartLimit = o.restartLimit;
  for (const s of streams) state.streams[s.streamId] ??= newStreamRun();

  /** Agents whose process we can watch: pid → stream. Adopted ones (after --resume) are polled. */
  const exited = new Set<string>();
  const adopted = new Map<string, number>();
  /** Headless agents' event streams, read on each tick. */
  const tails = new Map<string, AgentTail>();
  const awaitingNoted = new Set<string>();
  if (o.resume) {
    for (const [id, r] of Object.entries(state.streams)) {
      if (r.status !== "running") continue;
      if (r.pid && processAlive(r.pid, r.argv)) {
        adopted.set(id, r.pid);
        if (r.log) tails.set(id, tailAgentLog(r.log, r.logOffset));
        print(`↺ ${id}: its agent is still running (pid ${r.pid}); following it`);
      } else if (r.pid) {
        r.agentAlive = false;
        if (r.log) tails.set(id, tailAgentLog(r.log, r.logOffset));
        // A process orch started (headless) died while orch was away: the restart rules decide.
        // Judged by the record, not this run's launcher, which --resume may have changed.
        exited.add(id);
      }
    }
  }
  try {
    // The state file and logs are orch's own bookkeeping: keep them out of the user's `git status`
    // from the first write, not only once a worktree has been created.
    ensureExcluded(repoInfo(root), EXCLUDE_PATTERNS);
  } catch {
    // Not a git repository: the manual launcher still works there, and nothing can be dirtied.
  }
  saveState(root, state, store.now());

  const phasesAnnounced = new Set<string>();
  const webhooks = new Set<Promise<void>>();
  const notify = (text: string) => {
    const p = sendWebhook(o.webhookUrl, text, print).finally(() => webhooks.delete(p));
    webhooks.add(p);
  };

  const streamById = () => new Map(runStreams(store).map((s) => [s.streamId, s]));

  async function launch(s: StreamView): Promise<void> {
    const r = state.streams[s.streamId]!;
    if (!phasesAnnounced.has(s.streamPhase)) {
      phasesAnnounced.add(s.streamPhase);
      print(`${PHASE_TITLE[s.streamPhase]}\n${"─".repeat(56)}`);
    }
    let cwd = root;
    if (s.streamPhase === "parallel") {
      const wt = await createStreamWorktree(store, { streamId: s.streamId, cwd: root, setup: resolveWorktreeSetup(root) });
      cwd = wt.worktreePath;
      if (wt.created) print(`✓ Worktree created: ${relative(root, wt.worktreePath)} (branch ${wt.branchName})`);
    }
    const argv = agentArgv(o.agentTemplate, { streamId: s.streamId, worktree: cwd, projectRoot: root });
    const logFile = join(root, LOG_DIR, `${s.streamId}.log`);
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ORCH_STREAM_ID: s.streamId,
      ORCH_DB: store.path,
      ...(o.apiPort ? { HTTP_API_PORT: String(o.apiPort) } : {}),
    };
    // The guide's start-streams.py line, then the launcher's own (manual prints its steps here).
    print(`Starting ${s.streamId} (${s.streamPhase})...`);
    // The log is appended to across launches: this launch's events start at its current end.
    const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
    const agent = o.launcher.launch({ streamId: s.streamId, phase: s.streamPhase, argv, cwd, env, logFile, projectRoot: root, initiativeId: state.initiativeId });
    r.status = "running";
    r.launches++;
    r.pid = agent.pid;
    r.argv = argv;
    r.cwd = cwd;
    r.log = o.launcher.name === "headless" ? logFile : null;
    r.startedAt = store.now();
    r.stallAlerted = false;
    r.agentAlive = agent.exited !== null;
    r.completedAtLaunch = s.completedTasks;
    r.denials = 0;
    r.logOffset = logOffset;
    r.agentSession = agent.exited ? openAgentSession(store, { streamId: s.streamId, initiativeId: state.initiativeId, launch: r.launches }) : null;
    if (r.log) tails.set(s.streamId, tailAgentLog(r.log, logOffset));
    awaitingNoted.delete(s.streamId);
    // Recorded at once, not at the end of the tick: a `kill -9` while the next worktree is being
    // created must not leave a live agent that `--resume` does not know about (and launches again).
    saveState(root, state, store.now());
    print(`▶ ${s.streamId} (${s.streamPhase}) started${r.launches > 1 ? ` again (restart ${r.restarts} of ${o.restartLimit})` : ""}: ${agent.description}`);
    agent.exited?.then((code) => {
      if (state.streams[s.streamId]?.pid !== agent.pid) return;
      state.streams[s.streamId]!.lastExitCode = code;
      state.streams[s.streamId]!.agentAlive = false;
      exited.add(s.streamId);
      schedule();
    });
  }

  /** Merge one finished parallel stream; false when the run must stop (said why, state saved). */
  function mergeOne(id: string): boolean {
    const r = state.streams[id]!;
    const stop = (kind: "conflict" | "uncommitted" | "error", into: string, files: string[], lines: string[], webhook: string) => {
      state.conflict = { streamId: id, into, files, kind };
      for (const l of lines) print(l);
      notify(webhook);
      finish("conflict");
      return false;
    };
    try {
      const m = mergeStream(store, { streamId: id, cwd: root, requireCleanWorktree: true });
      if (m.status === "conflict")
        return stop("conflict", m.into, m.conflictingFiles, [
          `✖ Merging ${m.branchName} into ${m.into} would conflict in: ${m.conflictingFiles.join(", ")}`,
          `  Nothing was merged, archived or removed. Resolve it: in ${root} run \`git merge ${m.branchName}\`, fix those files, commit; then \`orch start --resume\`.`,
        ], `✖ ${id}: merge conflict in ${m.conflictingFiles.join(", ")} — integration stopped`);
      if (m.status === "worktree_dirty") {
        const wt = r.cwd ?? "its worktree";
        return stop("uncommitted", m.into, m.worktreeUncommitted, [
          `✖ ${id}: its agent ended leaving uncommitted changes in ${relative(root, wt) || wt}: ${preview(m.worktreeUncommitted)}`,
          `  Nothing of ${id} was merged. Commit them there (git -C "${wt}" add … && git -C "${wt}" commit) or discard them; then \`orch start --resume\`.`,
        ], `✖ ${id}: uncommitted changes left in its worktree — integration stopped`);
      }
      r.status = "merged";
      r.mergeCommit = m.commit;
      print(m.status === "merged" ? `⇄ ${id} merged into ${m.into} (${m.commit?.slice(0, 7)})` : `⇄ ${id} already in ${m.into}`);
      return true;
    } catch (err) {
      if (err instanceof BranchMissingError) {
        r.status = "merged"; // completed without ever having a branch: nothing to bring back
        return true;
      }
      if (!isOrchError(err)) throw err;
      return stop("error", "", [], [`✖ Cannot merge ${id}: ${err.message}`, "  Nothing was archived or removed; fix that, then `orch start --resume`."], `✖ ${id}: cannot merge — ${err.message}`);
    }
  }

  /** Restart an agent that ended with its stream unfinished, unless denials explain why it got nowhere. */
  function afterUnfinishedExit(id: string, s: StreamView): void {
    const r = state.streams[id]!;
    const noProgress = s.completedTasks <= r.completedAtLaunch;
    if (r.denials > 0 && noProgress) {
      r.status = "failed";
      r.pid = null;
      print(`✖ ${id} failed: its agent was denied ${r.denials} tool call(s) and completed no task; not restarting it blindly.`);
      print(`  Allow what it needs (the rules above) in the allowed-tools of .claude/commands/continue.md, or pass them with --agent-cmd '… --allowedTools "<rule>"'; then \`orch start --resume\`.`);
      notify(`✖ ${id} failed: permission denials, no progress`);
    } else if (r.restarts < o.restartLimit) {
      r.restarts++;
      r.status = "pending"; // decide() relaunches it, within the concurrency limit
      print(`↻ ${id}: agent exited (code ${r.lastExitCode ?? "?"}) with ${s.totalTasks - s.completedTasks} task(s) left; restarting (${r.restarts}/${o.restartLimit})`);
    } else {
      r.status = "failed";
      r.pid = null;
      print(`✖ ${id} failed: its agent exited ${r.launches} time(s) with the stream unfinished (restart limit ${o.restartLimit})`);
      notify(`✖ ${id} failed! (${s.streamPhase} phase)`);
    }
  }

  let outcome = "running" as RunOutcome;
  const finish = (how: Exclude<RunOutcome, "running">) => {
    outcome = how;
    state.outcome = how;
    state.finishedAt = store.now();
  };

  /** What the agent's event stream says: its session, each denial (alerted at once), its cost. */
  function onAgentEvent(id: string, e: AgentEvent): void {
    const r = state.streams[id]!;
    if (e.kind === "session" && r.agentSession) setSessionId(store, r.agentSession, e.sessionId);
    if (e.kind === "denial") {
      r.denials++;
      const detail = describeDenial(e.denial);
      if (r.agentSession) addDenial(store, r.agentSession, { toolName: e.denial.toolName, detail, rule: ruleFor(e.denial) });
      print(`⚠ ${id}: Claude Code denied ${detail} (allow it with ${ruleFor(e.denial)})`);
      notify(`⚠ ${id}: permission denied — ${detail}`);
    }
    if (e.kind === "result" && r.agentSession) {
      const { denials: _, subtype, isError, ...figures } = e.result;
      setSessionFigures(store, r.agentSession, { ...figures, outcome: isError ? `error: ${subtype ?? "?"}` : subtype });
    }
  }

  function readAgentOutput(id: string, final: boolean): void {
    const tail = tails.get(id);
    const r = state.streams[id];
    if (!tail || !r) return;
    for (const e of tail.read(final)) onAgentEvent(id, e);
    r.logOffset = tail.offset;
    if (final) tails.delete(id);
  }

  /** An agent ended: its last events, its session closed. Whether to restart is decided later. */
  function agentEnded(id: string): void {
    const r = state.streams[id]!;
    r.agentAlive = false;
    readAgentOutput(id, true);
    if (r.agentSession) closeAgentSession(store, r.agentSession, r.lastExitCode);
  }

  async function tick(): Promise<void> {
    if (o.signal?.aborted) {
      finish("stopped");
      return;
    }
    // Adopted agents: notice when they end.
    for (const [id, pid] of adopted) {
      if (!processAlive(pid, state.streams[id]?.argv)) {
        adopted.delete(id);
        exited.add(id);
      }
    }
    for (const id of exited) agentEnded(id);
    for (const id of tails.keys()) readAgentOutput(id, false);

    const current = runStreams(store);
    const byId = new Map(current.map((s) => [s.streamId, s]));
    let d = decide(current, state, { maxParallel: o.maxParallel, only: o.only });

    for (const id of d.awaitingExit) {
      if (awaitingNoted.has(id)) continue;
      awaitingNoted.add(id);
      print(`… ${id}: all tasks done; waiting for its agent to end before ${byId.get(id)?.streamPhase === "parallel" ? "merging" : "going on"}`);
    }
    for (const id of d.completed) {
      const r = state.streams[id]!;
      const s = byId.get(id)!;
      r.status = "completed";
      r.completedAt = store.now();
      exited.delete(id);
      adopted.delete(id);
      print(`✓ ${id} complete (${s.completedTasks}/${s.totalTasks} tasks)`);
      notify(`✓ ${id} complete! (${s.streamPhase} phase)`);
    }

    // Merges before launches: whatever depends on a parallel stream starts from its merged code.
    for (const id of d.merge) if (!mergeOne(id)) return;

    // Agents that ended with their stream unfinished: restart, or give up.
    for (const id of [...exited]) {
      exited.delete(id);
      const r = state.streams[id]!;
      const s = byId.get(id);
      if (r.status !== "running" || !s || isDone(s)) continue;
      afterUnfinishedExit(id, s);
    }

    d = decide(runStreams(store), state, { maxParallel: o.maxParallel, only: o.only });
    for (const id of d.launch) {
      if (o.signal?.aborted) break;
      try {
        await launch(byId.get(id) ?? streamById().get(id)!);
      } catch (err) {
        if (!isOrchError(err)) throw err;
        state.streams[id]!.status = "failed";
        print(`✖ ${id} failed to start: ${err.message}`);
        notify(`✖ ${id} failed! (${byId.get(id)?.streamPhase ?? "?"} phase)`);
      }
    }

    // Stalls: no task change and no heartbeat for stallTimeout.
    const nowMs = Date.now();
    for (const [id, r] of Object.entries(state.streams)) {
      if (r.status !== "running") continue;
      const last = lastProgressMs(store, id, r.startedAt);
      if (nowMs - last > o.stallTimeoutMs) {
        if (!r.stallAlerted) {
          r.stallAlerted = true;
          const idle = idleFor(nowMs - last);
          print(`⚠ ${id}: no progress and no heartbeat for ${idle}`);
          notify(`⚠ ${id} stalled: no progress for ${idle}`);
        }
      } else r.stallAlerted = false;
    }

    const after = decide(runStreams(store), state, { maxParallel: o.maxParallel, only: o.only });
    if (after.finished && after.completed.length === 0 && after.merge.length === 0) finish("complete");
    else if (after.running === 0 && after.launch.length === 0 && after.merge.length === 0 && after.completed.length === 0) {
      // Nothing runs and nothing can start: failed streams hold the rest.
      if (Object.values(state.streams).some((r) => r.status === "failed")) finish("failed");
    }
    saveState(root, state, store.now());
  }

  // Serialised ticks: a change that lands while one runs triggers exactly one more.
  let ticking = false;
  let again = false;
  let tickError: unknown = null;
  let resolveDone!: () => void;
  const finished = new Promise<void>((r) => (resolveDone = r));
  const schedule = () => {
    if (ticking) {
      again = true;
      return;
    }
    ticking = true;
    void (async () => {
      try {
        do {
          again = false;
          await tick();
        } while (again && outcome === "running");
      } catch (err) {
        tickError = err;
      } finally {
        ticking = false;
        if (outcome !== "running" || tickError) resolveDone();
      }
    })();
  };

  const feed = createChangeFeed(store, { intervalMs: 250 });
  const unsubscribe = feed.subscribe(() => schedule());
  feed.start();
  const timer = setInterval(schedule, o.tickMs ?? 1000);
  const onAbort = () => schedule();
  o.signal?.addEventListener("abort", onAbort);

  print(
    `orch start — ${initiative?.name ?? "streams"}: ${streams.length} streams, launcher ${o.launcher.name}, at most ${o.maxParallel} at once${o.resume ? " (resumed)" : ""}`,
  );
  schedule();
  try {
    await finished;
    if (tickError) throw tickError;
  } finally {
    clearInterval(timer);
    unsubscribe();
    feed.stop();
    o.signal?.removeEventListener("abort", onAbort);
    if (outcome === "running") finish("failed");
    saveState(root, state, store.now());
  }

  const still = Object.entries(state.streams).filter(([, r]) => r.status === "running");
  const stillLine = `Still running: ${still.map(([id, r]) => `${id}${r.pid ? ` (pid ${r.pid})` : ""}`).join(", ")} — orch start --resume follows them again.`;
  const total = Object.keys(state.streams).length;
  const done = Object.values(state.streams).filter((r) => r.status === "completed" || r.status === "merged").length;
  if (outcome === "complete") {
    print(`✓ ${o.only ? o.only : `All ${total} streams`} complete.`);
    notify(`✓ Orchestration complete: ${done}/${total} streams`);
  } else if (outcome === "stopped") {
    print(`Stopped launching; state saved to ${STATE_FILE}.`);
    print(still.length ? stillLine : "No agent is running.");
  } else if (outcome === "failed") {
    print(`✖ Run ended with ${done}/${total} streams complete; failed: ${state.failedStreams.join(", ") || "none"}`);
    notify(`✖ Orchestration ended: ${done}/${total} streams complete`);
  }
  // A conflict or failure ends the run, not the other agents: say which are still at work.
  if (outcome !== "stopped" && outcome !== "complete" && still.length) print(stillLine);
  // Let the last notifications go out (each has its own 5 s timeout).
  await Promise.all([...webhooks]);
  return { outcome, state };
}

const preview = (files: string[]) => `${files.slice(0, 5).join(", ")}${files.length > 5 ? `, … (${files.length} files)` : ""}`;

function lastProgressMs(store: Store, streamId: string, startedAt: string | null): number {
  let last = startedAt ? Date.parse(startedAt) : 0;
  try {
    for (const t of getStream(store, streamId).tasks) last = Math.max(last, Date.parse(t.updatedAt));
  } catch {
    return Date.now();
  }
  for (const a of listActivity(store, { streamId, active: false }).activities) last = Math.max(last, Date.parse(a.lastHeartbeat));
  return last;
}

/** "45 s", "12 min": a stall timeout may be seconds (tests, short tasks) or the default 10 min. */
export function idleFor(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
