/** /api/tasks with the guide's filters (status, streamId, assignedAgent, prdId, limit). */
import { Hono } from "hono";
import { z } from "zod";
import { listTasks } from "../../core/tasks.ts";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { jsonBody, parseQuery } from "../http.ts";
import { boolParam, cursorParam, idParam, limitParam, taskStatusParam, textParam } from "../params.ts";
import { errorShape, taskListShape } from "../shapes.ts";

export const taskListQuery = z.object({
  status: taskStatusParam.optional(),
  streamId: idParam("only this stream's tasks").optional(),
  assignedAgent: textParam("only tasks assigned to this agent").optional(),
  prdId: idParam("only this PRD's tasks").optional(),
  parentId: idParam("only subtasks of this task").optional(),
  includeArchived: boolParam("include archived tasks (default false)").optional(),
  limit: limitParam.optional(),
  cursor: cursorParam.optional(),
});

export const taskDocs: RouteDoc[] = [
  {
    path: "/api/tasks",
    summary: "Query tasks with filters",
    query: taskListQuery,
    responses: {
      200: {
        description:
          "matching tasks, oldest first, a page at a time (1,000 unless limit says otherwise; at most 5,000); totalTasks counts those returned. When more match, nextCursor (pass it as cursor) and matchingTasks (how many match in all) are added.",
        schema: taskListShape,
      },
      400: { description: "invalid parameter", schema: errorShape },
    },
  },
];

export function taskRoutes(deps: ApiDeps): Hono {
  return new Hono().get("/", async (c) => {
    const q = parseQuery(c, taskListQuery);
    const key = `tasks\u0000${JSON.stringify([q.status, q.streamId, q.assignedAgent, q.prdId, q.parentId, q.includeArchived, q.limit, q.cursor])}`;
    return jsonBody(c, await deps.cache.json(key, () => listTasks(deps.store, q)));
  });
}
