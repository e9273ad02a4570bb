import { z } from "zod";
import { createTask, getTask, idSchema, listTasks, taskCreateSchema, taskFilterSchema, taskMetadataSchema, taskUpdateSchema, updateTask } from "../../core/index.ts";
import { taskSummary } from "../../core/task-view.ts";
import { defineTool } from "../tool.ts";

/** Every byte an agent reads is paid in every session: small pages by default. */
const AGENT_PAGE = 50;
/** …and a page of whole tasks (full: true) ends at this many bytes. */
const AGENT_PAGE_BYTES = 64 * 1024;

const metadata = taskMetadataSchema
  .optional()
  .describe("streamId, streamName, streamPhase (foundation|parallel|integration), dependencies (stream ids), files (paths; dir/ = all below), complexity, …");

export const tools = [
  defineTool({
    name: "task_create",
    description: "Create a task; metadata.streamId puts it in a stream.",
    input: z.strictObject({ ...taskCreateSchema.shape, metadata }),
    run: ({ store }, a) => createTask(store, a),
  }),
  defineTool({
    name: "task_update",
    description:
      "Update a task; metadata merged by key. in_progress opens your activity, completed/blocked/cancelled close it. Returns a summary.",
    input: z.strictObject({ ...taskUpdateSchema.shape, metadata: taskMetadataSchema.optional() }),
    run: async ({ store }, a) => taskSummary(await updateTask(store, a)),
  }),
  defineTool({
    name: "task_get",
    readOnly: true,
    description: "One task.",
    input: z.strictObject({ id: idSchema }),
    run: ({ store }, a) => getTask(store, a.id),
  }),
  defineTool({
    name: "task_list",
    readOnly: true,
    description: `Tasks in creation order as summaries (full: true for all fields), ${AGENT_PAGE} a page: pass nextCursor as cursor for more.`,
    input: z.strictObject({ ...taskFilterSchema.shape, full: z.boolean().optional() }),
    run: async ({ store }, { full, ...filter }) => {
      const page = await listTasks(store, filter, AGENT_PAGE, AGENT_PAGE_BYTES);
      return full ? page : { ...page, tasks: page.tasks.map(taskSummary) };
    },
  }),
];
