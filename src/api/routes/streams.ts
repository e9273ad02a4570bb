/**
 * /api/streams, /api/streams/:streamId, its /health, from git its /worktree and /conflicts, its agent's /log and its
 * tasks' /work-products. Figures come from the
 * stream rows (kept in step with their tasks by the core), and answers are cached until the
 * database changes.
 */
import { Hono } from "hono";
import { z } from "zod";
import { streamHealth } from "../../core/stream-health.ts";
import { getStream, listStreams } from "../../core/streams.ts";
import { isOrchError } from "../../errors.ts";
import { apiStream, type ApiDeps, type RouteDoc } from "../context.ts";
import { withUsage } from "../../core/agent-sessions.ts";
import { ApiError, jsonBody, parseParams, parseQuery, safeJson } from "../http.ts";
import { boolParam, capParam, idParam } from "../params.ts";
import { errorShape, streamConflictsShape, streamDetailShape, streamHealthShape, streamListShape, streamLogShape, streamWorkProductsShape, streamWorktreeShape } from "../shapes.ts";
import { listStreamWorkProducts, STREAM_WORK_PRODUCTS_DEFAULT, STREAM_WORK_PRODUCTS_MAX } from "../../core/work-products.ts";
import { streamConflictFacts, streamWorktreeFacts } from "../../workspace/stream-git.ts";
import { DEFAULT_LOG_LINES, LOG_WINDOW_BYTES, MAX_LOG_LINES, streamLogTail } from "../../orchestrate/stream-log.ts";

export const streamListQuery = z.object({
  initiativeId: idParam("only this initiative's streams").optional(),
  includeArchived: boolParam("include archived streams (default false)").optional(),
});

export const streamGetQuery = z.object({
  includeArchived: boolParam("answer even if the stream is archived (default false)").optional(),
});

export const streamPath = z.object({ streamId: idParam("stream id, e.g. Stream-A") });

export const streamLogQuery = z.object({ lines: capParam(MAX_LOG_LINES, "log lines", DEFAULT_LOG_LINES).optional() });

export const streamWorkProductsQuery = z.object({ limit: capParam(STREAM_WORK_PRODUCTS_MAX, "work products", STREAM_WORK_PRODUCTS_DEFAULT).optional() });

const notFoundDoc = { description: "no such stream (or archived, without includeArchived)", schema: errorShape };
const badDoc = { description: "invalid parameter", schema: errorShape };

export const streamDocs: RouteDoc[] = [
  {
    path: "/api/streams",
    summary: "List streams with their progress",
    query: streamListQuery,
    responses: { 200: { description: "streams, oldest first", schema: streamListShape }, 400: badDoc },
  },
  {
    path: "/api/streams/{streamId}",
    summary: "One stream and its tasks",
    pathParams: streamPath,
    query: streamGetQuery,
    responses: { 200: { description: "the stream", schema: streamDetailShape }, 400: badDoc, 404: notFoundDoc },
  },
  {
    path: "/api/streams/{streamId}/health",
    summary: "Current task, last activity and warnings (stalled: in progress with no heartbeat for 10 minutes; blocked)",
    pathParams: streamPath,
    query: streamGetQuery,
    responses: { 200: { description: "the stream's health", schema: streamHealthShape }, 400: badDoc, 404: notFoundDoc },
  },
  {
    path: "/api/streams/{streamId}/worktree",
    summary: "The stream's worktree: branch, ahead/behind its base, uncommitted files (at most 200, with the total)",
    description: "Archived streams answer too. A stream without a worktree answers `exists: false`. Read from git on each request (not cached).",
    pathParams: streamPath,
    responses: { 200: { description: "the worktree", schema: streamWorktreeShape }, 400: badDoc, 404: { description: "no such stream", schema: errorShape } },
  },
  {
    path: "/api/streams/{streamId}/conflicts",
    summary: "Conflicts predicted between the stream's branch and each other live stream's (orch stream conflicts, this stream's pairs)",
    description: "git merge-tree on both branches, nothing touched; also the files both streams' tasks declare. Only the streams with a conflict, an overlap or an error are listed; at most 200 files each. Not cached.",
    pathParams: streamPath,
    responses: { 200: { description: "the predicted conflicts", schema: streamConflictsShape }, 400: badDoc, 404: { description: "no such stream", schema: errorShape } },
  },
  {
    path: "/api/streams/{streamId}/log",
    summary: "The tail of the stream's agent log: what the agent said, its tool calls, failures and the run's result, one line each",
    description: `From the transcript of the stream's most recent agent session (the path its hooks reported, read only when it is a .jsonl file under the Claude config folder's projects/), else the headless launcher's log (.claude/orchestration/logs/<streamId>.log). At most the last ${LOG_WINDOW_BYTES / 1024} KiB of the file are read; each line is derived from an entry, never the file's raw content. Archived streams answer too. Read on each request (not cached).`,
    pathParams: streamPath,
    query: streamLogQuery,
    responses: { 200: { description: "the log's last lines", schema: streamLogShape }, 400: badDoc, 404: { description: "no such stream", schema: errorShape } },
  },
  {
    path: "/api/streams/{streamId}/work-products",
    summary: "The work products stored for the stream's tasks, newest first, without their content (GET /api/work-products/{id} has it)",
    description: "Archived streams and tasks answer too.",
    pathParams: streamPath,
    query: streamWorkProductsQuery,
    responses: { 200: { description: "the work products and how many there are", schema: streamWorkProductsShape }, 400: badDoc, 404: { description: "no such stream", schema: errorShape } },
  },
];

function streamNotFound(streamId: string): ApiError {
  return new ApiError(404, { error: "Stream not found", streamId });
}

/** Core's not_found for this stream → the guide's 404 body. */
async function orNotFound<T>(streamId: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isOrchError(err) && err.kind === "not_found") throw streamNotFound(streamId);
    throw err;
  }
}

export function streamRoutes(deps: ApiDeps): Hono {
  const { store, cache } = deps;
  return new Hono()
    .get("/", async (c) => {
      const q = parseQuery(c, streamListQuery);
      const key = `streams\u0000${q.initiativeId ?? ""}\u0000${q.includeArchived === true}`;
      return jsonBody(
        c,
        await cache.json(key, async () => {
          const streams = await withUsage(store, (await listStreams(store, q)).map((s) => apiStream(s, deps.mainBranch)));
          return { streams, totalStreams: streams.length };
        }),
      );
    })
    .get("/:streamId", async (c) => {
      const { streamId } = parseParams("path", streamPath, c.req.param());
      const q = parseQuery(c, streamGetQuery);
      const key = `stream\u0000${streamId}\u0000${q.includeArchived === true}`;
      return jsonBody(
        c,
        await cache.json(key, async () => (await withUsage(store, [apiStream(await orNotFound(streamId, () => getStream(store, streamId, q)), deps.mainBranch)]))[0]),
      );
    })
    .get("/:streamId/health", async (c) => {
      const { streamId } = parseParams("path", streamPath, c.req.param());
      const q = parseQuery(c, streamGetQuery);
      // Not cached: "stalled" depends on the clock, not only on the data.
      return c.json(await orNotFound(streamId, () => streamHealth(store, streamId, { ...q, nowMs: deps.now() })));
    })
    .get("/:streamId/worktree", async (c) => {
      const { streamId } = parseParams("path", streamPath, c.req.param());
      return c.json(await orNotFound(streamId, () => streamWorktreeFacts(store, streamId, { cwd: deps.cwd })));
    })
    .get("/:streamId/conflicts", async (c) => {
      const { streamId } = parseParams("path", streamPath, c.req.param());
      return c.json(await orNotFound(streamId, () => streamConflictFacts(store, streamId, { cwd: deps.cwd })));
    })
    .get("/:streamId/log", async (c) => {
      const { streamId } = parseParams("path", streamPath, c.req.param());
      const q = parseQuery(c, streamLogQuery);
      // Not cached: the files grow without the database changing.
      return safeJson(c, await orNotFound(streamId, () => streamLogTail(store, streamId, { cwd: deps.cwd, lines: q.lines })));
    })
    .get("/:streamId/work-products", async (c) => {
      const { streamId } = parseParams("path", streamPath, c.req.param());
      const q = parseQuery(c, streamWorkProductsQuery);
      return safeJson(c, await orNotFound(streamId, () => listStreamWorkProducts(store, streamId, { limit: q.limit })));
    });
}
