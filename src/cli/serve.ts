/**
 * `orch serve [--host H] [--port N]`: the REST API and live events until SIGINT/SIGTERM.
 * Flags > HTTP_API_HOST/HTTP_API_PORT > 127.0.0.1:9090. Off loopback it needs ORCH_API_TOKEN.
 */
import { readEnv } from "../config.ts";
import { usageError } from "../errors.ts";
import { mainCheckoutBranch } from "../api/main-branch.ts";
import { startApiServer } from "../api/server.ts";
import { resolveBindAddress } from "../api/security.ts";
import { commonFlags, singleAction } from "./command.ts";
import { storeFromFlags, str } from "./context.ts";
import { errOut } from "../sys/io.ts";

export function portFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65535) throw usageError(`flag --port must be a port number from 0 to 65535 (got "${value}")`);
  return Number(value);
}

export const command = singleAction("serve", {
  summary: "REST API + live events",
  flags: {
    host: { type: "string", value: "HOST", description: "address to bind (else HTTP_API_HOST, else 127.0.0.1)" },
    port: { type: "string", value: "N", description: "port to bind, 0 for any free one (else HTTP_API_PORT, else 9090)" },
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
    const store = storeFromFlags(flags);
    const api = startApiServer(store, { host, bindAddress: address, port, token, mainBranch: () => mainCheckoutBranch() });
    const stopped = new Promise<number>((resolve) => {
      const shutdown = () => {
        api.deps.feed.stop();
        api.stop();
        store.close();
        resolve(0);
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    });
    // After the handlers: whoever waits for this line may signal at once. The guide's
    // troubleshooting step looks for exactly this text.
    errOut(`HTTP server listening on ${api.address}${token ? " (token required)" : ""}\n`);
    return stopped;
  },
});
