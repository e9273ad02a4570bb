/** GET /health: the guide's `{status, timestamp}` plus what another orch needs to recognise this one. */
import { Hono } from "hono";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { errorShape, healthShape } from "../shapes.ts";

export const healthDocs: RouteDoc[] = [
  {
    path: "/health",
    summary: "Health check",
    description: "`service` and `dbId` let another orch tell whether this server serves its database (shared API port).",
    responses: { 200: { description: "the server is up", schema: healthShape }, 401: { description: "token required", schema: errorShape } },
  },
];

export function healthRoutes(deps: ApiDeps): Hono {
  return new Hono().get("/", (c) =>
    c.json({ status: "ok", timestamp: new Date(deps.now()).toISOString(), service: "orch", version: deps.version, dbId: deps.dbId }),
  );
}
