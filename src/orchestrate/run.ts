/**
 * `orch start`: the three-phase run. Launches each stream's agent as soon as its dependencies
 * are complete (driven by the change feed, so within a second), never more than maxParallel at
 * once; merges each finished parallel stream — once its agent has ended, and never with changes
 * the agent left uncommitted — before anything that depends on it starts; reads headless agents'
 * event streams for permission denials (alerted; a denied agent that got nowhere is not
 * restarted) and cost; restarts an agent that exits with its stream unfinished up to
 * restartLimit times; alerts on stalls; stops cleanly on a merge conflict with nothing archived.
 *
 * This module is the loop: what to do is decided by plan.ts (pure), done by launch.ts,
 * merge-step.ts and agent-events.ts, and said by messages.ts.
 */
import { createChangeFeed } from "../core/change-feed.ts";
import { listActivity } from "../core/activity.ts";
import { closeAgentSession } from "../core/agent-sessions.ts";
import { currentInitiative } from "../core/initiatives.ts";
import { getStream, type StreamView } from "../core/streams.ts";
import { validateGraph } from "../core/graph.ts";
import type { Store } from "../db/client.ts";
import { isOrchError, notFound, usageError } from "../errors.ts";
import { currentBranch, ensureExcluded, repoInfo } from "../git/repo.ts";
import { EXCLUDE_PATTERNS } from "../paths.ts";
import { applyAgentEvent } from "./agent-events.ts";
import { tailAgentLog, type AgentTail } from "./agent-tail.ts";
import { launchStream } from "./launch.ts";
import { leftUncommitted, mainCheckoutChanges } from "./main-checkout.ts";
import type { Launcher } from "./launchers/types.ts";
import { mergeFinished } from "./merge-step.ts";
import { idleFor, say, stillRunning, type RunNote } from "./messages.ts";
import { sendWebhook } from "./notify.ts";
import { afterUnfinishedExit, decide, isDone } from "./plan.ts";
import { budgetStep } from "./budget-step.ts";
import { claimStep } from "./claim-step.ts";
import { travelStep } from "./travel-step.ts";
import { hasRemote } from "../git/remote.ts";
import type { TeamSettings } from "./config.ts";
import { machineId } from "../sys/machine.ts";
import { selfCommand } from "../self.ts";
import { databaseUnavailable } from "../db/unavailable.ts";
import { oneLine } from "../text/neutralise.ts";
import { permissionAlerts } from "./permission-alerts.ts";
import type { BudgetLimits } from "../core/budget.ts";
import { holdRunLock } from "./run-lock.ts";
import { archivedDone, openRunState, runStreams } from "./run-setup.ts";
import { processAlive, saveState, type RunState, type StreamRun } from "./state.ts";
import { findProcessByEnv, groupAlive, stopProcessGroup } from "../sys/process.ts";
import { strayCommits } from "../git/reach.ts";

export { runStreams };

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
  /** Spending limits (flags over the config file); none: nothing is ever paused for budget. */
  budget?: BudgetLimits;
  /** One line of progress for the person watching (no trailing newline). */
  print: (line: string) => void;
  signal?: AbortSignal;
  /** How often liveness and stalls are checked (ms). */
  tickMs?: number;
  /** Claims' lease and heartbeat (default: 60 s and 15 s). */
  team?: TeamSettings;
}

const DEFAULT_TEAM: TeamSettings = { leaseMs: 60_000, heartbeatMs: 15_000 };
/** How often a run cut off from its database tries again. */
const UNREACHABLE_RETRY_MS = 2000;

/** `orch keep-claims`, detached: it outlives this run and renews the claims of its agents still working. */
function spawnClaimKeeper(store: Store, holder: string, agents: ReadonlyMap<string, number>, team: TeamSettings): void {
  const args = ["keep-claims", "--holder", holder, "--lease-ms", String(team.leaseMs), "--heartbeat-ms", String(team.heartbeatMs), ...[...agents].map(([id, pid]) => `${id}=${pid}`)];
  const child = Bun.spawn([...selfCommand(), ...args], {
    env: { ...(process.env as Record<string, string>), ORCH_DB: store.location },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
    detached: true,
  });
  child.unref();
}

export type RunOutcome = RunState["outcome"];

export async function runOrchestration(o: RunOptions): Promise<{ outcome: RunOutcome; state: RunState }> {
  const { store, root } = o;
  const streams = await runStreams(store);
  if (!streams.length) throw notFound("No streams to run: import a PRD first (orch prd import FILE.md)");
  // The structure must hold (foundation, known dependencies, no cycle). The number of parallel
  // streams was checked at import; here the limit is how many agents run at once, and more
  // streams than that run in batches (the guide's "run 5 streams first, then the remaining").
  const done = await archivedDone(store);
  validateGraph(
    [...streams, ...done].map((s) => ({ id: s.streamId, phase: s.streamPhase, dependencies: s.dependencies })),
    { maxParallel: Number.POSITIVE_INFINITY },
  );
  o.launcher.check();
  if (o.team?.remote && !hasRemote(root, o.team.remote))
    throw usageError(`the team's remote ${o.team.remote} (team.remote / ORCH_REMOTE) is not a remote of this repository (git remote add ${o.team.remote} URL)`);
  const initiative = await currentInitiative(store);
  try {
    // The state file and logs are orch's own bookkeeping: keep them out of the user's `git status`
    // from the first write, not only once a worktree has been created.
    ensureExcluded(repoInfo(root), EXCLUDE_PATTERNS);
  } catch {
    // Not a git repository: the manual launcher still works there, and nothing can be dirtied.
  }
  const lock = holdRunLock(root);
  try {
    return await run(o, streams, new Set(done.map((s) => s.streamId)), initiative?.id ?? null, initiative?.name ?? "streams");
  } finally {
    lock.release();
  }
}

async function run(
  o: RunOptions,
  streams: StreamView[],
  archivedDone: ReadonlySet<string>,
  initiativeId: string | null,
  initiativeName: string,
): Promise<{ outcome: RunOutcome; state: RunState }> {
  const { store, root } = o;
  const state = openRunState({
    root,
    initiativeId,
    launcher: o.launcher.name,
    maxParallel: o.maxParallel,
    restartLimit: o.restartLimit,
    resume: o.resume,
    streams,
    now: store.now(),
  });

  const webhooks = new Set<Promise<void>>();
  const note = (n: RunNote) => {
    const said = say(n);
    for (const line of said.lines) o.print(line);
    if (said.webhook === undefined) return;
    const p = sendWebhook(o.webhookUrl, said.webhook, o.print).finally(() => webhooks.delete(p));
    webhooks.add(p);
  };

  /** Agents that ended since the last tick; adopted ones (after --resume) are polled by pid. */
  const exited = new Set<string>();
  const adopted = new Map<string, number>();
  /** Headless agents' event streams, read on each tick. */
  const tails = new Map<string, AgentTail>();
  const awaitingNoted = new Set<string>();
  const phasesAnnounced = new Set<string>();
  if (o.resume) {
    for (const [id, r] of Object.entries(state.streams)) {
      if (r.status !== "running") continue;
      // Killed between spawning its agent and saving the pid: the agent carries the launch token.
      if (!r.pid && r.launchToken) {
        r.pid = findProcessByEnv("ORCH_LAUNCH_TOKEN", r.launchToken);
        if (!r.pid) {
          exited.add(id);
          continue;
        }
      }
      if (!r.pid) continue;
      if (r.log) tails.set(id, tailAgentLog(r.log, r.logOffset));
      if (processAlive(r.pid, r.argv)) {
        adopted.set(id, r.pid);
        note({ kind: "adopted", streamId: id, pid: r.pid });
      } else {
        // A process orch started died while orch was away: the restart rules decide.
        // Judged by the record, not this run's launcher, which --resume may have changed.
        exited.add(id);
      }
    }
  }
  state.budget = o.budget ?? {};
  saveState(root, state, store.now());
  const budget = budgetStep(store, state.budget, note);
  const claims = claimStep(store, {
    team: o.team ?? DEFAULT_TEAM,
    machine: machineId(),
    note,
    stopAgent: (id) => stopLostAgent(id),
    onError: (err) => o.print(`orch: warning: could not renew this run's claims: ${(err as Error)?.message ?? err}`),
    keepAfterExit: (holder, agents) => spawnClaimKeeper(store, holder, agents, o.team ?? DEFAULT_TEAM),
  });
  /** Streams other machines work now, as of the last tick. */
  let elsewhere: ReadonlySet<string> = new Set();
  /** Team runs: work travels through the remote; streams done elsewhere whose work is not here yet. */
  const travel = o.team?.remote ? travelStep(store, { root, remote: o.team.remote, machine: machineId(), claims, note }) : null;
  let notArrived: ReadonlySet<string> = new Set();
  // Agents followed again after --resume are claimed again, under this run's name.
  for (const id of [...adopted.keys()]) {
    if (await claims.claim(id)) continue;
    const lost = stopLostAgent(id);
    note({ kind: "claim-lost", streamId: id, ...lost });
  }
  const permissions = permissionAlerts(store, note);
  /** Streams paused for budget as of the last check: not launched until raised. */
  let paused: ReadonlySet<string> = new Set();
  let waitingSaid = "";

  let outcome = "running" as RunOutcome;
  const finish = (how: Exclude<RunOutcome, "running">) => {
    outcome = how;
    state.outcome = how;
    state.finishedAt = store.now();
  };

  /** Another machine has the stream now: its agent here must not go on (its work stays where it is). */
  function stopLostAgent(id: string): { pid: number | null; worktree: string | null } {
    const r = state.streams[id];
    if (!r || r.status !== "running") return { pid: null, worktree: null };
    const pid = r.pid;
    // The whole group (a wrapper script's children too), SIGKILL if SIGTERM is not enough.
    // (An agent that exec'd another program no longer shows its argv; its group is still there.)
    if (pid && (processAlive(pid, r.argv) || groupAlive(pid))) stopProcessGroup(pid);
    Object.assign(r, { status: "pending", pid: null, agentAlive: false } satisfies Partial<StreamRun>);
    adopted.delete(id);
    exited.delete(id);
    saveState(root, state, store.now());
    return { pid, worktree: r.cwd && r.cwd !== root ? r.cwd : null };
  }

  async function launch(s: StreamView): Promise<void> {
    const r = state.streams[s.streamId]!;
    // Claimed first: another machine that has it keeps it, and this run launches nothing for it.
    if (!(await claims.claim(s.streamId))) return;
    if (!phasesAnnounced.has(s.streamPhase)) {
      phasesAnnounced.add(s.streamPhase);
      note({ kind: "phase", phase: s.streamPhase });
    }
    // Team runs: a stream another machine began goes on from what it pushed.
    travel?.adoptPushed(s);
    const beforeSpawn = () => saveState(root, state, store.now());
    const budgetCapUsd = budget.capFor(s.streamId);
    const agent = await launchStream({ store, root, launcher: o.launcher, agentTemplate: o.agentTemplate, apiPort: o.apiPort, initiativeId: state.initiativeId, budgetCapUsd, note, beforeSpawn }, s, r);
    if (r.log) tails.set(s.streamId, tailAgentLog(r.log, r.logOffset));
    awaitingNoted.delete(s.streamId);
    // Recorded at once, not at the end of the tick: a `kill -9` while the next worktree is being
    // created must not leave a live agent that `--resume` does not know about (and launches again).
    saveState(root, state, store.now());
    note({ kind: "started", streamId: s.streamId, phase: s.streamPhase, again: r.launches > 1, restarts: r.restarts, restartLimit: o.restartLimit, description: agent.description });
    agent.exited?.then((code) => {
      if (state.streams[s.streamId]?.pid !== agent.pid) return;
      state.streams[s.streamId]!.lastExitCode = code;
      state.streams[s.streamId]!.agentAlive = false;
      exited.add(s.streamId);
      schedule();
    });
  }

  async function readAgentOutput(id: string, final: boolean): Promise<void> {
    const tail = tails.get(id);
    const r = state.streams[id];
    if (!tail || !r) return;
    for (const e of tail.read(final)) {
      // Stopped by the cap orch gave it: the budget is spent, which is not a failure.
      if (e.kind === "result" && e.result.subtype === "error_max_budget_usd") budget.capHit(id);
      const n = await applyAgentEvent(store, id, r, e);
      if (n) note(n);
    }
    r.logOffset = tail.offset;
    if (final) tails.delete(id);
  }

  /** An agent ended: its last events, its session closed. Whether to restart is decided later. */
  async function agentEnded(id: string): Promise<void> {
    const r = state.streams[id]!;
    r.agentAlive = false;
    await readAgentOutput(id, true);
    if (r.agentSession) await closeAgentSession(store, r.agentSession, r.lastExitCode);
  }

  /** Merge one finished parallel stream; false when the run must stop (said why). */
  async function merge(id: string): Promise<boolean> {
    if (travel) return teamMerge(id);
    const step = await mergeFinished(store, root, id, state.streams[id]!.cwd, state.streams[id]!.startedAt);
    if (step.note) note(step.note);
    if (!step.ok) {
      state.conflict = step.stop;
      finish("conflict");
      return false;
    }
    state.streams[id]!.status = "merged";
    state.streams[id]!.mergeCommit = step.commit;
    return true;
  }

  /** A team run's merge: waits for the stream's pushed work, merges under the team's lock, pushes main. */
  async function teamMerge(id: string): Promise<boolean> {
    const outcome = await travel!.merge(id, state, async () => {
      const step = await mergeFinished(store, root, id, state.streams[id]!.cwd, state.streams[id]!.startedAt);
      if (step.note) note(step.note);
      if (!step.ok) state.conflict = step.stop;
      return { ok: step.ok, commit: step.ok ? step.commit : null };
    });
    if (outcome === "stopped") {
      finish("conflict");
      return false;
    }
    if (outcome === "merged") state.streams[id]!.status = "merged";
    return true;
  }

  /**
   * A stream that worked in the main checkout is complete only with its work committed: else the
   * run stops naming the files (before parallel worktrees branch from a main without them).
   */
  function leftNothingInMain(id: string, s: StreamView): boolean {
    const r = state.streams[id]!;
    if (s.streamPhase === "parallel" || r.launches === 0 || r.cwd !== root) return true;
    // The run merges into the branch the main checkout had when it began: an agent there that
    // switched it (or detached it) took its commits elsewhere.
    const branch = state.mainBranch ? currentBranch(root) : null;
    if (state.mainBranch && branch !== state.mainBranch) {
      note({ kind: "main-moved", streamId: id, branch, expected: state.mainBranch });
      state.conflict = { streamId: id, into: state.mainBranch, files: [], kind: "error" };
      finish("conflict");
      return false;
    }
    // Another agent still at work in the same checkout: its files are not this one's leftovers.
    // The last one to end is checked, so nothing left there goes unnamed.
    if (Object.entries(state.streams).some(([other, o]) => other !== id && o.status === "running" && o.agentAlive && o.cwd === root)) return true;
    const stray = state.mainBranch && r.startedAt ? strayCommits(root, `refs/heads/${state.mainBranch}`, r.startedAt) : [];
    if (stray.length) {
      note({ kind: "stray", streamId: id, where: "the main checkout", branch: state.mainBranch!, commits: stray });
      state.conflict = { streamId: id, into: state.mainBranch!, files: [], kind: "off-branch" };
      finish("conflict");
      return false;
    }
    const now = mainCheckoutChanges(root);
    const left = now ? leftUncommitted(now, r.untrackedAtLaunch) : [];
    if (!left.length) return true;
    note({ kind: "uncommitted", streamId: id, worktree: root, shownAs: "the main checkout", files: left });
    state.conflict = { streamId: id, into: "", files: left, kind: "uncommitted" };
    finish("conflict");
    return false;
  }

  function unfinishedExit(id: string, s: StreamView): void {
    const r = state.streams[id]!;
    // Paused for budget: it waits for a raise, then launches again (not a restart, not a failure).
    if (paused.has(id)) {
      Object.assign(r, { status: "pending", pid: null } satisfies Partial<StreamRun>);
      return;
    }
    const action = afterUnfinishedExit(r, s, o.restartLimit);
    if (action === "restart") {
      r.restarts++;
      r.status = "pending"; // decide() relaunches it, within the concurrency limit
      note({ kind: "restarting", streamId: id, exitCode: r.lastExitCode, left: s.totalTasks - s.completedTasks, restarts: r.restarts, restartLimit: o.restartLimit });
      return;
    }
    r.status = "failed";
    r.pid = null;
    note(
      action === "fail-denied"
        ? { kind: "failed-denied", streamId: id, denials: r.denials }
        : { kind: "failed-limit", streamId: id, phase: s.streamPhase, launches: r.launches, restartLimit: o.restartLimit },
    );
  }

  async function checkStalls(): Promise<void> {
    const nowMs = Date.now();
    for (const [id, r] of Object.entries(state.streams)) {
      if (r.status !== "running") continue;
      const idle = nowMs - (await lastProgressMs(store, id, r.startedAt));
      if (idle <= o.stallTimeoutMs) r.stallAlerted = false;
      else if (!r.stallAlerted) {
        r.stallAlerted = true;
        note({ kind: "stalled", streamId: id, idle: idleFor(idle) });
      }
    }
  }

  const plan = async () => decide(await runStreams(store), state, { maxParallel: o.maxParallel, only: o.only, archivedDone, paused, elsewhere, notArrived });

  async function tick(): Promise<void> {
    if (o.signal?.aborted) return finish("stopped");
    for (const [id, pid] of adopted) {
      if (processAlive(pid, state.streams[id]?.argv)) continue;
      adopted.delete(id);
      exited.add(id);
    }
    for (const id of exited) await agentEnded(id);
    for (const id of tails.keys()) await readAgentOutput(id, false);

    await permissions.poll();

    const current = await runStreams(store);
    const byId = new Map(current.map((s) => [s.streamId, s]));
    paused = await budget.check(current, state, o.only ?? null);
    state.pausedStreams = [...paused];
    elsewhere = await claims.elsewhere();
    if (travel) {
      const arrival = await travel.notArrived(current, state);
      if (arrival.stop) {
        note(arrival.stop.note);
        state.conflict = arrival.stop.stop;
        return finish("conflict");
      }
      notArrived = arrival.waiting;
    }
    const d = decide(current, state, { maxParallel: o.maxParallel, only: o.only, archivedDone, paused, elsewhere, notArrived });
    for (const id of d.awaitingExit) {
      if (awaitingNoted.has(id)) continue;
      awaitingNoted.add(id);
      note({ kind: "awaiting-exit", streamId: id, parallel: byId.get(id)?.streamPhase === "parallel" });
    }
    for (const id of d.completed) {
      const s = byId.get(id)!;
      if (!leftNothingInMain(id, s)) return;
      // Team runs: what was done here goes to the remote before anyone builds on it (and before
      // it counts as complete, so --resume pushes it again after a failure).
      if (travel && state.streams[id]!.launches > 0) {
        const stop = await travel.publish(s, state);
        if (stop) {
          note(stop.note);
          state.conflict = stop.stop;
          return finish("conflict");
        }
      }
      Object.assign(state.streams[id]!, { status: "completed", completedAt: store.now() });
      exited.delete(id);
      adopted.delete(id);
      note({ kind: "complete", streamId: id, phase: s.streamPhase, done: s.completedTasks, total: s.totalTasks });
    }
    // Merges before launches: whatever depends on a parallel stream starts from its merged code.
    for (const id of d.merge) if (!(await merge(id))) return;

    for (const id of [...exited]) {
      exited.delete(id);
      const s = byId.get(id);
      if (state.streams[id]!.status === "running" && s && !isDone(s)) unfinishedExit(id, s);
    }

    // Decided again on fresh facts; but a stream that finished since this tick's decision has not
    // had its checks (nothing left uncommitted, merged) — nothing builds on it before the next tick.
    const next = await plan();
    if (next.completed.length) schedule();
    for (const id of next.completed.length ? [] : next.launch) {
      if (o.signal?.aborted) break;
      const s = byId.get(id) ?? (await runStreams(store)).find((x) => x.streamId === id)!;
      try {
        await launch(s);
      } catch (err) {
        if (!isOrchError(err)) throw err;
        state.streams[id]!.status = "failed";
        note({ kind: "failed-start", streamId: id, phase: s.streamPhase ?? null, message: err.message });
      }
    }
    await checkStalls();
    await claims.keepOnly(runningHere());

    const after = await plan();
    const quiet = after.completed.length === 0 && after.merge.length === 0;
    if (after.finished && quiet) finish("complete");
    // Nothing runs and nothing can start: failed streams hold the rest — unless a raise would
    // let a paused one go on, which the run waits for (it must not end or say "complete").
    else if (after.running === 0 && after.launch.length === 0 && quiet && !after.paused.length && Object.values(state.streams).some((r) => r.status === "failed")) finish("failed");
    // Not while a stream completed since this tick began is still to be merged (its agent ended
    // meanwhile): the next tick merges it, and only then may "nothing else can run" be true.
    const waiting = quiet && after.running === 0 && after.launch.length === 0 && after.paused.length ? after.paused.join(", ") : "";
    if (waiting && waiting !== waitingSaid) note({ kind: "waiting-budget", streams: after.paused });
    waitingSaid = waiting;
    saveState(root, state, store.now());
  }

  const runningHere = () => new Set(Object.entries(state.streams).filter(([, r]) => r.status === "running").map(([id]) => id));

  // Serialised ticks: a change that lands while one runs triggers exactly one more.
  let ticking = false;
  let unreachable = false;
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
        if (unreachable) {
          unreachable = false;
          note({ kind: "db-back" });
        }
      } catch (err) {
        // Cut off from the database: wait for it, and catch up when it is back (the heartbeat
        // stops this machine's agents before their claims can run out).
        if (databaseUnavailable(err) && !o.signal?.aborted) {
          if (!unreachable) note({ kind: "db-unreachable", message: oneLine(String((err as Error)?.message ?? err)).slice(0, 200) });
          unreachable = true;
          setTimeout(schedule, UNREACHABLE_RETRY_MS);
        } else tickError = err;
      } finally {
        ticking = false;
        if (outcome !== "running" || tickError) resolveDone();
      }
    })();
  };

  const feed = await createChangeFeed(store, { intervalMs: 250 });
  const unsubscribe = feed.subscribe(() => schedule());
  feed.start();
  const timer = setInterval(schedule, o.tickMs ?? 1000);
  // Team runs: parallel streams' branches go to the remote as they grow, so a machine that dies
  // leaves its agents' commits to the one that takes over.
  const pushTimer = travel
    ? setInterval(() => {
        const ids = [...runningHere()].filter((id) => streams.find((x) => x.streamId === id)?.streamPhase === "parallel");
        try {
          travel.pushProgress(ids);
        } catch {
          // the next beat
        }
      }, (o.team ?? DEFAULT_TEAM).heartbeatMs)
    : null;
  const onAbort = () => schedule();
  o.signal?.addEventListener("abort", onAbort);

  note({ kind: "header", name: initiativeName, streams: streams.length, launcher: o.launcher.name, maxParallel: o.maxParallel, resumed: o.resume });
  claims.start();
  schedule();
  try {
    await finished;
    if (tickError) throw tickError;
  } finally {
    clearInterval(timer);
    if (pushTimer) clearInterval(pushTimer);
    unsubscribe();
    feed.stop();
    o.signal?.removeEventListener("abort", onAbort);
    if (outcome === "running") finish("failed");
    saveState(root, state, store.now());
    await claims.stop(new Map([...runningHere()].filter((id) => state.streams[id]?.agentAlive !== false).map((id) => [id, state.streams[id]!.pid])));
  }

  for (const n of endNotes(state, outcome, o.only ?? null)) note(n);
  // Let the last notifications go out (each has its own 5 s timeout).
  await Promise.all([...webhooks]);
  return { outcome, state };
}

/** How the run ended, and (unless it completed) which agents are still at work. */
function endNotes(state: RunState, outcome: RunOutcome, only: string | null): RunNote[] {
  const still = Object.entries(state.streams)
    .filter(([, r]) => r.status === "running")
    .map(([streamId, r]) => ({ streamId, pid: r.pid }));
  const total = Object.keys(state.streams).length;
  const done = Object.values(state.streams).filter((r) => r.status === "completed" || r.status === "merged").length;
  const notes: RunNote[] = [];
  if (outcome === "complete") notes.push({ kind: "run-complete", only, done, total });
  else if (outcome === "stopped") notes.push({ kind: "run-stopped", still: still.length ? stillRunning(still) : null });
  else if (outcome === "failed") notes.push({ kind: "run-failed", done, total, failed: state.failedStreams });
  // A conflict or failure ends the run, not the other agents: say which are still at work.
  if (outcome !== "stopped" && outcome !== "complete" && still.length) notes.push({ kind: "still-running", agents: still });
  return notes;
}

async function lastProgressMs(store: Store, streamId: string, startedAt: string | null): Promise<number> {
  let last = startedAt ? Date.parse(startedAt) : 0;
  try {
    for (const t of (await getStream(store, streamId)).tasks) last = Math.max(last, Date.parse(t.updatedAt));
  } catch {
    return Date.now();
  }
  for (const a of (await listActivity(store, { streamId, active: false })).activities) last = Math.max(last, Date.parse(a.lastHeartbeat));
  return last;
}
