/**
 * GET /api/run: the state of the project's `orch start` run (which streams run, failed, are
 * paused for their budget or merged), from orchestration-state.json through orchestrate/run-view.ts,
 * which reads the file again only when it changed. Not the database's: not in the response cache.
 */
import { Hono } from "hono";
import { readRunView } from "../../orchestrate/run-view.ts";
import { projectRootOf } from "../../orchestrate/file-tail.ts";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { runShape } from "../shapes.ts";

export const runDocs: RouteDoc[] = [
  {
    path: "/api/run",
    summary: "The orch start run: its outcome and times, and per stream its status (running, failed, merged…), whether it is paused for its budget, restarts and last exit code",
    description: "From .claude/orchestration/orchestration-state.json (machine-local; no pids, commands or paths). `{\"run\": null}` before orch start ever ran in the project.",
    responses: { 200: { description: "the run, or null", schema: runShape } },
  },
];

export function runRoutes(deps: ApiDeps): Hono {
  return new Hono().get("/", (c) => c.json(readRunView(projectRootOf(deps.cwd))));
}
