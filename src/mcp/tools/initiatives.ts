import { z } from "zod";
import { getInitiative, idSchema, initiativeLinkSchema, linkInitiative, progressSummary } from "../../core/index.ts";
import { defineTool } from "../tool.ts";

export const tools = [
  defineTool({
    name: "initiative_link",
    description: "Link the workspace to an initiative (created or renamed); it becomes the current one.",
    input: z.strictObject(initiativeLinkSchema.shape),
    run: ({ store }, a) => linkInitiative(store, a),
  }),
  defineTool({
    name: "initiative_get",
    readOnly: true,
    description: "An initiative; the current one by default.",
    input: z.strictObject({ initiativeId: idSchema.optional() }),
    run: ({ store }, a) => getInitiative(store, a.initiativeId),
  }),
  defineTool({
    name: "progress_summary",
    readOnly: true,
    description: "Task counts by status, overall progress, and every stream's figures.",
    input: z.strictObject({ initiativeId: idSchema.optional() }),
    run: ({ store }, a) => progressSummary(store, a),
  }),
];
