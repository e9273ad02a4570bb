/**
 * `orch serve [--host H] [--port N] [--open]`: the REST API, live events and the browser
 * dashboard (GET /) until SIGINT/SIGTERM. Flags > HTTP_API_HOST/HTTP_API_PORT > 127.0.0.1:9090.
 * Off loopback it needs ORCH_API_TOKEN or named tokens (orch token create). The dashboard's module is imported here, dynamically:
 * no other command loads its assets.
 */
import { existsSync } from "node:fs";
import { readEnv, resolveDbPath } from "../config.ts";
import { isPostgresUrl } from "../db/pg-url.ts";
import { hasNamedTokens } from "../core/tokens.ts";
import type { Store } from "../db/client.ts";
import { usageError } from "../errors.ts";
import { mainCheckoutBranch } from "../api/main-branch.ts";
import { createApi } from "../api/app.ts";
import { bindApi } from "../api/server.ts";
import { dashboardLoginUrl } from "../api/browser-auth.ts";
import { checkBindPolicy, isWildcard, resolveBindAddress } from "../api/security.ts";
import { commonFlags, singleAction } from "./command.ts";
import { storeFromFlags, str } from "./context.ts";
import { errOut } from "../sys/io.ts";

export function portFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65535) throw usageError(`flag --port must be a port number from 0 to 65535 (got "${value}")`);
  return Number(value);
}

/** `--public-url` checked: a scheme and a host, nothing after (the proxy serves orch at its root). */
function publicUrlOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw usageError(`flag --public-url must be a URL like https://orch.example.com, not "${value.slice(0, 100)}"`);
  }
  if (!/^https?:$/.test(u.protocol) || (u.pathname !== "/" && u.pathname !== "") || u.search || u.hash || u.username || u.password)
    throw usageError(`flag --public-url must be a scheme and a host, like https://orch.example.com, not "${value.slice(0, 100)}"`);
  return u.origin;
}

/** The database `flags` name is there already (a PostgreSQL URL always counts). */
function databaseExists(flags: Record<string, string | boolean | undefined>): boolean {
  const loc = resolveDbPath({ flag: typeof flags.db === "string" ? flags.db : undefined, env: readEnv() });
  return isPostgresUrl(loc.path) || existsSync(loc.path);
}

export const command = singleAction("serve", {
  summary: "REST API + live events + the browser dashboard",
  flags: {
    host: { type: "string", value: "HOST", description: "address to bind (else HTTP_API_HOST, else 127.0.0.1)" },
    port: { type: "string", value: "N", description: "port to bind, 0 for any free one (else HTTP_API_PORT, else 9090)" },
    open: { type: "boolean", description: "open the dashboard in the browser (xdg-open / open)" },
    "public-url": { type: "string", value: "URL", description: "where a reverse proxy serves it (TLS), e.g. https://orch.example.com (else ORCH_PUBLIC_URL); needs a token" },
    db: commonFlags.db,
    help: commonFlags.help,
  },
  async run({ flags }) {
    const env = readEnv();
    const host = str(flags.host) ?? env.HTTP_API_HOST;
    if (host.trim() === "") throw usageError("flag --host needs a value (HOST)");
    const port = portFlag(str(flags.port)) ?? env.HTTP_API_PORT;
    const token = env.ORCH_API_TOKEN;
    const publicUrl = publicUrlOf(str(flags["public-url"]) ?? env.ORCH_PUBLIC_URL);
    // Before opening anything: a refused start leaves no trace. Only a database that is already
    // there can hold named tokens, so only then is it opened to look.
    let opened: Store | undefined;
    let namedTokens = false;
    const address = await resolveBindAddress(host, token).catch(async (err) => {
      if (!databaseExists(flags)) throw err;
      opened = await storeFromFlags(flags);
      namedTokens = await hasNamedTokens(opened);
      if (!namedTokens) {
        await opened.close();
        throw err;
      }
      return resolveBindAddress(host, true);
    });
    const store = opened ?? (await storeFromFlags(flags));
    namedTokens ||= await hasNamedTokens(store);
    const guarded = token !== undefined || namedTokens;
    // Behind a public proxy a loopback bind is exposed all the same.
    if (publicUrl && !guarded) {
      await store.close();
      throw usageError(`refusing to serve ${publicUrl} without a token: set ORCH_API_TOKEN or create a named token (orch token create NAME)`);
    }
    const options = { host, bindAddress: address, port, token, namedTokens, publicUrl, mainBranch: () => mainCheckoutBranch() };
    checkBindPolicy(address, guarded);
    const { withDashboard } = await import("../dashboard/routes.ts");
    const api = bindApi(withDashboard(await createApi(store, options), { host, publicUrl }), options);
    const stopped = new Promise<number>((resolve) => {
      const shutdown = async () => {
        api.deps.feed.stop();
        api.stop();
        await store.close();
        resolve(0);
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    });
    // After the handlers: whoever waits for this line may signal at once. The guide's
    // troubleshooting step looks for exactly this text.
    errOut(`HTTP server listening on ${api.address}${guarded ? " (token required)" : ""}\n`);
    // Without a token, a one-time login link (browser-auth.ts) gives a browser the session cookie;
    // with one, the page asks for the token itself. --open uses a link of its own.
    // A wildcard bind is no address to open: this machine reaches itself on loopback.
    const base = publicUrl ?? (isWildcard(address) ? `http://127.0.0.1:${new URL(api.url).port}` : api.url);
    const dashboard = () => (guarded ? `${base}/` : dashboardLoginUrl({ url: base, deps: api.deps }));
    errOut(`Dashboard: ${dashboard()}${guarded ? ` (sign in with ${token ? "ORCH_API_TOKEN" : "a token from orch token create"})` : ""}\n`);
    if (flags.open === true) {
      const { openInBrowser } = await import("../dashboard/open.ts");
      const warning = await openInBrowser(dashboard());
      if (warning) errOut(`orch: warning: ${warning}\n`);
    }
    return stopped;
  },
});
