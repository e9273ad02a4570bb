/**
 * The run state `orch start` keeps (`.claude/orchestration/orchestration-state.json`, state.ts) as
 * other faces may show it: the run's outcome and times, and per stream its status, whether it is
 * paused for its budget, restarts and last exit code — no pids, argv or paths. The file is read
 * with state.ts's own reader, and again only when its modification time or size changed.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { isOrchError } from "../errors.ts";
import { STATE_FILE } from "../paths.ts";
import { loadState, processAlive, type RunState } from "./state.ts";

/** A conflict's files listed at most. */
export const RUN_CONFLICT_FILES = 200;
/** A state file larger than this is not one orch wrote: not read. */
const MAX_STATE_BYTES = 16 * 1024 * 1024;

export interface RunStreamView {
  status: RunState["streams"][string]["status"];
  /** Paused for its budget (or the initiative's): waiting for `orch budget raise`. */
  paused: boolean;
  restarts: number;
  lastExitCode: number | null;
}

export interface RunView {
  outcome: RunState["outcome"];
  launcher: RunState["launcher"];
  startedAt: string;
  lastUpdate: string;
  finishedAt: string | null;
  /** The `orch start` that writes the file is still running (on this machine). */
  live: boolean;
  streams: Record<string, RunStreamView>;
  conflict: { streamId: string; into: string; kind: string; files: string[]; totalFiles: number } | null;
}

export interface RunAnswer {
  run: RunView | null;
  /** The file is there but orch cannot read it (then run is null). */
  error?: string;
}

/** What may be shown of a run state (pure; `live` is the caller's to say). */
export function runView(state: RunState, live: boolean): RunView {
  const streams: Record<string, RunStreamView> = {};
  const paused = new Set(state.pausedStreams);
  for (const [id, s] of Object.entries(state.streams)) streams[id] = { status: s.status, paused: paused.has(id), restarts: s.restarts, lastExitCode: s.lastExitCode };
  for (const id of paused) streams[id] ??= { status: "pending", paused: true, restarts: 0, lastExitCode: null };
  const c = state.conflict;
  return {
    outcome: state.outcome,
    launcher: state.launcher,
    startedAt: state.startedAt,
    lastUpdate: state.lastUpdate,
    finishedAt: state.finishedAt,
    live,
    streams,
    conflict: c ? { streamId: c.streamId, into: c.into, kind: c.kind, files: c.files.slice(0, RUN_CONFLICT_FILES), totalFiles: c.files.length } : null,
  };
}

interface Cached {
  stamp: string;
  state: RunState | null;
  error?: string;
}
const cache = new Map<string, Cached>();

/** The run state of the project at `root`; null when `orch start` never ran there. */
export function readRunView(root: string): RunAnswer {
  const file = join(root, STATE_FILE);
  let stamp: string;
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return { run: null, error: `${STATE_FILE} is not a file` };
    stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    size = st.size;
  } catch {
    cache.delete(root);
    return { run: null };
  }
  let c = cache.get(root);
  if (!c || c.stamp !== stamp) {
    c = { stamp, state: null };
    if (size > MAX_STATE_BYTES) c.error = `${STATE_FILE} is larger than ${MAX_STATE_BYTES / 1024 / 1024} MiB: not read`;
    else {
      try {
        c.state = loadState(root);
      } catch (err) {
        if (!isOrchError(err)) throw err;
        c.error = err.message;
      }
    }
    if (cache.size > 50) cache.clear();
    cache.set(root, c);
  }
  if (!c.state) return c.error ? { run: null, error: c.error } : { run: null };
  // Whether it still runs is asked each time: the process can end without the file changing.
  const live = c.state.outcome === "running" && processAlive(c.state.orchestratorPid);
  return { run: runView(c.state, live) };
}
