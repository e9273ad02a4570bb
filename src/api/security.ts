/**
 * Who may talk to the API: the bind policy (a non-loopback address needs a token), the Host
 * check (DNS rebinding: a web page whose name resolves to 127.0.0.1 must not read local data)
 * and the bearer token (ORCH_API_TOKEN or a named one: credentials.ts).
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import type { Context, MiddlewareHandler } from "hono";
import { createBrowserAuth, sessionBearerOf, type BrowserAuth } from "./browser-auth.ts";
import { bearerOf, type Credentials } from "./credentials.ts";
import { isLoopbackHost, normalizeHost } from "../net/address.ts";

export { isLoopbackHost, normalizeHost };
import { usageError } from "../errors.ts";

/** An "every address" bind (0.0.0.0, ::): not an address a browser can open. */
export const isWildcard = (host: string) => ["0.0.0.0", "::", "0:0:0:0:0:0:0:0"].includes(normalizeHost(host));

/** An IP address written out (v4, v6), as opposed to a name the resolver decides. */
export const isIpLiteral = (host: string) => isIP(normalizeHost(host)) !== 0;

const isLoopbackAddress = (address: string) => {
  const a = normalizeHost(address);
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
};

const refuse = (host: string, why = "") =>
  usageError(
    `refusing to serve on ${host}${why} without ORCH_API_TOKEN: a non-loopback address exposes the API to the network; set ORCH_API_TOKEN or create a named token (orch token create NAME) (clients then send "Authorization: Bearer <token>"), or bind 127.0.0.1`,
  );

/**
 * Refuse (exit 2) to expose the data beyond this machine without a token (`token`: ORCH_API_TOKEN,
 * or true when named tokens exist). Decided by address:
 * a name (even `localhost` or `*.localhost`) is for the resolver to map, so it needs
 * `resolveBindAddress` first; here it passes only with a token.
 */
export function checkBindPolicy(host: string, token: string | boolean | undefined): void {
  if (token || (isIpLiteral(host) && isLoopbackAddress(host))) return;
  throw refuse(host);
}

/**
 * The address to bind for `host`: an IP as it is; a name resolved here, and the address it
 * resolves to is what gets bound, so the address checked is the address served. Without a
 * token every address the name resolves to must be loopback.
 */
export async function resolveBindAddress(
  host: string,
  token: string | boolean | undefined,
  resolve: (name: string) => Promise<{ address: string }[]> = (name) => lookup(name, { all: true }),
): Promise<string> {
  if (isIpLiteral(host)) {
    checkBindPolicy(host, token);
    return normalizeHost(host);
  }
  let addresses: { address: string }[];
  try {
    addresses = await resolve(host);
  } catch {
    throw usageError(`cannot serve on ${host}: the name does not resolve to an address of this machine`);
  }
  if (!addresses.length) throw usageError(`cannot serve on ${host}: the name resolves to no address`);
  const outside = addresses.filter((a) => !isLoopbackAddress(a.address));
  if (!token && outside.length) throw refuse(host, ` (it resolves to ${outside.map((a) => a.address).join(", ")})`);
  return addresses[0]!.address;
}

/**
 * Host names a request may carry: the bound host and the loopback names; for a wildcard bind
 * (0.0.0.0, ::) also this machine's own addresses and name, since any of them reaches it.
 */
export function allowedHostnames(bindHost: string): Set<string> {
  const names = new Set(["localhost", "127.0.0.1", "::1", normalizeHost(bindHost)]);
  if (isWildcard(bindHost)) {
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(normalizeHost(a.address));
  }
  return names;
}

/** `host:port`, `[v6]:port` or a bare name → the name alone. */
export function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return normalizeHost(end === -1 ? h : h.slice(0, end + 1));
  }
  const colon = h.indexOf(":");
  return normalizeHost(colon === -1 ? h : h.slice(0, colon));
}

export function hostCheck(bindHost: string, publicUrl?: string): MiddlewareHandler {
  const allowed = allowedHostnames(bindHost);
  // Behind a reverse proxy that keeps the Host header: the public name reaches this server too.
  if (publicUrl) allowed.add(normalizeHost(new URL(publicUrl).hostname));
  return async (c, next) => {
    // Bun builds the request URL from the Host header; a request built in-process may lack one.
    const header = c.req.header("host") ?? new URL(c.req.url).host;
    const name = hostnameOf(header);
    if (!allowed.has(name) && !isLoopbackHost(name)) {
      return c.json({ error: `Forbidden: Host "${header}" is not this server's address (DNS rebinding protection)` }, 403);
    }
    await next();
  };
}

/**
 * Every request needs `Authorization: Bearer <token>` — or, from a browser, the session cookie
 * it got by proving a token once (POST /api/session): a page cannot put a header on an
 * EventSource. The guards before this one already refused browsers on other origins. Who sent
 * it is kept as the request's `principal` (its token's name), for the log of writes.
 */
export function bearerAuth(creds: Credentials, auth?: BrowserAuth): MiddlewareHandler {
  return async (c, next) => {
    const bearer = bearerOf(c.req.header("authorization"));
    const who = bearer === null ? null : await creds.identify(bearer);
    if (who !== null) {
      c.set("principal" as never, who as never);
      return next();
    }
    const session = auth && fromBrowser(c) ? await sessionPrincipal(c, auth, creds) : null;
    if (session !== null) {
      c.set("principal" as never, session as never);
      return next();
    }
    c.header("WWW-Authenticate", 'Bearer realm="orch"');
    return c.json({ error: bearer !== null ? "Unauthorized: invalid token" : "Unauthorized: send Authorization: Bearer <ORCH_API_TOKEN>" }, 401);
  };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** `Sec-Fetch-Site` values a browser sends for this server's own pages and for typed-in URLs. */
const OWN_SITE = new Set(["same-origin", "none"]);

/**
 * The request's own origin: its scheme and its Host header (what a browser on this server sends as
 * Origin) — or, for a request to the public URL a reverse proxy serves (TLS ends there), that URL's.
 */
function ownOrigin(url: string, hostHeader: string | undefined, publicUrl?: string): string | null {
  try {
    const u = new URL(url);
    if (publicUrl && hostHeader !== undefined && hostHeader.toLowerCase() === new URL(publicUrl).host) return new URL(publicUrl).origin;
    return new URL(`${u.protocol}//${hostHeader ?? u.host}`).origin;
  } catch {
    return null;
  }
}

function sameOrigin(origin: string, own: string | null): boolean {
  try {
    // "null" (a sandboxed frame, a file: page) does not parse: refused like any other site.
    return own !== null && new URL(origin).origin === own;
  } catch {
    return false;
  }
}

/** A request a browser made: browsers send `Origin` and/or `Sec-Fetch-Site`; curl and orch's own clients send neither. */
const fromBrowser = (c: Context) => c.req.header("origin") !== undefined || c.req.header("sec-fetch-site") !== undefined;

/**
 * Who a browser's session cookie stands for: the name of the token it signed in with — while
 * that token is still taken (a revoked one ends its sessions) — or the login link's; null: none.
 */
async function sessionPrincipal(c: Context, auth: BrowserAuth, creds: Credentials): Promise<string | null> {
  const bearer = sessionBearerOf(c, auth);
  if (bearer === undefined) return null;
  if (bearer === null) return "browser session (login link)";
  return creds.identify(bearer);
}

/** The session cookie, or a bearer token the server takes: what a browser proves it may act with. */
async function browserCredentials(c: Context, auth: BrowserAuth, creds: Credentials): Promise<boolean> {
  if ((await sessionPrincipal(c, auth, creds)) !== null) return true;
  const bearer = creds.required ? bearerOf(c.req.header("authorization")) : null;
  return bearer !== null && (await creds.identify(bearer)) !== null;
}

/**
 * Guards every request that can change something (any method but GET, HEAD, OPTIONS):
 * - a browser on another site is refused, by `Sec-Fetch-Site` and by `Origin`, whatever the
 *   bind: the Host check stops DNS rebinding, this stops a page posting to 127.0.0.1 blind
 *   (CSRF). Programs (curl, scripts) send neither header and pass;
 * - a browser's write must also name this server as its `Origin` and carry the session cookie
 *   of the one-time login link (browser-auth.ts) or the bearer token. Both, always: the cookie
 *   alone would let a page on another port of this host act (cookies ignore ports), the Origin
 *   alone would let any page served here, or any local program that forges it, act;
 * - without a token, writes are taken only on loopback. The bind policy already refuses a
 *   non-loopback bind without one; this keeps the rule true for any other way an app is built.
 */
export function writeGuard(bindHost: string, creds: Credentials, auth: BrowserAuth = createBrowserAuth(), publicUrl?: string): MiddlewareHandler {
  const exposed = !creds.required && !isLoopbackHost(bindHost);
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const site = c.req.header("sec-fetch-site");
    if (site !== undefined && !OWN_SITE.has(site.trim().toLowerCase())) {
      return c.json({ error: "Forbidden: a cross-site request cannot change anything here (Sec-Fetch-Site)" }, 403);
    }
    const origin = c.req.header("origin");
    if (origin !== undefined && !sameOrigin(origin, ownOrigin(c.req.url, c.req.header("host"), publicUrl))) {
      return c.json({ error: "Forbidden: a request from another origin cannot change anything here (Origin)" }, 403);
    }
    if (fromBrowser(c)) {
      if (origin === undefined) return c.json({ error: "Forbidden: a write from a browser must come from this server's own page (no Origin)" }, 403);
      if (!(await browserCredentials(c, auth, creds)))
        return c.json({ error: "Forbidden: this browser has no session: open the dashboard through the one-time login link orch serve printed" }, 403);
    }
    if (exposed) return c.json({ error: "Forbidden: writes need ORCH_API_TOKEN when the API is bound beyond loopback" }, 403);
    await next();
  };
}

/**
 * Guards reads of the data (/api/*, /openapi.json) by browsers. CORS already keeps other origins
 * from reading answers (no route sends Access-Control-Allow-Origin); this refuses them before any
 * work — a page on another site or port (`Sec-Fetch-Site` cross-site / same-site, a foreign
 * `Origin`) gets a 403 whatever cookie its browser sends, so a `<script src>` or an EventSource
 * from there learns nothing and holds nothing open — and asks this server's own pages for the
 * session (401 without it), as for writes. Programs sending neither header pass as before.
 */
export function browserReadGuard(auth: BrowserAuth, creds: Credentials, publicUrl?: string): MiddlewareHandler {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method) || !fromBrowser(c)) return next();
    const site = c.req.header("sec-fetch-site");
    const origin = c.req.header("origin");
    if (
      (site !== undefined && !OWN_SITE.has(site.trim().toLowerCase())) ||
      (origin !== undefined && !sameOrigin(origin, ownOrigin(c.req.url, c.req.header("host"), publicUrl)))
    ) {
      return c.json({ error: "Forbidden: a page on another site or origin cannot read this server's data" }, 403);
    }
    if (c.req.method !== "OPTIONS" && !(await browserCredentials(c, auth, creds))) return noBrowserSession(c, creds.required);
    await next();
  };
}

/** 401 for a browser without a session; `signIn` tells the page how to get one (the token, or the printed link). */
function noBrowserSession(c: Context, tokenServer: boolean) {
  return c.json(
    tokenServer
      ? { error: "Unauthorized: this browser has no session: sign in with ORCH_API_TOKEN", signIn: "token" }
      : { error: "Unauthorized: this browser has no session: open the dashboard through the one-time login link orch serve printed", signIn: "link" },
    401,
  );
}
