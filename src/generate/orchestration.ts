/**
 * `orch generate`: the current initiative's streams from the database → every generated file's
 * content, in memory. The graph is validated first, so an invalid plan produces no files at all.
 */
import type { Store } from "../db/client.ts";
import { currentInitiative, getInitiative } from "../core/initiatives.ts";
import { validateGraph } from "../core/graph.ts";
import { listStreams, type StreamView } from "../core/streams.ts";
import { notFound } from "../errors.ts";
import { apiBaseUrl, buildConfig, configJson, type OrchestrationConfig } from "./config.ts";
import { START_STREAMS_PY, WATCH_STATUS_PY } from "./launchers.ts";
import { CONFIG_FILE, README_FILE, START_SCRIPT, WATCH_SCRIPT, WORKFLOW_FILE } from "../paths.ts";
import { buildReadme } from "./readme.ts";
import { buildWorkflow } from "./workflow.ts";
import type { FileToWrite } from "./writer.ts";

export interface PlanSource {
  initiative: { id: string | null; name: string } | null;
  streams: StreamView[];
}

/**
 * The streams to orchestrate: the named initiative's, else the current initiative's, else (no
 * initiative at all) every unarchived stream.
 */
export function planSource(store: Store, initiativeId?: string): PlanSource {
  const init = initiativeId ? getInitiative(store, initiativeId) : currentInitiative(store);
  const streams = listStreams(store, init ? { initiativeId: init.id } : {});
  return { initiative: init ? { id: init.id, name: init.name } : null, streams };
}

export interface GenerateOptions {
  projectRoot: string;
  host: string;
  port: number;
  maxParallel: number;
  ci?: "github";
  initiativeId?: string;
  now?: string;
}

export interface Generated {
  config: OrchestrationConfig;
  files: FileToWrite[];
}

export function generateOrchestration(store: Store, opts: GenerateOptions): Generated {
  const src = planSource(store, opts.initiativeId);
  if (src.streams.length === 0)
    throw notFound(
      src.initiative
        ? `No streams in initiative ${src.initiative.id}: import a PRD first (orch prd import PRD.md)`
        : "No streams to orchestrate: import a PRD first (orch prd import PRD.md)",
    );
  validateGraph(
    src.streams.map((s) => ({ id: s.streamId, phase: s.streamPhase, dependencies: s.dependencies })),
    { maxParallel: opts.maxParallel },
  );
  const root = opts.projectRoot;
  const config = buildConfig({
    initiative: src.initiative ?? { id: null, name: root.split(/[\\/]/).filter(Boolean).pop() ?? "orchestration" },
    streams: src.streams,
    projectRoot: root,
    apiBaseUrl: apiBaseUrl(opts.host, opts.port),
    maxParallelStreams: opts.maxParallel,
    generatedAt: opts.now ?? new Date().toISOString(),
  });
  const files: FileToWrite[] = [
    { path: CONFIG_FILE, content: configJson(config) },
    { path: START_SCRIPT, content: START_STREAMS_PY, mode: 0o755 },
    { path: WATCH_SCRIPT, content: WATCH_STATUS_PY, mode: 0o755 },
    { path: README_FILE, content: buildReadme(config) },
  ];
  if (opts.ci === "github") files.push({ path: WORKFLOW_FILE, content: buildWorkflow(config) });
  return { config, files };
}
