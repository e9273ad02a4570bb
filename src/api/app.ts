/**
 * The REST API as a Hono app over the core: Host check (DNS rebinding), same-origin check on
 * writes (CSRF), bearer token, one sub-app per resource, JSON for every error and unknown route.
 * No CORS headers: browsers on other origins get nothing. `createApp` does no I/O beyond what routes do, so tests use `app.request`.
 */
import { Hono } from "hono";
import { sharedChangeFeed, type ChangeFeed } from "../core/change-feed.ts";
import type { Store } from "../db/client.ts";
import { errOut } from "../sys/io.ts";
import { VERSION } from "../version.ts";
import { ResponseCache } from "./cache.ts";
import type { ApiDeps } from "./context.ts";
import { errorAnswer } from "./http.ts";
import { createBrowserAuth, loginHandler, type BrowserAuth } from "./browser-auth.ts";
import { bearerAuth, browserReadGuard, hostCheck, writeGuard } from "./security.ts";
import { activityRoutes } from "./routes/activity.ts";
import { agentRoutes } from "./routes/agents.ts";
import { eventRoutes } from "./routes/events.ts";
import { healthRoutes } from "./routes/health.ts";
import { inboxRoutes } from "./routes/inbox.ts";
import { openApiRoutes } from "./routes/openapi.ts";
import { streamRoutes } from "./routes/streams.ts";
import { streamActionRoutes } from "./routes/stream-actions.ts";
import { budgetRoutes } from "./routes/budget.ts";
import { taskRoutes } from "./routes/tasks.ts";
import { workProductRoutes } from "./routes/work-products.ts";
import { runRoutes } from "./routes/run.ts";
import { sessionRoutes } from "./routes/session.ts";
import { createCredentials } from "./credentials.ts";

export interface AppOptions {
  /** The address the server binds: requests must name it (or localhost) in their Host header. */
  host?: string;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Named tokens (orch token create) existed at start: every request needs one of them (or `token`). */
  namedTokens?: boolean;
  /** The URL a reverse proxy serves this server at (it keeps the Host header): its name and origin are this server's too. */
  publicUrl?: string;
  /** `branchName` shown for streams working in the main checkout (see context.ts apiStream). */
  mainBranch?: string | null | (() => string | null);
  /** The change feed SSE listens to (default: the process-wide one of this store, started on the first client). */
  feed?: ChangeFeed;
  heartbeatMs?: number;
  now?: () => number;
  /** Where an unexpected error's one line goes (never to the client). */
  log?: (line: string) => void;
  /** Browser sessions (default: a fresh per-server secret; see browser-auth.ts). */
  auth?: BrowserAuth;
  /** Where actions (merge, budget raise) find the repository and project (default process.cwd()). */
  cwd?: string;
}

export interface ApiApp {
  app: Hono;
  deps: ApiDeps;
}

export async function createApi(store: Store, opts: AppOptions = {}): Promise<ApiApp> {
  const branch = opts.mainBranch;
  let mainBranch: string | null | undefined = typeof branch === "function" ? undefined : (branch ?? null);
  const deps: ApiDeps = {
    store,
    feed: opts.feed ?? (await sharedChangeFeed(store)),
    cache: new ResponseCache(() => store.changeToken()),
    // A function is called once, on first use: a `git` spawn stays off start-up (orch mcp's handshake).
    get mainBranch() {
      if (mainBranch === undefined) mainBranch = (branch as () => string | null)();
      return mainBranch;
    },
    version: VERSION,
    dbId: await store.identity(),
    heartbeatMs: opts.heartbeatMs ?? 15_000,
    now: opts.now ?? Date.now,
    auth: opts.auth ?? createBrowserAuth(),
    cwd: opts.cwd,
  };
  const log = opts.log ?? ((line: string) => errOut(`${line}\n`));

  const creds = createCredentials(store, opts.token, opts.namedTokens === true);

  const app = new Hono({ strict: false });
  app.use(hostCheck(opts.host ?? "127.0.0.1", opts.publicUrl));
  // The one-time login link (GET /?login=CODE): a browser cannot send the bearer token on a navigation.
  app.use(loginHandler(deps.auth));
  // Before the token: a cross-site write is refused whoever's credentials it carries; a browser's needs its session too.
  app.use(writeGuard(opts.host ?? "127.0.0.1", creds, deps.auth, opts.publicUrl));
  app.use("/api/*", browserReadGuard(deps.auth, creds, opts.publicUrl));
  app.use("/openapi.json", browserReadGuard(deps.auth, creds, opts.publicUrl));
  // /health answers without a token: clients identify the server before trusting it (peer.ts).
  app.route("/health", healthRoutes(deps, opts.token));
  if (creds.required) {
    app.use(bearerAuth(creds, deps.auth));
    // Each change is said with whose token made it.
    app.use(async (c, next) => {
      await next();
      if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.method !== "OPTIONS")
        log(`orch: ${c.req.method} ${rawPath(c.req.url)} → ${c.res.status} by ${String(c.get("principal" as never) ?? "?")}`);
    });
  }
  app.route("/api/session", sessionRoutes(deps, creds.required));
  app.route("/openapi.json", openApiRoutes(deps));
  app.route("/api/streams", streamRoutes(deps));
  app.route("/api/streams", streamActionRoutes(deps));
  app.route("/api/budget", budgetRoutes(deps));
  app.route("/api/tasks", taskRoutes(deps));
  app.route("/api/work-products", workProductRoutes(deps));
  app.route("/api/run", runRoutes(deps));
  app.route("/api/activity", activityRoutes(deps));
  app.route("/api/agents", agentRoutes(deps));
  app.route("/api/inbox", inboxRoutes(deps));
  app.route("/api/events", eventRoutes(deps));
  app.notFound((c) => c.json({ error: "Not found", path: c.req.path }, 404));
  app.onError((err, c) => {
    const a = errorAnswer(err);
    if (a.unexpected) log(`orch: ${c.req.method} ${rawPath(c.req.url)} failed: ${(err as Error)?.message ?? String(err)}`);
    return c.json(a.body, a.status as 400);
  });
  return { app, deps };
}

/**
 * A request's path for a log line as the client sent it, still %-encoded: decoded, a path could
 * carry line breaks and escape sequences into the operator's terminal (forged log lines).
 */
function rawPath(url: string): string {
  const path = url.replace(/^[a-z]+:\/\/[^/]*/i, "").replace(/[?#].*$/s, "");
  return path.length > 300 ? `${path.slice(0, 300)}…` : path;
}

export const createApp = async (store: Store, opts: AppOptions = {}): Promise<Hono> => (await createApi(store, opts)).app;
