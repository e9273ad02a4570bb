/**
 * GET /api/work-products/:id: one work product with its content, as `work_product_get` answers
 * (a stream's list is GET /api/streams/:streamId/work-products). Agents' words: sent with the
 * inert escapes of safeJson.
 */
import { Hono } from "hono";
import { z } from "zod";
import { getWorkProduct } from "../../core/work-products.ts";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { parseParams, safeJson } from "../http.ts";
import { idParam } from "../params.ts";
import { errorShape, workProductShape } from "../shapes.ts";

export const workProductPath = z.object({ id: idParam("work product id, e.g. WP-3f2a9c01b7e4") });

export const workProductDocs: RouteDoc[] = [
  {
    path: "/api/work-products/{id}",
    summary: "One work product, its content included (work_product_get)",
    pathParams: workProductPath,
    responses: {
      200: { description: "the work product", schema: workProductShape },
      400: { description: "invalid id", schema: errorShape },
      404: { description: "no such work product", schema: errorShape },
    },
  },
];

export function workProductRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  return new Hono().get("/:id", async (c) => {
    const { id } = parseParams("path", workProductPath, c.req.param());
    return safeJson(c, await getWorkProduct(store, id));
  });
}
