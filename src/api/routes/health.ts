/** GET /health: the guide's `{status, timestamp}` plus what another orch needs to recognise this one. */
import { Hono } from "hono";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { healthProof } from "../../net/peer.ts";
import { errorShape, healthShape } from "../shapes.ts";

export const healthDocs: RouteDoc[] = [
  {
    path: "/health",
    summary: "Health check",
    description:
      "Answers without a token. `service` and `dbId` let another orch tell whether this server serves its database (shared API port); with `?challenge=<hex nonce>` and a token configured, `proof` (HMAC-SHA256 of the nonce under the token) lets a client check the server holds its token before sending it.",
    responses: { 200: { description: "the server is up", schema: healthShape }, 401: { description: "token required", schema: errorShape } },
  },
];

export function healthRoutes(deps: ApiDeps, token?: string): Hono {
  return new Hono().get("/", (c) => {
    const body = { status: "ok" as const, timestamp: new Date(deps.now()).toISOString(), service: "orch" as const, version: deps.version, dbId: deps.dbId };
    // A client with a token asks us to prove we hold it before it sends it (see peer.ts).
    const challenge = c.req.query("challenge");
    if (token && challenge && /^[0-9a-f]{16,128}$/.test(challenge)) return c.json({ ...body, proof: healthProof(token, challenge) });
    return c.json(body);
  });
}
