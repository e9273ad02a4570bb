import { z } from "zod";
import { getTask, getWorkProduct, idSchema, listWorkProducts, storeWorkProduct, workProductStoreSchema } from "../../core/index.ts";
import { defineTool } from "../tool.ts";

export const tools = [
  defineTool({
    name: "work_product_store",
    description: "Attach a work product (design, implementation notes, test results…) to a task.",
    input: z.strictObject(workProductStoreSchema.shape),
    run: ({ store }, a) => storeWorkProduct(store, a),
  }),
  defineTool({
    name: "work_product_get",
    readOnly: true,
    description: "A work product with its content.",
    input: z.strictObject({ id: idSchema }),
    run: ({ store }, a) => getWorkProduct(store, a.id),
  }),
  defineTool({
    name: "work_product_list",
    readOnly: true,
    description: "A task's work products, without content.",
    input: z.strictObject({ taskId: idSchema }),
    run: async ({ store }, a) => {
      await getTask(store, a.taskId); // an unknown task is an error, not an empty list
      const workProducts = await listWorkProducts(store, a.taskId);
      return { workProducts, totalWorkProducts: workProducts.length };
    },
  }),
];
