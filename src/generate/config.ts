/**
 * `.claude/orchestration/orchestration-config.json` in the guide's exact structure (the
 * /orchestration command section), built from stream views. Pure; the schema reads it back.
 *
 * The file is also the user's: the README tells them to put `agentCommand`, `launcher`,
 * `restartLimit`, `stallTimeout`, `worktree` there, and they may add keys of their own. Writing
 * it again keeps every key they set and refreshes only what orch derives (mergeConfig); their
 * `maxParallelStreams` and `pollInterval` stand unless a flag says otherwise.
 */
import { z } from "zod";
import { failed } from "../errors.ts";
import { CONFIG_FILE } from "../paths.ts";
import { parseJsonObjectFile } from "./init-files.ts";
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
  pollInterval?: number;
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
    pollInterval: input.pollInterval ?? POLL_INTERVAL,
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

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** What orch derives and writes again every time; every other key belongs to the user. */
export const DERIVED_KEYS = ["version", "generatedAt", "initiative", "apiBaseUrl", "streams", "executionPlan"] as const;

/**
 * The existing file's text → its object (null: no file, or an empty one). Invalid JSON, or JSON
 * that is not an object, is refused in one line naming where, so nothing of the user's is lost.
 */
export function parseExistingConfig(text: string | null): Json | null {
  return parseJsonObjectFile(text, CONFIG_FILE, "orch generate");
}

/** A setting the user may have changed in the file: kept when valid, refused in one line when not. */
export function userSetting(previous: Json | null, key: "maxParallelStreams" | "pollInterval"): number | undefined {
  const v = previous?.[key];
  if (v === undefined) return undefined;
  if (typeof v === "number" && Number.isInteger(v) && v >= 1) return v;
  throw failed(`${CONFIG_FILE}: ${key} must be a whole number of at least 1, not ${JSON.stringify(v)?.slice(0, 40)}; fix it (it was left untouched)`);
}

/**
 * The file to write: the user's object with orch's keys refreshed. The user's keys, their order
 * and values stay; keys a user added inside `initiative` or a stream entry (matched by streamId)
 * stay too. A new file is exactly the guide's shape.
 */
export function mergeConfig(previous: Json | null, generated: OrchestrationConfig): Json {
  if (!previous) return { ...generated };
  const out: Json = { ...previous };
  for (const [key, value] of Object.entries(generated)) {
    const before = previous[key];
    if (key === "streams") out[key] = mergeStreams(before, generated.streams);
    else if (key === "initiative" && isObject(before)) out[key] = { ...before, ...(value as Json) };
    else out[key] = value;
  }
  return out;
}

function mergeStreams(before: unknown, streams: readonly ConfigStream[]): Json[] {
  const old = new Map<string, Json>();
  if (Array.isArray(before)) for (const e of before) if (isObject(e) && typeof e.streamId === "string") old.set(e.streamId, e);
  return streams.map((s) => ({ ...(old.get(s.streamId) ?? {}), ...s }));
}

export const mergedConfigJson = (c: Json) => `${JSON.stringify(c, null, 2)}\n`;
