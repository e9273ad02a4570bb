/**
 * `.claude/orchestration/orchestration-config.json` in the guide's exact structure (the
 * /orchestration command section), built from stream views. Pure; the schema reads it back.
 */
import { z } from "zod";
import { executionPlan, type ExecutionPlan } from "../core/graph.ts";
import { STREAM_PHASES, type StreamPhase } from "../core/schemas.ts";

export const CONFIG_VERSION = "1.0";
/** Seconds between the orchestrator's polls of the API (the guide's value). */
export const POLL_INTERVAL = 30;

export interface OrchestrationConfig {
  version: string;
  generatedAt: string;
  initiative: { id: string | null; name: string };
  apiBaseUrl: string;
  pollInterval: number;
  maxParallelStreams: number;
  streams: ConfigStream[];
  executionPlan: ExecutionPlan;
}

/** What the config is built from: the stream views' relevant fields. */
export interface StreamFacts {
  streamId: string;
  streamName: string;
  streamPhase: StreamPhase;
  totalTasks: number;
  completedTasks: number;
  dependencies: string[];
  worktreePath: string | null;
}

/** One stream as the config file lists it: its facts, and the project it belongs to. */
export interface ConfigStream extends StreamFacts {
  projectRoot: string;
}

export function apiBaseUrl(host: string, port: number): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

export function buildConfig(input: {
  initiative: { id: string | null; name: string };
  streams: readonly StreamFacts[];
  projectRoot: string;
  apiBaseUrl: string;
  maxParallelStreams: number;
  generatedAt: string;
}): OrchestrationConfig {
  // Key order is the guide's; JSON.stringify keeps insertion order.
  const streams = input.streams.map((s) => ({
    streamId: s.streamId,
    streamName: s.streamName,
    streamPhase: s.streamPhase,
    totalTasks: s.totalTasks,
    completedTasks: s.completedTasks,
    dependencies: [...s.dependencies],
    projectRoot: input.projectRoot,
    worktreePath: s.worktreePath,
  }));
  return {
    version: CONFIG_VERSION,
    generatedAt: input.generatedAt,
    initiative: { id: input.initiative.id, name: input.initiative.name },
    apiBaseUrl: input.apiBaseUrl,
    pollInterval: POLL_INTERVAL,
    maxParallelStreams: input.maxParallelStreams,
    streams,
    executionPlan: executionPlan(input.streams.map((s) => ({ id: s.streamId, phase: s.streamPhase, dependencies: s.dependencies }))),
  };
}

export const configSchema = z.object({
  version: z.string(),
  generatedAt: z.string(),
  initiative: z.object({ id: z.string().nullable(), name: z.string() }),
  apiBaseUrl: z.string(),
  pollInterval: z.number(),
  maxParallelStreams: z.number().int().positive(),
  streams: z.array(
    z.object({
      streamId: z.string(),
      streamName: z.string(),
      streamPhase: z.enum(STREAM_PHASES),
      totalTasks: z.number().int(),
      completedTasks: z.number().int(),
      dependencies: z.array(z.string()),
      projectRoot: z.string(),
      worktreePath: z.string().nullable(),
    }),
  ),
  executionPlan: z.object({ foundation: z.array(z.string()), parallel: z.array(z.string()), integration: z.array(z.string()) }),
});

export const configJson = (c: OrchestrationConfig) => `${JSON.stringify(c, null, 2)}\n`;
