/**
 * `orch generate [generate|config|status]`: the guide's `/orchestration` actions. `generate`
 * writes `.claude/orchestration/` (config, README, launchers) and, with `--ci github`, a workflow.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { findProjectRoot, readEnv } from "../config.ts";
import { failed, usageError } from "../errors.ts";
import { configSchema, DERIVED_KEYS, type OrchestrationConfig } from "../generate/config.ts";
import { generateOrchestration, planSource } from "../generate/orchestration.ts";
import { CONFIG_FILE, WATCH_SCRIPT } from "../paths.ts";
import { renderStatus, statusReport } from "../generate/status.ts";
import { writeFiles } from "../generate/writer.ts";
import { commandGroup, commonFlags, type Action } from "./command.ts";
import { storeFromFlags, str } from "./context.ts";
import { printJson, say } from "./output.ts";
import { idList, maxParallelFlag, maxParallelFrom } from "./plan-flags.ts";

const initiativeFlag = { initiative: { type: "string", value: "ID", description: "this initiative (default: the current one)" } } as const;

function nextSteps(c: OrchestrationConfig): string {
  const { foundation, parallel, integration } = c.executionPlan;
  const cont = (ids: string[]) => idList(ids.map((id) => `/continue ${id}`), 6);
  return [
    "Next steps:",
    "1. Review configuration: orch generate config",
    `2. Start monitoring: python3 ${WATCH_SCRIPT}`,
    "3. Execute streams:",
    ...(foundation.length ? [`   - Foundation: ${cont(foundation)}`] : []),
    ...(parallel.length ? [`   - After foundation: ${cont(parallel)}`] : []),
    ...(integration.length ? [`   - After parallel: ${cont(integration)}`] : []),
  ].join("\n");
}

const generate: Action = {
  summary: "write .claude/orchestration/ (config, README, start-streams.py, watch-status.py)",
  flags: {
    ci: { type: "string", value: "github", description: "also write a CI workflow whose jobs follow the stream graph" },
    force: { type: "boolean", description: "replace generated files you have changed (README, launchers, workflow); the config's keys are kept anyway" },
    ...maxParallelFlag,
    ...initiativeFlag,
    ...commonFlags,
  },
  async run({ flags }) {
    const ci = str(flags.ci);
    if (ci !== undefined && ci !== "github") throw usageError(`flag --ci must be "github", not "${ci}"`);
    const maxParallel = flags["max-parallel"] === undefined ? undefined : maxParallelFrom(flags["max-parallel"]);
    const env = readEnv();
    const projectRoot = findProjectRoot();
    const store = await storeFromFlags(flags);
    const { config, files, kept } = await generateOrchestration(store, {
      projectRoot,
      host: env.HTTP_API_HOST,
      port: env.HTTP_API_PORT,
      maxParallel,
      ci: ci === "github" ? "github" : undefined,
      initiativeId: str(flags.initiative),
      onDisk: (path) => readIfFile(join(projectRoot, path)),
      force: flags.force === true,
    });
    writeFiles(projectRoot, files);
    if (flags.json) return printJson({ projectRoot, files: files.map((f) => f.path), kept, config });
    const keptLines = kept.length ? `\nKept as you changed them (orch generate --force replaces them):\n${kept.map((p) => `  ${p}\n`).join("")}` : "";
    say(`✓ Generated orchestration configuration\n\nFiles created:\n${files.map((f) => `  ${f.path}\n`).join("")}${keptLines}\n${nextSteps(config)}\n`);
  },
};

/** A file's text, or null when there is none (a folder in the way is the writer's to refuse). */
function readIfFile(path: string): string | null {
  try {
    return statSync(path).isFile() ? readFileSync(path, "utf8") : null;
  } catch {
    return null;
  }
}

function readConfig(projectRoot: string): { config: OrchestrationConfig; data: Record<string, unknown>; userKeys: string[] } {
  const path = join(projectRoot, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw failed(`no ${CONFIG_FILE} in ${projectRoot}: run orch generate first`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw failed(`${CONFIG_FILE} is not valid JSON (${(err as Error).message}): fix it, or remove it and run orch generate`);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) throw failed(`${CONFIG_FILE} is not an orchestration config: run orch generate to rewrite it`);
  const derived = new Set<string>([...DERIVED_KEYS, "pollInterval", "maxParallelStreams"]);
  const all = data as Record<string, unknown>;
  return { config: parsed.data, data: all, userKeys: Object.keys(all).filter((k) => !derived.has(k)) };
}

const config: Action = {
  summary: "show the current orchestration config",
  flags: { ...commonFlags },
  async run({ flags }) {
    const projectRoot = findProjectRoot();
    const { config: c, data, userKeys } = readConfig(projectRoot);
    if (flags.json) return printJson(data);
    // Has the plan moved on since the files were written?
    const now = await planSource(await storeFromFlags(flags), c.initiative.id ?? undefined);
    const shape = (xs: { streamId: string; dependencies: string[] }[]) =>
      JSON.stringify(xs.map((s) => [s.streamId, s.dependencies]).sort());
    const stale = shape(now.streams) !== shape(c.streams);
    const rows = c.streams.map((s) => [s.streamId, s.streamName, s.streamPhase, `${s.totalTasks}`, s.dependencies.join(", ") || "-"]);
    const head = ["STREAM", "NAME", "PHASE", "TASKS", "DEPENDS ON"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join("  ");
    say(
      [
        `Config:      ${join(projectRoot, CONFIG_FILE)} (generated ${c.generatedAt}, version ${c.version})`,
        `Initiative:  ${c.initiative.name}${c.initiative.id ? ` (${c.initiative.id})` : ""}`,
        `API:         ${c.apiBaseUrl} · poll every ${c.pollInterval} s · at most ${c.maxParallelStreams} parallel streams`,
        ...(userKeys.length ? [`Your keys:   ${userKeys.join(", ")} (orch generate keeps them)`] : []),
        "",
        line(head),
        ...rows.map(line),
        "",
        "Execution plan:",
        `  1. Foundation:  ${idList(c.executionPlan.foundation)}`,
        `  2. Parallel:    ${idList(c.executionPlan.parallel)}`,
        `  3. Integration: ${idList(c.executionPlan.integration)}`,
        ...(stale ? ["", "⚠ The streams in the database have changed since this was generated: run orch generate"] : []),
        "",
      ].join("\n"),
    );
  },
};

const status: Action = {
  summary: "show progress by phase (foundation, parallel, integration)",
  flags: { ...initiativeFlag, ...commonFlags },
  async run({ flags }) {
    const src = await planSource(await storeFromFlags(flags), str(flags.initiative));
    const report = statusReport(src.initiative, src.streams, src.archived);
    if (flags.json) return printJson(report);
    if (src.streams.length === 0 && src.archived.length)
      return say(`No active streams: ${src.archived.length} archived (orch stream list --all shows them)\n`);
    if (src.streams.length === 0) return say("No streams yet: import a PRD with orch prd import PRD.md\n");
    say(renderStatus(report));
  },
};

export const command = commandGroup(
  "generate",
  "write .claude/orchestration/ (config, README, launchers); show config and status. Alone: generate",
  { generate, config, status },
  "generate",
);
