/**
 * `orch start` — the three-phase run (the guide's start-streams.py, made real): --dry-run shows
 * the plan, --status the progress, otherwise it launches the agents and follows them.
 */
import { currentInitiative } from "../core/initiatives.ts";
import { tokenCount, usd, type BudgetLimits } from "../core/budget.ts";
import { costLine, sumUsage, usageByStream } from "../core/agent-sessions.ts";
import { checkStreamGate } from "../core/gate.ts";
import { listStreams } from "../core/streams.ts";
import { findProjectRoot, readEnv } from "../config.ts";
import { conflict, notFound, usageError } from "../errors.ts";
import type { Store } from "../db/client.ts";
import { renderStatus, statusReport } from "../generate/status.ts";
import { resolveBudget, resolveRunSettings, resolveTeamSettings, type RunSettings } from "../orchestrate/config.ts";
import { dryRunSummary, planOrder } from "../orchestrate/plan.ts";
import { failures, preflight, runWillRefuse, type PreflightResult } from "../orchestrate/preflight.ts";
import { archivedDone, runStreams } from "../orchestrate/run-setup.ts";
import { loadState, type RunState } from "../orchestrate/state.ts";
import type { StreamView } from "../core/streams.ts";
import { singleAction } from "./command.ts";
import { storeFromFlags, str } from "./context.ts";
import { errOut } from "../sys/io.ts";
import { printJson, say } from "./output.ts";

export const command = singleAction("start", {
  summary: "run the three phases: launch each stream's agent in dependency order, merge, report",
  flags: {
    "dry-run": { type: "boolean", description: "show the plan and what can start now; launch nothing" },
    status: { type: "boolean", description: "show progress per phase and the run's state" },
    stream: { type: "string", value: "ID", description: "launch this one stream (dependencies must be complete)" },
    launcher: { type: "string", value: "L", description: "manual|tmux|headless (default: config launcher, else manual)" },
    "agent-cmd": { type: "string", value: "T", description: 'agent command template (default headless: claude -p "/continue {streamId}" --output-format stream-json --verbose --permission-prompt-tool mcp__task-copilot__permission_prompt; tmux/manual: claude "/continue {streamId}"); {streamId} {worktree} {projectRoot}' },
    resume: { type: "boolean", description: "continue a run after a crash or Ctrl+C: follow live agents, launch no duplicate" },
    "max-parallel": { type: "string", value: "N", description: "most agents at once; more ready streams wait their turn (default: config, else 5)" },
    "restart-limit": { type: "string", value: "N", description: "restarts of an agent that exits with its stream unfinished (default 2)" },
    "stall-timeout": { type: "string", value: "S", description: "seconds without progress or heartbeat before an alert (default 600)" },
    "budget-stream-usd": { type: "string", value: "N", description: "each stream's budget in US dollars (default: config budget.streamUsd); reached → paused until orch budget raise" },
    "budget-usd": { type: "string", value: "N", description: "the initiative's budget in US dollars (default: config budget.initiativeUsd); reached → every stream paused" },
    db: { type: "string", value: "PATH|URL", description: "database file or postgres:// URL (else ORCH_DB, else TASK_DB_PATH/<workspace>/tasks.db)" },
    json: { type: "boolean", description: "machine-readable output (with --dry-run or --status)" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  async run({ flags }) {
    const root = findProjectRoot();
    const settings = resolveRunSettings(root, {
      launcher: str(flags.launcher),
      agentCmd: str(flags["agent-cmd"]),
      maxParallel: str(flags["max-parallel"]),
      restartLimit: str(flags["restart-limit"]),
      stallTimeout: str(flags["stall-timeout"]),
    });
    const budget = resolveBudget(root, { streamUsd: str(flags["budget-stream-usd"]), initiativeUsd: str(flags["budget-usd"]) });
    if (flags["dry-run"] && flags.status) throw usageError("choose one of --dry-run and --status");
    const store = await storeFromFlags(flags);
    const streams = await runStreams(store);

    if (flags.status) {
      const initiative = await currentInitiative(store);
      const report = statusReport(initiative ? { id: initiative.id, name: initiative.name } : null, streams, await archivedDone(store));
      const state = loadState(root);
      if (flags.json) return printJson({ ...report, usage: sumUsage((await usageByStream(store, streams.map((s) => s.streamId))).values()), run: state });
      say(renderStatus(report));
      const usage = sumUsage((await usageByStream(store, streams.map((s) => s.streamId))).values());
      if (usage.sessions) say(`\n${costLine(usage)}\n`);
      if (state)
        say(
          `\nRun: ${state.outcome} (started ${state.startedAt}, launcher ${state.launcher})` +
            `${state.failedStreams.length ? `; failed: ${state.failedStreams.join(", ")}` : ""}` +
            `${state.pausedStreams.length ? `; paused for budget: ${state.pausedStreams.join(", ")} (orch budget raise STREAM USD)` : ""}` +
            `${state.conflict ? `; merge conflict in ${state.conflict.streamId}: ${state.conflict.files.join(", ")}` : ""}\n`,
        );
      return 0;
    }

    const only = str(flags.stream);
    // A stream that does not exist is a mistake whatever else is asked (--dry-run included).
    if (only && !(await listStreams(store, { includeArchived: true })).some((s) => s.streamId === only)) throw notFound(`Stream not found: ${only}`);
    // A corrupt state file stops here, before anything is checked or launched.
    const previous = loadState(root);

    if (flags["dry-run"]) {
      const summary = dryRunSummary(streams, await archivedDone(store));
      const checks = await runPreflight({ root, settings, store, streams, only, previous });
      if (flags.json) return printJson({ streams: planOrder(streams).map((s) => s.streamId), ...summary, settings, budget, preflight: checks });
      const lines = ["Execution plan (dry run: nothing is launched)", ""];
      for (const phase of ["foundation", "parallel", "integration"] as const) {
        const list = planOrder(streams).filter((s) => s.streamPhase === phase);
        if (!list.length) continue;
        lines.push(`${phase[0]!.toUpperCase()}${phase.slice(1)} phase:`);
        for (const s of list)
          lines.push(
            `  ${s.streamId}: ${s.streamName} — ${s.completedTasks}/${s.totalTasks} tasks${s.dependencies.length ? `, depends on ${s.dependencies.join(", ")}` : ""}${s.status === "completed" ? " ✓" : ""}`,
          );
      }
      lines.push("", ...summary.lines, `Can start now: ${summary.canStart.join(", ") || "nothing"}`);
      lines.push(`Launcher: ${settings.launcher}; agent command: ${settings.agentCommand}; at most ${settings.maxParallel} at once`);
      const limits = describeLimits(budget);
      if (limits) lines.push(`Budget: ${limits}`);
      lines.push("", "Preflight:", ...checks.map((c) => `  ${c.ok ? (c.warning ? "⚠" : "✓") : "✖"} ${c.line}`));
      if (failures(checks).length) lines.push("orch start would refuse to launch until the ✖ lines are fixed.");
      say(`${lines.join("\n")}\n`);
      return 0;
    }

    if (only) {
      const gate = checkStreamGate(only, await listStreams(store, { includeArchived: true }));
      if (!gate.ok) throw gate.reason === "not_found" ? notFound(gate.message) : conflict(gate.message);
    }

    // Nothing is launched until every check passes; what the run refuses by itself (nothing to
    // run or resume) it says better than a preflight line would.
    const resume = flags.resume === true;
    if (!runWillRefuse({ streams: streams.length, resume, previous, initiativeId: (await currentInitiative(store))?.id ?? null })) {
      const checks = await runPreflight({ root, settings, store, streams, only, previous });
      for (const w of checks.filter((c) => c.warning)) errOut(`orch: warning: ${w.line}\n`);
      const failed = failures(checks).map((c) => c.line);
      if (failed.length) {
        for (const line of failed.slice(0, -1)) errOut(`orch: ${line}\n`);
        throw usageError(failed.at(-1)!);
      }
    }

    const env = readEnv();
    const [{ runOrchestration }, launchers] = await Promise.all([import("../orchestrate/run.ts"), import("../orchestrate/launchers/index.ts")]);
    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = () => {
      interrupts++;
      if (interrupts === 1) errOut("\nStopping: no new agents will be launched…\n");
      controller.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const { outcome } = await runOrchestration({
      store,
      root,
      launcher: launchers.byName(settings.launcher, (t) => say(t)),
      agentTemplate: settings.agentCommand,
      maxParallel: settings.maxParallel,
      restartLimit: settings.restartLimit,
      stallTimeoutMs: settings.stallTimeoutMs,
      resume,
      only,
      webhookUrl: env.ORCHESTRATION_WEBHOOK_URL,
      budget,
      apiPort: process.env.HTTP_API_PORT ? env.HTTP_API_PORT : undefined,
      print: (line) => say(`${line}\n`),
      signal: controller.signal,
      team: resolveTeamSettings(root, env),
    });
    await store.close();
    // Detached agents and watchers must not keep orch itself alive once the run is over.
    process.exit(outcome === "complete" || outcome === "stopped" ? 0 : 1);
  },
});

/** "$5.00 per stream, $20.00 for the initiative" (null: no limit at all). */
function describeLimits(b: BudgetLimits): string | null {
  const parts = [
    b.streamUsd !== undefined ? `${usd(b.streamUsd)} per stream` : null,
    b.streamTokens !== undefined ? `${tokenCount(b.streamTokens)} tokens per stream` : null,
    b.initiativeUsd !== undefined ? `${usd(b.initiativeUsd)} for the initiative` : null,
    b.initiativeTokens !== undefined ? `${tokenCount(b.initiativeTokens)} tokens for the initiative` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : null;
}

/** The preflight with this command's facts: the run's settings, HTTP_API_HOST/PORT, this database. */
async function runPreflight(o: { root: string; settings: RunSettings; store: Store; streams: StreamView[]; only?: string; previous: RunState | null }): Promise<PreflightResult[]> {
  const env = readEnv();
  return preflight({
    root: o.root,
    launcher: o.settings.launcher,
    agentCommand: o.settings.agentCommand,
    streams: o.streams,
    only: o.only,
    previous: o.previous,
    api: { host: env.HTTP_API_HOST, port: env.HTTP_API_PORT, portSet: Boolean(process.env.HTTP_API_PORT) },
    dbId: await o.store.identity(),
    PATH: process.env.PATH,
  });
}
