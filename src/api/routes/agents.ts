/** GET /api/agents: Claude Code sessions as their hooks report them (beside the guide's /api/activity). */
import { Hono } from "hono";
import { z } from "zod";
import { listAgents, type AgentView } from "../../core/agents.ts";
import { expireOrphans } from "../../core/inbox.ts";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { parseQuery, safeJson } from "../http.ts";
import { boolParam, capParam, idParam } from "../params.ts";
import { agentListShape, errorShape } from "../shapes.ts";

export const MAX_AGENTS = 1000;

export const agentsQuery = z.object({
  all: boolParam("also sessions that ended (default false: live ones only)").optional(),
  streamId: idParam("only this stream's sessions").optional(),
  limit: capParam(MAX_AGENTS, "sessions, newest first", 200).optional(),
});

export const agentDocs: RouteDoc[] = [
  {
    path: "/api/agents",
    summary: "Agent sessions: status, tool in use, pending question, tokens and cost",
    description:
      "Newest first. A session whose pid is gone is reported `exited`; one working but silent past the stale time has `stale: true`. Changes arrive on /api/events as `agent` events.",
    query: agentsQuery,
    responses: {
      200: { description: "the sessions", schema: agentListShape },
      400: { description: "invalid parameter", schema: errorShape },
    },
  },
];

/** A session as the API shows it: the transcript's path is the agent's business, not the API's. */
export function apiAgent(a: AgentView) {
  const { transcriptPath: _t, ...rest } = a;
  return rest;
}

export function agentRoutes(deps: ApiDeps): Hono {
  // Not cached: `stale` and `exited` depend on the clock and on pids, not only on the data.
  return new Hono().get("/", async (c) => {
    const q = parseQuery(c, agentsQuery);
    // Questions whose asker is gone are closed first: their sessions wait no more.
    await expireOrphans(deps.store);
    return safeJson(c, { agents: (await listAgents(deps.store, q)).map(apiAgent) });
  });
}
