import { z } from "zod";
import { createPrd, getPrd, idSchema, listPrds, prdCreateSchema } from "../../core/index.ts";
import { defineTool } from "../tool.ts";

export const tools = [
  defineTool({
    name: "prd_create",
    description: "Store a PRD (markdown content) under the current initiative.",
    input: z.strictObject(prdCreateSchema.shape),
    run: ({ store }, a) => createPrd(store, a),
  }),
  defineTool({
    name: "prd_get",
    readOnly: true,
    description: "A PRD with its content.",
    input: z.strictObject({ id: idSchema, includeContent: z.boolean().optional() }),
    run: ({ store }, a) => getPrd(store, a.id, { includeContent: a.includeContent ?? true }),
  }),
  defineTool({
    name: "prd_list",
    readOnly: true,
    description: "PRDs without content, newest first.",
    input: z.strictObject({ initiativeId: idSchema.optional(), status: z.string().min(1).max(100).optional() }),
    run: async ({ store }, a) => {
      const prds = await listPrds(store, a);
      return { prds, totalPrds: prds.length };
    },
  }),
];
