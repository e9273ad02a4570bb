/**
 * Serving the dashboard: `GET /` (the page) and `GET /assets/<name>` (its script and style, with
 * content-hashed names). The page holds no data — it reads the API like any client — so it is
 * served before the bearer-token check; the Host check (DNS rebinding) still applies.
 *
 * Only `orch serve` mounts this (src/cli/serve.ts): the API an `orch mcp` session shares on a port
 * stays API only, so agents' processes never carry the page.
 */
import { Hono, type Context } from "hono";
import type { ApiApp } from "../api/app.ts";
import { hostCheck } from "../api/security.ts";
import { ASSETS, INDEX_HTML } from "./assets.ts";

/**
 * No inline script or style, nothing from another origin; the page may only talk to its own
 * server (fetch, EventSource) and may not be framed (clickjacking the Allow button).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const COMMON_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/**
 * Called before the page is answered; may return a Response instead (a redirect, a refusal) or
 * set headers on `c` (a cookie). The per-server secret (security.ts, its own engineer) hooks in
 * here: e.g. `withDashboard(api, { host, onPage: pageSecret })` turning `/?secret=…` into a cookie.
 */
export type PageHook = (c: Context) => Response | void | Promise<Response | void>;

export function dashboardRoutes(opts: { onPage?: PageHook } = {}): Hono {
  const page = async (c: Context) => {
    const early = await opts.onPage?.(c);
    if (early) return early;
    for (const [k, v] of Object.entries(COMMON_HEADERS)) c.header(k, v);
    c.header("Content-Security-Policy", DASHBOARD_CSP);
    c.header("X-Frame-Options", "DENY");
    // The page names the assets of this binary: always ask again, so an upgrade shows at once.
    c.header("Cache-Control", "no-cache");
    return c.html(INDEX_HTML);
  };
  return new Hono({ strict: false })
    .get("/", page)
    .get("/index.html", page)
    .get("/assets/:name", (c) => {
      const asset = ASSETS.get(c.req.param("name"));
      if (!asset) return c.json({ error: "Not found", path: c.req.path }, 404);
      return new Response(c.req.method === "HEAD" ? null : asset.body, {
        headers: {
          ...COMMON_HEADERS,
          "Content-Type": asset.type,
          "Cache-Control": "public, max-age=31536000, immutable",
        },
      });
    });
}

/**
 * The API app with the dashboard in front: `/`, `/index.html` and `/assets/*` answer here, every
 * other request goes to the API exactly as before (its own Host check, write guard, token).
 */
export function withDashboard(api: ApiApp, opts: { host: string; publicUrl?: string; onPage?: PageHook }): ApiApp {
  const outer = new Hono({ strict: false });
  const pages = dashboardRoutes({ onPage: opts.onPage });
  const check = hostCheck(opts.host, opts.publicUrl);
  outer.use("/", check);
  // `/?login=CODE` is the API's (browser-auth.ts: it trades the one-time code for the session cookie).
  outer.use("/", async (c, next) => {
    if (c.req.query("login") !== undefined) return api.app.fetch(c.req.raw, c.env);
    await next();
  });
  outer.use("/index.html", check);
  outer.use("/assets/*", check);
  outer.route("/", pages);
  outer.all("*", (c) => api.app.fetch(c.req.raw, c.env));
  return { app: outer, deps: api.deps };
}
