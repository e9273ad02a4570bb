/**
 * `orch generate`: the current initiative's streams from the database → every generated file's
 * content, in memory. The graph is validated first, so an invalid plan produces no files at all.
 */
import type { Store } from "../db/client.ts";
import { currentInitiative, getInitiative } from "../core/initiatives.ts";
import { validateGraph, type GraphStream } from "../core/graph.ts";
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
  /** The streams to orchestrate (not archived). */
  streams: StreamView[];
  /** The same initiative's archived streams: done with, but still what others depend on. */
  archived: StreamView[];
}

/**
 * The streams to orchestrate: the named initiative's, else the current initiative's, else (no
 * initiative at all) every unarchived stream; and the archived ones beside them.
 */
export function planSource(store: Store, initiativeId?: string): PlanSource {
  const init = initiativeId ? getInitiative(store, initiativeId) : currentInitiative(store);
  const all = listStreams(store, { ...(init ? { initiativeId: init.id } : {}), includeArchived: true });
  return {
    initiative: init ? { id: init.id, name: init.name } : null,
    streams: all.filter((s) => !s.archived),
    archived: all.filter((s) => s.archived),
  };
}

/**
 * The graph to validate: the active streams, with a dependency on an archived stream known (it
 * exists; whether it is complete is the run's business), and an archived foundation counted as
 * the plan's foundation. Archived streams never count towards the parallel maximum.
 */
export function graphToValidate(src: Pick<PlanSource, "streams" | "archived">): GraphStream[] {
  const active = new Set(src.streams.map((s) => s.streamId));
  const archived = new Set(src.archived.map((s) => s.streamId));
  const nodes: GraphStream[] = src.streams.map((s) => ({
    id: s.streamId,
    phase: s.streamPhase,
    dependencies: s.dependencies.filter((d) => active.has(d) || !archived.has(d)),
  }));
  for (const s of src.archived) if (s.streamPhase === "foundation") nodes.push({ id: s.streamId, phase: "foundation", dependencies: [] });
  return nodes;
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
  validateGraph(graphToValidate(src), { maxParallel: opts.maxParallel });
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
