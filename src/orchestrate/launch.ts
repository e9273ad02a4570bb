/**
 * Launching one stream's agent: its worktree (parallel streams), the agent command filled in,
 * its environment, the launcher, and the run's record of it (saved at once by the caller) with
 * an agent session row for launches orch can follow.
 */
import { randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { openAgentSession } from "../core/agent-sessions.ts";
import type { StreamView } from "../core/streams.ts";
import type { Store } from "../db/client.ts";
import { resolveWorktreeSetup } from "../workspace/config.ts";
import { createStreamWorktree } from "../workspace/create.ts";
import { agentArgv, withBudgetCap } from "./agent-command.ts";
import { mainCheckoutChanges } from "./main-checkout.ts";
import type { LaunchedAgent, Launcher } from "./launchers/types.ts";
import type { RunNote } from "./messages.ts";
import { LOG_DIR, type StreamRun } from "./state.ts";

export interface LaunchContext {
  store: Store;
  root: string;
  launcher: Launcher;
  agentTemplate: string;
  apiPort?: number;
  initiativeId: string | null;
  /** What is left of the stream's (or the initiative's) dollar budget; null: no limit. */
  budgetCapUsd?: number | null;
  note(n: RunNote): void;
  /** Persist the record: called once the launch is decided, before the agent is spawned. */
  beforeSpawn(): void;
}

export async function launchStream(ctx: LaunchContext, s: StreamView, r: StreamRun): Promise<LaunchedAgent> {
  const { store, root } = ctx;
  let cwd = root;
  if (s.streamPhase === "parallel") {
    const wt = await createStreamWorktree(store, { streamId: s.streamId, cwd: root, setup: resolveWorktreeSetup(root) });
    cwd = wt.worktreePath;
    if (wt.created) ctx.note({ kind: "worktree-created", path: relative(root, wt.worktreePath), branch: wt.branchName });
  }
  const argv = withBudgetCap(agentArgv(ctx.agentTemplate, { streamId: s.streamId, worktree: cwd, projectRoot: root }), ctx.budgetCapUsd ?? null);
  const logFile = join(root, LOG_DIR, `${s.streamId}.log`);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ORCH_STREAM_ID: s.streamId,
    ORCH_DB: store.location,
    ORCH_LAUNCHER: ctx.launcher.name,
    ...(ctx.apiPort ? { HTTP_API_PORT: String(ctx.apiPort) } : {}),
  };
  // An agent in the main checkout: what is untracked there now is not its work.
  const untrackedAtLaunch = cwd === root ? (mainCheckoutChanges(root)?.untracked ?? []) : [];
  ctx.note({ kind: "starting", streamId: s.streamId, phase: s.streamPhase });
  // Recorded before the spawn: a kill between the spawn and the pid being saved must not leave an
  // agent that --resume cannot find (and would launch a second time).
  if (ctx.launcher.name !== "manual") {
    Object.assign(r, { status: "running", pid: null, argv, cwd, launchToken: randomUUID() } satisfies Partial<StreamRun>);
    env.ORCH_LAUNCH_TOKEN = r.launchToken!;
    ctx.beforeSpawn();
  }
  // The log is appended to across launches: this launch's events start at its current end.
  const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
  const agent = ctx.launcher.launch({ streamId: s.streamId, phase: s.streamPhase, argv, cwd, env, logFile, projectRoot: root, initiativeId: ctx.initiativeId });
  Object.assign(r, {
    status: "running",
    launches: r.launches + 1,
    pid: agent.pid,
    argv,
    cwd,
    log: ctx.launcher.name === "headless" ? logFile : null,
    startedAt: store.now(),
    stallAlerted: false,
    agentAlive: agent.exited !== null,
    completedAtLaunch: s.completedTasks,
    denials: 0,
    logOffset,
    untrackedAtLaunch,
  } satisfies Partial<StreamRun>);
  r.agentSession = agent.exited ? await openAgentSession(store, { streamId: s.streamId, initiativeId: ctx.initiativeId, launch: r.launches }) : null;
  return agent;
}
