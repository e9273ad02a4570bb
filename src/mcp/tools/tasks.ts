import { z } from "zod";
import { createTask, getTask, idSchema, listTasks, taskCreateSchema, taskFilterSchema, taskMetadataSchema, taskUpdateSchema, updateTask } from "../../core/index.ts";
import { defineTool } from "../tool.ts";

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
      "Update a task; metadata is merged key by key. in_progress opens your agent activity, completed/blocked/cancelled closes it.",
    input: z.strictObject({ ...taskUpdateSchema.shape, metadata: taskMetadataSchema.optional() }),
    run: ({ store }, a) => updateTask(store, a),
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
    description: "Tasks in creation order; archived ones only with includeArchived.",
    input: z.strictObject(taskFilterSchema.shape),
    run: ({ store }, a) => listTasks(store, a),
  }),
];
