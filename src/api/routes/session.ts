/**
 * POST /api/session: a browser on a server with an API token trades the token, sent once as
 * `Authorization: Bearer`, for the session cookie (browser-auth.ts) — a page cannot attach the
 * header to an EventSource or a navigation. The bearer check before this route has verified the
 * token; the write guard has verified the request came from this server's own page.
 */
import { Hono } from "hono";
import { sessionBearerOf, sessionCookie } from "../browser-auth.ts";
import { bearerOf } from "../credentials.ts";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { errorShape, sessionShape } from "../shapes.ts";

export const sessionDocs: RouteDoc[] = [
  {
    path: "/api/session",
    method: "post",
    summary: "Sign a browser in with the API token (servers with ORCH_API_TOKEN)",
    description:
      "Send `Authorization: Bearer <ORCH_API_TOKEN>` from the dashboard's own page; the answer sets an HttpOnly, SameSite=Strict session cookie that stands for the token on this browser's same-origin requests until the server stops. A server without a token signs browsers in through the one-time link `orch serve` prints instead (400).",
    responses: {
      200: { description: "signed in", schema: sessionShape },
      400: { description: "this server has no token: use the one-time link", schema: errorShape },
      401: { description: "no token, or the wrong one", schema: errorShape },
      403: { description: "not from this server's own page", schema: errorShape },
    },
  },
];

export function sessionRoutes(deps: ApiDeps, tokenServer: boolean): Hono {
  return new Hono().post("/", (c) => {
    if (!tokenServer)
      return c.json({ error: "this server has no API token: open the dashboard through the one-time login link orch serve printed" }, 400);
    // Tied to the token that signed it in (from the header, or the session it already has).
    const bearer = bearerOf(c.req.header("authorization")) ?? sessionBearerOf(c, deps.auth) ?? undefined;
    c.header("Set-Cookie", sessionCookie(c, deps.auth.issueSession(bearer)));
    c.header("Cache-Control", "no-store");
    return c.json({ signedIn: true as const });
  });
}
