/**
 * /api/inbox: the questions agents wait on, and POST /api/inbox/:id to answer one, the API's
 * first write. The app's writeGuard (security.ts) has already refused cross-site requests and,
 * off loopback, requests without the token; this file only reads and answers.
 */
import { Hono } from "hono";
import { z } from "zod";
import { answerQuestion, countPending, listInbox } from "../../core/inbox.ts";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { parseJsonBody, parseParams, parseQuery, safeJson } from "../http.ts";
import { boolParam, capParam, idParam } from "../params.ts";
import { errorShape, inboxEntryShape, inboxListShape } from "../shapes.ts";

export const MAX_ENTRIES = 1000;

export const inboxQuery = z.object({
  all: boolParam("every entry, newest first, answered and expired ones too (default false: pending ones, oldest first)").optional(),
  streamId: idParam("only this stream's entries").optional(),
  limit: capParam(MAX_ENTRIES, "entries", 200).optional(),
});

export const inboxIdParams = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, { error: "must be an inbox entry id (a positive integer)" })
    .transform(Number)
    .meta({ description: "the entry's id" }),
});

/** One line of text: no line breaks or other control characters (it is shown in tables and told to agents). */
const oneLine = (max: number) =>
  z
    .string({ error: "must be a string" })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(/^[^\p{Cc}]*$/u, { error: "must be one line of text (no line breaks or control characters)" });

export const answerBody = z
  .strictObject(
    {
      decision: z.enum(["allow", "deny"], { error: "must be \"allow\" or \"deny\"" }).meta({ description: "let the tool call run, or refuse it" }),
      reason: oneLine(2000).optional().meta({ description: "told to the agent with a deny; kept with the entry" }),
      always: z.boolean({ error: "must be true or false" }).optional().meta({ description: "also answer every later call like this one the same way (a policy rule)" }),
      by: oneLine(100).min(1, { error: "must not be empty" }).optional().meta({ description: "who answered (default \"api\")" }),
    },
    { error: (i) => (i.code === "unrecognized_keys" ? "is not a field of an answer (decision, reason, always, by)" : "must be a JSON object") },
  )
  .meta({ description: "An answer to an inbox entry" });

export const inboxDocs: RouteDoc[] = [
  {
    path: "/api/inbox",
    summary: "Questions agents wait on (permission requests, budget raises)",
    description: "Pending entries oldest first; with `all`, every entry newest first, with who answered, how and when. New and answered entries arrive on /api/events as `inbox` events.",
    query: inboxQuery,
    responses: {
      200: { description: "entries and the number pending", schema: inboxListShape },
      400: { description: "invalid parameter", schema: errorShape },
    },
  },
  {
    path: "/api/inbox/{id}",
    method: "post",
    summary: "Answer a pending entry: allow or deny",
    description:
      "The agent that asked continues within 100 ms. Needs the bearer token when the server has one (always off loopback). Refused (403) to browsers on other sites: a `Sec-Fetch-Site` other than `same-origin`/`none`, or an `Origin` other than the server's own. The body must be `application/json`.",
    pathParams: inboxIdParams,
    body: answerBody,
    responses: {
      200: { description: "the entry as answered", schema: inboxEntryShape },
      400: { description: "invalid id or body", schema: errorShape },
      401: { description: "missing or wrong bearer token", schema: errorShape },
      403: { description: "a cross-site request, or a write without a token off loopback", schema: errorShape },
      404: { description: "no such entry", schema: errorShape },
      409: { description: "the entry was already answered or has expired", schema: errorShape },
      415: { description: "the body is not application/json", schema: errorShape },
    },
  },
];

export function inboxRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  // Not cached: listing expires orphaned entries, and expiry depends on the clock.
  return new Hono()
    .get("/", async (c) => {
      const q = parseQuery(c, inboxQuery);
      const entries = await listInbox(store, q);
      return safeJson(c, { entries, pending: await countPending(store, { streamId: q.streamId }) });
    })
    .post("/:id", async (c) => {
      const { id } = parseParams("path", inboxIdParams, { id: c.req.param("id") });
      const body = await parseJsonBody(c, answerBody);
      const entry = await answerQuestion(store, id, { decision: body.decision, by: body.by ?? "api", how: "person", reason: body.reason ?? null, always: body.always ?? false });
      return safeJson(c, entry);
    });
}
