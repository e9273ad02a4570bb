/**
 * POST /api/budget/:streamId/raise: `orch budget raise STREAM USD [--tokens N] [--by NAME]` as a
 * write. Adds to the stream's budget and resumes it if it was paused; a running `orch start`
 * launches it again within seconds. Same function as the CLI (orchestrate/budget-raise.ts).
 */
import { Hono } from "hono";
import { z } from "zod";
import { findProjectRoot } from "../../config.ts";
import { raiseStreamBudget } from "../../orchestrate/budget-raise.ts";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { parseJsonBody, parseParams, safeJson } from "../http.ts";
import { idParam } from "../params.ts";
import { budgetRaiseShape, errorShape } from "../shapes.ts";

export const budgetPath = z.object({ streamId: idParam("stream id, e.g. Stream-A") });

export const raiseBody = z
  .strictObject(
    {
      usd: z
        .number({ error: "must be a number of US dollars" })
        .min(0, { error: "must be 0 or more" })
        .max(1_000_000, { error: "must be at most 1000000" })
        .refine((n) => Math.round(n * 100) === Math.round(n * 100 * 1e6) / 1e6, { error: "must have at most two decimals (cents)" })
        .meta({ description: "US dollars to add (0 to add only tokens)" }),
      tokens: z
        .number({ error: "must be a whole number of tokens" })
        .int({ error: "must be a whole number of tokens" })
        .min(0, { error: "must be 0 or more" })
        .max(1_000_000_000, { error: "must be at most 1000000000" })
        .optional()
        .meta({ description: "tokens to add to the stream's token budget" }),
      by: z
        .string({ error: "must be a string" })
        .min(1, { error: "must not be empty" })
        .max(100, { error: "must be at most 100 characters" })
        .regex(/^[^\p{Cc}]*$/u, { error: "must be one line of text (no line breaks or control characters)" })
        .optional()
        .meta({ description: "who raises it (default \"api\"; recorded on the inbox entries it answers)" }),
    },
    { error: (i) => (i.code === "unrecognized_keys" ? "is not a field of a raise (usd, tokens, by)" : "must be a JSON object") },
  )
  .refine((b) => b.usd + (b.tokens ?? 0) > 0, { error: "add some dollars (usd > 0) or tokens (tokens > 0)" })
  .meta({ description: "How much to add" });

export const budgetDocs: RouteDoc[] = [
  {
    path: "/api/budget/{streamId}/raise",
    method: "post",
    summary: "Add dollars (and tokens) to a stream's budget; resumes it if it was paused (orch budget raise)",
    description:
      "Answers the stream's pending \"raise the budget?\" inbox entry. The limits are those of the running `orch start`, else orchestration-config.json's. Same rules as every write: the bearer token when the server has one; from a browser, this server's own Origin and its session cookie. The body must be `application/json`.",
    pathParams: budgetPath,
    body: raiseBody,
    responses: {
      200: { description: "the stream's budget as it now stands, and the initiative's", schema: budgetRaiseShape },
      400: { description: "invalid stream id or body", schema: errorShape },
      401: { description: "missing or wrong bearer token", schema: errorShape },
      403: { description: "a cross-site request, a browser without a session, or a write without a token off loopback", schema: errorShape },
      404: { description: "no such stream", schema: errorShape },
      415: { description: "the body is not application/json", schema: errorShape },
    },
  },
];

export function budgetRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  return new Hono().post("/:streamId/raise", async (c) => {
    const { streamId } = parseParams("path", budgetPath, { streamId: c.req.param("streamId") });
    const body = await parseJsonBody(c, raiseBody);
    const r = await raiseStreamBudget(store, findProjectRoot(deps.cwd), { streamId, usd: body.usd, tokens: body.tokens ?? 0, by: body.by ?? "api" });
    return safeJson(c, r);
  });
}
