/**
 * `orch generate`: the current initiative's streams from the database → every generated file's
 * content, in memory. The graph is validated first, so an invalid plan produces no files at all.
 */
import type { Store } from "../db/client.ts";
import { currentInitiative, getInitiative } from "../core/initiatives.ts";
import { validateGraph, type GraphStream } from "../core/graph.ts";
import { listStreams, type StreamView } from "../core/streams.ts";
import { notFound } from "../errors.ts";
import { createHash } from "node:crypto";
import { DEFAULT_MAX_PARALLEL } from "../core/graph.ts";
import { apiBaseUrl, buildConfig, mergeConfig, mergedConfigJson, parseExistingConfig, userSetting, type OrchestrationConfig } from "./config.ts";
import { START_STREAMS_PY, WATCH_STATUS_PY } from "./launchers.ts";
import { CONFIG_FILE, README_FILE, START_SCRIPT, WATCH_SCRIPT, WORKFLOW_FILE } from "../paths.ts";
import { buildReadme } from "./readme.ts";
import { buildWorkflow } from "./workflow.ts";
import { listPrds } from "../core/prds.ts";
import { VERSION } from "../version.ts";
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
export async function planSource(store: Store, initiativeId?: string): Promise<PlanSource> {
  const init = initiativeId ? await getInitiative(store, initiativeId) : await currentInitiative(store);
  const all = await listStreams(store, { ...(init ? { initiativeId: init.id } : {}), includeArchived: true });
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
  /** `--max-parallel`; else the config file's `maxParallelStreams`; else the default. */
  maxParallel?: number;
  ci?: "github";
  initiativeId?: string;
  now?: string;
  /** A file as it is now, by its path under the project root (null: absent). Default: none exist. */
  onDisk?: (path: string) => string | null;
  /** Replace generated files the user changed, too. */
  force?: boolean;
}

export interface Generated {
  /** orch's part of the config (the guide's shape); the file also keeps the user's keys. */
  config: OrchestrationConfig;
  /** What to write: everything, but the files kept. */
  files: FileToWrite[];
  /** Generated files the user changed since orch wrote them: left as they are (unless force). */
  kept: string[];
}

export async function generateOrchestration(store: Store, opts: GenerateOptions): Promise<Generated> {
  const onDisk = opts.onDisk ?? (() => null);
  const previous = parseExistingConfig(onDisk(CONFIG_FILE));
  const maxParallel = opts.maxParallel ?? userSetting(previous, "maxParallelStreams") ?? DEFAULT_MAX_PARALLEL;
  const src = await planSource(store, opts.initiativeId);
  if (src.streams.length === 0)
    throw notFound(
      src.initiative
        ? `No streams in initiative ${src.initiative.id}: import a PRD first (orch prd import PRD.md)`
        : "No streams to orchestrate: import a PRD first (orch prd import PRD.md)",
    );
  validateGraph(graphToValidate(src), { maxParallel });
  const root = opts.projectRoot;
  const config = buildConfig({
    initiative: src.initiative ?? { id: null, name: root.split(/[\\/]/).filter(Boolean).pop() ?? "orchestration" },
    streams: src.streams,
    projectRoot: root,
    apiBaseUrl: apiBaseUrl(opts.host, opts.port),
    maxParallelStreams: maxParallel,
    pollInterval: userSetting(previous, "pollInterval"),
    generatedAt: opts.now ?? new Date().toISOString(),
  });
  const stamped: FileToWrite[] = [
    { path: START_SCRIPT, content: stamp(START_SCRIPT, START_STREAMS_PY), mode: 0o755 },
    { path: WATCH_SCRIPT, content: stamp(WATCH_SCRIPT, WATCH_STATUS_PY), mode: 0o755 },
    { path: README_FILE, content: stamp(README_FILE, buildReadme(forMarkdown(config))) },
  ];
  if (opts.ci === "github") {
    // The plan each job imports again: the PRD file as `orch prd import` was given it, in the repository.
    const prds = src.initiative?.id ? await listPrds(store, { initiativeId: src.initiative.id }) : [];
    const prdPath = prds.map((p) => p.metadata.repoPath).find((v): v is string => typeof v === "string") ?? null;
    stamped.push({ path: WORKFLOW_FILE, content: stamp(WORKFLOW_FILE, buildWorkflow(forYaml(config), { prdPath, orchVersion: VERSION })) });
  }
  const kept = opts.force ? [] : stamped.filter((f) => changedByUser(onDisk(f.path), f.content)).map((f) => f.path);
  const files = [{ path: CONFIG_FILE, content: mergedConfigJson(mergeConfig(previous, config)) }, ...stamped.filter((f) => !kept.includes(f.path))];
  return { config, files, kept };
}

// ── Generated files the user changed ────────────────────────────────────────────────────────
// Every generated file but the config (which is merged) ends with a stamp: a checksum of what
// precedes it. A file whose stamp still matches is orch's, untouched, and is replaced; one whose
// stamp does not (or that has none, and is not what orch writes) was changed by someone, and is
// kept. `orch generate --force` replaces it anyway.

const STAMP = /\n(?:#|<!--) orch generate: ([0-9a-f]{16}); edit this file and orch generate keeps it(?: -->)?\n$/;

const digest = (body: string) => createHash("sha256").update(body).digest("hex").slice(0, 16);

/** `body` with its stamp appended, in the file's comment syntax. */
export function stamp(path: string, body: string): string {
  const text = body.endsWith("\n") ? body : `${body}\n`;
  const note = `orch generate: ${digest(text)}; edit this file and orch generate keeps it`;
  return `${text}${path.endsWith(".md") ? `<!-- ${note} -->` : `# ${note}`}\n`;
}

/** The text a stamped file had before its stamp, when the stamp still matches it. */
function unstamped(text: string): string | null {
  const m = STAMP.exec(text);
  if (!m) return null;
  const body = text.slice(0, m.index + 1);
  return digest(body) === m[1] ? body : null;
}

/** Present, not what orch writes now, and not orch's own untouched earlier output. */
export function changedByUser(onDisk: string | null, next: string): boolean {
  if (onDisk === null || onDisk === next) return false;
  if (unstamped(onDisk) !== null) return false;
  return onDisk !== unstamped(next); // what an orch without stamps wrote (the launchers are constant)
}

// ── Text others wrote, made safe for each format ────────────────────────────────────────────
// Names and paths come from PRD authors and agents. No generated file carries a control
// character, a line or paragraph separator, a bidi override, a noncharacter or half a surrogate
// pair raw: each is written as a visible \uXXXX. The README's text is markdown-escaped (the
// builder escapes table pipes itself); the workflow's strings are JSON-quoted by its builder.

const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Unsafe characters as visible `\uXXXX`; tabs and line breaks stay (each format handles them). */
export const visible = (s: string) => s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** Markdown that shows `s` as written: its markup characters backslash-escaped (pipes: the table's job). */
export const markdownText = (s: string) => visible(s).replace(/[\\`*_[\]<>~!&#]/g, "\\$&");

function mapText(c: OrchestrationConfig, f: (s: string) => string): OrchestrationConfig {
  return {
    ...c,
    initiative: { id: c.initiative.id, name: f(c.initiative.name) },
    streams: c.streams.map((s) => ({ ...s, streamName: f(s.streamName), worktreePath: s.worktreePath === null ? null : f(s.worktreePath) })),
  };
}

export const forMarkdown = (c: OrchestrationConfig) => mapText(c, markdownText);
export const forYaml = (c: OrchestrationConfig) => mapText(c, visible);
