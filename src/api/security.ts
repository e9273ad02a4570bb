/**
 * Who may talk to the API: the bind policy (a non-loopback address needs a token), the Host
 * check (DNS rebinding: a web page whose name resolves to 127.0.0.1 must not read local data)
 * and the bearer token (compared in constant time).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { hostname, networkInterfaces } from "node:os";
import type { MiddlewareHandler } from "hono";
import { usageError } from "../errors.ts";

/** `[::1]` → `::1`, lower-case: Host headers and bind addresses compared on one form. */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase();
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

export function isLoopbackHost(host: string): boolean {
  const h = normalizeHost(host);
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const isWildcard = (host: string) => ["0.0.0.0", "::", "0:0:0:0:0:0:0:0"].includes(normalizeHost(host));

/** Refuse (exit 2) to expose the data beyond this machine without a token. */
export function checkBindPolicy(host: string, token: string | undefined): void {
  if (isLoopbackHost(host) || token) return;
  throw usageError(
    `refusing to serve on ${host} without ORCH_API_TOKEN: a non-loopback address exposes the API to the network; set ORCH_API_TOKEN (clients then send "Authorization: Bearer <token>") or bind 127.0.0.1`,
  );
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

export function hostCheck(bindHost: string): MiddlewareHandler {
  const allowed = allowedHostnames(bindHost);
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

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time check of `Authorization: Bearer <token>` (hashing first equalises lengths). */
export function bearerAuth(token: string): MiddlewareHandler {
  const want = digest(token);
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer[ ]+(.+)$/i.exec(header.trim());
    if (!m || !timingSafeEqual(digest(m[1]!), want)) {
      c.header("WWW-Authenticate", 'Bearer realm="orch"');
      return c.json({ error: m ? "Unauthorized: invalid token" : "Unauthorized: send Authorization: Bearer <ORCH_API_TOKEN>" }, 401);
    }
    await next();
  };
}
