/**
 * Binding the API to a socket with Bun.serve. Every way a bind can fail becomes one clear
 * OrchError line; the bind policy (no token off loopback) is checked first.
 */
import type { Server } from "bun";
import type { Store } from "../db/client.ts";
import { failed } from "../errors.ts";
import { createApi, type ApiApp, type AppOptions } from "./app.ts";
import { displayAddress, normalizeHost } from "../net/address.ts";
import { checkBindPolicy } from "./security.ts";
import { MAX_BODY_BYTES } from "./http.ts";

export { displayAddress };
import type { ApiDeps } from "./context.ts";

export interface ServeOptions extends AppOptions {
  host: string;
  /** The address `host` resolved to (security.ts resolveBindAddress); default: host itself, an IP. */
  bindAddress?: string;
  port: number;
  /** Seconds before Bun closes an idle keep-alive connection (event streams are exempt). */
  idleTimeout?: number;
}

export interface ApiServer {
  server: Server<undefined>;
  port: number;
  /** `host:port` as people write it (`[::1]:9090` for IPv6). */
  address: string;
  url: string;
  deps: ApiDeps;
  /** Close the socket and every open connection (event streams included). */
  stop(): void;
}


export function isAddressInUse(err: unknown): boolean {
  return (err as { code?: unknown })?.code === "EADDRINUSE";
}

export async function startApiServer(store: Store, opts: ServeOptions): Promise<ApiServer> {
  checkBindPolicy(opts.bindAddress ?? opts.host, opts.token);
  return bindApi(await createApi(store, opts), opts);
}

/** Bind an already built app (the shared-port hand-over retries this alone). */
export function bindApi({ app, deps }: ApiApp, opts: { host: string; bindAddress?: string; port: number; idleTimeout?: number }): ApiServer {
  let server: Server<undefined>;
  try {
    server = Bun.serve({
      hostname: normalizeHost(opts.bindAddress ?? opts.host),
      port: opts.port,
      fetch: app.fetch,
      idleTimeout: opts.idleTimeout ?? 30,
      // The one write route (POST /api/inbox/:id) takes a small JSON answer.
      maxRequestBodySize: MAX_BODY_BYTES,
      // Not SO_REUSEPORT: a second orch must see the port as taken (shared-port.ts relies on it).
      reusePort: false,
      development: false,
      // Hono's onError answers every route; this only guards the socket layer: JSON, never a stack.
      error: () => Response.json({ error: "Internal server error" }, { status: 500 }),
    });
  } catch (err) {
    const where = displayAddress(opts.host, opts.port);
    const code = (err as { code?: string })?.code;
    const e =
      code === "EADDRINUSE"
        ? failed(`cannot listen on ${where}: port ${opts.port} is already in use (another orch serve? pick one with --port or HTTP_API_PORT)`)
        : code === "EADDRNOTAVAIL"
          ? failed(`cannot listen on ${where}: ${opts.host} is not an address of this machine`)
          : code === "EACCES"
            ? failed(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`)
            : failed(`cannot listen on ${where}: ${(err as Error)?.message ?? String(err)}`);
    throw Object.assign(e, { code });
  }
  const port = server.port ?? opts.port;
  const address = displayAddress(opts.host, port);
  return {
    server,
    port,
    address,
    url: `http://${address}`,
    deps,
    stop() {
      server.stop(true);
    },
  };
}
