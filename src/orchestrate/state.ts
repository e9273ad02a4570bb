/**
 * The run's state file, `.claude/orchestration/orchestration-state.json` (the guide's "Progress
 * Persistence", extended): which streams were launched, by which process, how often restarted,
 * merged or failed. Written atomically (temp file + rename) so a crash never leaves half a file.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { failed, formatZodIssues } from "../errors.ts";
import { pidAlive } from "../sys/process.ts";

import { LOG_DIR, STATE_FILE, stateTempFile } from "../paths.ts";

export { LOG_DIR, STATE_FILE };

const streamRunSchema = z.object({
  status: z.enum(["pending", "running", "completed", "merged", "failed"]),
  launches: z.number().int().min(0),
  restarts: z.number().int().min(0),
  pid: z.number().int().nullable(),
  argv: z.array(z.string()).nullable(),
  cwd: z.string().nullable(),
  log: z.string().nullable(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  lastExitCode: z.number().int().nullable(),
  stallAlerted: z.boolean(),
  mergeCommit: z.string().nullable(),
  /** Its launched agent process is still running: the stream is merged only once it has ended. */
  agentAlive: z.boolean().default(false),
  /** Completed tasks when this launch started: did the launch make progress? */
  completedAtLaunch: z.number().int().min(0).default(0),
  /** Permission denials in this launch. */
  denials: z.number().int().min(0).default(0),
  /** How far the agent's log has been read (headless event stream). */
  logOffset: z.number().int().min(0).default(0),
  /** The launch's row in the database's agent sessions. */
  agentSession: z.number().int().nullable().default(null),
  /**
   * Set (and saved) before an agent is spawned and given to it as ORCH_LAUNCH_TOKEN: an orch killed
   * between the spawn and recording the pid finds its agent again by it on --resume.
   */
  launchToken: z.string().nullable().default(null),
  /** Untracked files in the main checkout when an agent was launched there (not its work). */
  untrackedAtLaunch: z.array(z.string()).default([]),
});
export type StreamRun = z.infer<typeof streamRunSchema>;

export const runStateSchema = z.object({
  version: z.literal(1),
  initiativeId: z.string().nullable(),
  launcher: z.enum(["manual", "tmux", "headless"]),
  startedAt: z.string(),
  lastUpdate: z.string(),
  finishedAt: z.string().nullable(),
  outcome: z.enum(["running", "complete", "failed", "conflict", "stopped"]),
  /** The main checkout's branch when the run began: where streams are merged; agents must leave it there. */
  mainBranch: z.string().nullable().default(null),
  orchestratorPid: z.number().int().nullable(),
  maxParallelStreams: z.number().int().min(1),
  restartLimit: z.number().int().min(0),
  /** The guide's keys, kept for scripts written against it. */
  completedStreams: z.array(z.string()),
  failedStreams: z.array(z.string()),
  mergedStreams: z.array(z.string()),
  /** Streams paused for their budget (or the initiative's): waiting for `orch budget raise`. */
  pausedStreams: z.array(z.string()).default([]),
  /** The limits this run applies (flags over the config), for `orch budget` while it runs. */
  budget: z
    .object({ streamUsd: z.number().optional(), initiativeUsd: z.number().optional(), streamTokens: z.number().optional(), initiativeTokens: z.number().optional() })
    .default({}),
  conflict: z
    .object({
      streamId: z.string(),
      into: z.string(),
      files: z.array(z.string()),
      /** What stopped the merge: conflicting files, changes the agent left uncommitted, its worktree on another branch, or an error. */
      kind: z.enum(["conflict", "uncommitted", "off-branch", "error"]).default("conflict"),
    })
    .nullable(),
  streams: z.record(z.string(), streamRunSchema),
});
export type RunState = z.infer<typeof runStateSchema>;

export function newStreamRun(): StreamRun {
  return {
    status: "pending",
    launches: 0,
    restarts: 0,
    pid: null,
    argv: null,
    cwd: null,
    log: null,
    startedAt: null,
    completedAt: null,
    lastExitCode: null,
    stallAlerted: false,
    mergeCommit: null,
    agentAlive: false,
    completedAtLaunch: 0,
    denials: 0,
    logOffset: 0,
    agentSession: null,
    launchToken: null,
    untrackedAtLaunch: [],
  };
}

export function newRunState(o: { initiativeId: string | null; launcher: RunState["launcher"]; maxParallelStreams: number; restartLimit: number; now: string }): RunState {
  return {
    version: 1,
    initiativeId: o.initiativeId,
    launcher: o.launcher,
    startedAt: o.now,
    lastUpdate: o.now,
    finishedAt: null,
    outcome: "running",
    mainBranch: null,
    orchestratorPid: process.pid,
    maxParallelStreams: o.maxParallelStreams,
    restartLimit: o.restartLimit,
    completedStreams: [],
    failedStreams: [],
    mergedStreams: [],
    pausedStreams: [],
    budget: {},
    conflict: null,
    streams: {},
  };
}

export function loadState(root: string): RunState | null {
  const file = join(root, STATE_FILE);
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw failed(`${STATE_FILE} is not valid JSON (${(err as Error).message}); move it aside to start afresh`);
  }
  const parsed = runStateSchema.safeParse(raw);
  if (!parsed.success) throw failed(`${STATE_FILE} is not a state file orch understands: ${formatZodIssues(parsed.error.issues)}`);
  return parsed.data;
}

export function saveState(root: string, state: RunState, now: string = new Date().toISOString()): void {
  const file = join(root, STATE_FILE);
  mkdirSync(dirname(file), { recursive: true });
  state.lastUpdate = now;
  // The guide's summary lists, derived so they can never disagree with the per-stream records.
  const ids = Object.keys(state.streams);
  state.completedStreams = ids.filter((id) => ["completed", "merged"].includes(state.streams[id]!.status));
  state.mergedStreams = ids.filter((id) => state.streams[id]!.status === "merged");
  state.failedStreams = ids.filter((id) => state.streams[id]!.status === "failed");
  const tmp = join(root, stateTempFile(process.pid));
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
  removeDeadTempFiles(dirname(file));
}

/** A `orch start` killed between writing its temporary state file and renaming it leaves that file. */
function removeDeadTempFiles(dir: string): void {
  const prefix = `${basename(STATE_FILE)}.`;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const pid = Number(name.slice(prefix.length, -".tmp".length));
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) rmSync(join(dir, name), { force: true });
  }
}

/** Is `pid` a live process (and, when argv is known, running that program)? */
export function processAlive(pid: number | null, argv?: string[] | null): boolean {
  if (!pidAlive(pid)) return false;
  if (argv?.length && existsSync(`/proc/${pid}/cmdline`)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      // A recycled pid running something else is not our agent.
      return cmdline.length > 0 && cmdline[0] !== "" && cmdline.some((w) => w.endsWith(argv[0]!.split("/").pop()!));
    } catch {
      return false;
    }
  }
  return true;
}
