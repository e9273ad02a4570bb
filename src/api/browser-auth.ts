/**
 * The per-server secret a browser proves it holds, as notebook servers do: `orch serve` prints a
 * one-time login link (`/?login=<code>`); opening it sets an HttpOnly, SameSite=Strict cookie
 * carrying a session value and redirects to `/`. The code works once; everything lives in this
 * process's memory, so a restart ends every session.
 *
 * The cookie is never enough on its own: cookies do not tell ports apart (a page on another port
 * of this host is another origin but the same site, and gets the cookie sent), so a browser's
 * write also needs its Origin to be this server's (security.ts writeGuard). The cookie's name
 * carries the port, so two servers on one host do not overwrite each other's sessions.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { ApiDeps } from "./context.ts";

/** At most this many sessions are remembered; the oldest is forgotten first. */
const MAX_SESSIONS = 256;
/** At most this many unused login codes wait; the oldest is forgotten first. */
const MAX_CODES = 64;

const digest = (s: string) => createHash("sha256").update(s).digest("hex");
const randomToken = () => randomBytes(32).toString("base64url");

export interface BrowserAuth {
  /** A fresh single-use login code (each call mints another; each works once). */
  newLoginCode(): string;
  /** Trade a login code for a new session value; null when the code is unknown or already used. */
  redeem(code: string): string | null;
  /**
   * A new session value for a browser that proved it holds an API token (POST /api/session): the
   * session lasts as long as that token does (a revoked named token ends it).
   */
  issueSession(bearer?: string): string;
  /** True for a session value this server handed out. */
  isSession(value: string | undefined): boolean;
  /** The token a session was signed in with; null for a login-link session; undefined: no session. */
  sessionBearer(value: string | undefined): string | null | undefined;
}

export function createBrowserAuth(): BrowserAuth {
  // Digests only: a heap dump or a timing probe of the Set shows nothing usable.
  const codes = new Set<string>();
  // Session digest → the token it was signed in with (kept in this process's memory only), or null.
  const sessions = new Map<string, string | null>();
  const remember = (set: Set<string>, value: string, max: number) => {
    set.add(value);
    if (set.size > max) set.delete(set.values().next().value!);
  };
  const issueSession = (bearer?: string) => {
    const session = randomToken();
    sessions.set(digest(session), bearer ?? null);
    if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
    return session;
  };
  const known = (value: string | undefined): value is string => value !== undefined && value.length > 0 && value.length <= 200;
  return {
    newLoginCode() {
      const code = randomToken();
      remember(codes, digest(code), MAX_CODES);
      return code;
    },
    redeem(code) {
      if (!codes.delete(digest(code))) return null;
      return issueSession();
    },
    issueSession,
    isSession(value) {
      return known(value) && sessions.has(digest(value));
    },
    sessionBearer(value) {
      return known(value) ? sessions.get(digest(value)) : undefined;
    },
  };
}

/** The cookie's name on this port: `orch_session_9090`. */
export function sessionCookieName(c: Context): string {
  let port = "";
  try {
    const u = new URL(c.req.url);
    port = u.port || (u.protocol === "https:" ? "443" : "80");
  } catch {
    port = "0";
  }
  return `orch_session_${port}`;
}

/** True when the request carries this server's session cookie. */
export function hasSession(c: Context, auth: BrowserAuth): boolean {
  return auth.isSession(getCookie(c, sessionCookieName(c)));
}

/** The request's session: the token it was signed in with, null for a login-link session, undefined for none. */
export function sessionBearerOf(c: Context, auth: BrowserAuth): string | null | undefined {
  return auth.sessionBearer(getCookie(c, sessionCookieName(c)));
}

/** The Set-Cookie value carrying a session: HttpOnly (no script reads it), SameSite=Strict, this port's name. */
export function sessionCookie(c: Context, session: string): string {
  return `${sessionCookieName(c)}=${session}; Path=/; HttpOnly; SameSite=Strict`;
}

/**
 * THE export for `orch serve` (and anything else that shows people the dashboard): a fresh
 * one-time link that logs a browser in and lands on `/`. Each call mints a new code.
 */
export function dashboardLoginUrl(api: { url: string; deps: Pick<ApiDeps, "auth"> }): string {
  return `${api.url}/?login=${api.deps.auth.newLoginCode()}`;
}

/**
 * `GET /?login=<code>`: a valid code sets the session cookie and redirects to `/` (303, so the
 * code leaves the address bar and the history); a used or unknown one is refused (403), unless
 * the browser already holds a session (a second click on the link just opens the dashboard).
 */
export function loginHandler(auth: BrowserAuth): MiddlewareHandler {
  return async (c, next) => {
    if ((c.req.method !== "GET" && c.req.method !== "HEAD") || c.req.path !== "/") return next();
    const code = c.req.query("login");
    if (code === undefined) return next();
    const headers: Record<string, string> = { "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" };
    const session = code.length <= 200 ? auth.redeem(code) : null;
    if (session) {
      headers["Set-Cookie"] = sessionCookie(c, session);
      return c.body(null, 303, { ...headers, Location: "/" });
    }
    if (hasSession(c, auth)) return c.body(null, 303, { ...headers, Location: "/" });
    return c.body(
      "orch: this login link was already used, or is not from this orch serve (a restart makes new ones). Open the link orch serve printed last, in the browser that has not used it.\n",
      403,
      { ...headers, "Content-Type": "text/plain; charset=UTF-8" },
    );
  };
}
