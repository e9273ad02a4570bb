/** /api/activity: who is working on what (active = a heartbeat in the last 5 minutes). */
import { Hono } from "hono";
import { z } from "zod";
import { listActivity } from "../../core/activity.ts";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { parseQuery } from "../http.ts";
import { boolParam, idParam } from "../params.ts";
import { activityListShape, errorShape } from "../shapes.ts";

export const activityQuery = z.object({
  streamId: idParam("only this stream's activity").optional(),
  active: boolParam("only agents with a heartbeat in the last 5 minutes (default true); false lists idle ones too").optional(),
});

export const activityDocs: RouteDoc[] = [
  {
    path: "/api/activity",
    summary: "Current agent activity",
    query: activityQuery,
    responses: {
      200: { description: "open activities; totals count active and idle ones", schema: activityListShape },
      400: { description: "invalid parameter", schema: errorShape },
    },
  },
];

export function activityRoutes(deps: ApiDeps): Hono {
  // Not cached: "active" depends on the clock, not only on the data.
  return new Hono().get("/", async (c) => c.json(await listActivity(deps.store, parseQuery(c, activityQuery))));
}
