/**
 * Before a run: which streams it is about, and its state — a new one, or the saved one taken up
 * again by `--resume` — after refusing what would launch a second agent for a stream.
 */
import { currentInitiative } from "../core/initiatives.ts";
import { listStreams, type StreamView } from "../core/streams.ts";
import type { Store } from "../db/client.ts";
import { currentBranch } from "../git/repo.ts";
import { conflict, notFound } from "../errors.ts";
import { loadState, newRunState, newStreamRun, processAlive, STATE_FILE, type RunState } from "./state.ts";

/** The streams a run is about: the current initiative's (all, if none is linked). */
export async function runStreams(store: Store): Promise<StreamView[]> {
  const initiative = await currentInitiative(store);
  const all = await listStreams(store);
  return initiative ? all.filter((s) => s.initiativeId === initiative.id || s.initiativeId === null) : all;
}

/**
 * The current initiative's archived streams that were completed: a run does not launch them, but
 * what depends on them is free to start (a foundation finished and archived earlier).
 */
export async function archivedDone(store: Store): Promise<StreamView[]> {
  const initiative = await currentInitiative(store);
  return (await listStreams(store, { includeArchived: true })).filter(
    (s) => s.archived && s.status === "completed" && (!initiative || s.initiativeId === initiative.id || s.initiativeId === null),
  );
}

export interface RunStateInput {
  root: string;
  initiativeId: string | null;
  launcher: RunState["launcher"];
  maxParallel: number;
  restartLimit: number;
  resume: boolean;
  streams: readonly StreamView[];
  now: string;
}

export function openRunState(i: RunStateInput): RunState {
  const previous = loadState(i.root);
  if (previous && previous.outcome === "running" && previous.orchestratorPid !== process.pid && processAlive(previous.orchestratorPid))
    throw conflict(`another orch start is running this initiative (pid ${previous.orchestratorPid})`);
  const liveAgents = previous ? Object.entries(previous.streams).filter(([, r]) => r.status === "running" && processAlive(r.pid, r.argv)) : [];
  if (!i.resume && liveAgents.length)
    throw conflict(`agents of an earlier run are still working (${liveAgents.map(([id, r]) => `${id} pid ${r.pid}`).join(", ")}): use orch start --resume`);
  if (i.resume && !previous) throw notFound(`Nothing to resume: no ${STATE_FILE} (run orch start first)`);
  // Resuming another initiative's run would count its streams as running here forever.
  if (i.resume && previous && previous.initiativeId !== i.initiativeId)
    throw conflict(`the saved run is for ${previous.initiativeId ?? "no initiative"}, not ${i.initiativeId ?? "no initiative"}: start a new run (orch start without --resume)`);

  const state: RunState =
    i.resume && previous
      ? { ...previous, outcome: "running", finishedAt: null, orchestratorPid: process.pid, conflict: null }
      : newRunState({ initiativeId: i.initiativeId, launcher: i.launcher, maxParallelStreams: i.maxParallel, restartLimit: i.restartLimit, now: i.now });
  state.mainBranch ??= mainCheckoutBranchOf(i.root);
  state.maxParallelStreams = i.maxParallel;
  state.restartLimit = i.restartLimit;
  for (const s of i.streams) state.streams[s.streamId] ??= newStreamRun();
  return state;
}

function mainCheckoutBranchOf(root: string): string | null {
  try {
    return currentBranch(root);
  } catch {
    return null; // not a repository
  }
}
