/**
 * `orch serve [--host H] [--port N] [--open]`: the REST API, live events and the browser
 * dashboard (GET /) until SIGINT/SIGTERM. Flags > HTTP_API_HOST/HTTP_API_PORT > 127.0.0.1:9090.
 * Off loopback it needs ORCH_API_TOKEN. The dashboard's module is imported here, dynamically:
 * no other command loads its assets.
 */
import { readEnv } from "../config.ts";
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

export const command = singleAction("serve", {
  summary: "REST API + live events + the browser dashboard",
  flags: {
    host: { type: "string", value: "HOST", description: "address to bind (else HTTP_API_HOST, else 127.0.0.1)" },
    port: { type: "string", value: "N", description: "port to bind, 0 for any free one (else HTTP_API_PORT, else 9090)" },
    open: { type: "boolean", description: "open the dashboard in the browser (xdg-open / open)" },
    db: commonFlags.db,
    help: commonFlags.help,
  },
  async run({ flags }) {
    const env = readEnv();
    const host = str(flags.host) ?? env.HTTP_API_HOST;
    if (host.trim() === "") throw usageError("flag --host needs a value (HOST)");
    const port = portFlag(str(flags.port)) ?? env.HTTP_API_PORT;
    const token = env.ORCH_API_TOKEN;
    // Before opening anything: a refused start leaves no trace.
    const address = await resolveBindAddress(host, token);
    const store = await storeFromFlags(flags);
    const options = { host, bindAddress: address, port, token, mainBranch: () => mainCheckoutBranch() };
    checkBindPolicy(address, token);
    const { withDashboard } = await import("../dashboard/routes.ts");
    const api = bindApi(withDashboard(await createApi(store, options), { host }), options);
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
    errOut(`HTTP server listening on ${api.address}${token ? " (token required)" : ""}\n`);
    // Without a token, a one-time login link (browser-auth.ts) gives a browser the session cookie;
    // with one, the page asks for the token itself. --open uses a link of its own.
    // A wildcard bind is no address to open: this machine reaches itself on loopback.
    const base = isWildcard(address) ? `http://127.0.0.1:${new URL(api.url).port}` : api.url;
    const dashboard = () => (token ? `${base}/` : dashboardLoginUrl({ url: base, deps: api.deps }));
    errOut(`Dashboard: ${dashboard()}${token ? " (sign in with ORCH_API_TOKEN)" : ""}\n`);
    if (flags.open === true) {
      const { openInBrowser } = await import("../dashboard/open.ts");
      const warning = await openInBrowser(dashboard());
      if (warning) errOut(`orch: warning: ${warning}\n`);
    }
    return stopped;
  },
});
