/**
 * The API served "while alive" from a process that exists for something else (`orch mcp`, one
 * per agent session, all sharing HTTP_API_PORT through the guide's `.mcp.json`):
 * - port free → serve it;
 * - port held by an orch on the same database → stay quiet and try to bind again every ~1.5 s,
 *   so when the holder's session ends one of the waiting sessions takes the port over and the
 *   API outlives the session that first started it;
 * - port held by anything else → say so once on stderr, and keep trying quietly all the same.
 * The socket never keeps the process alive by itself (the MCP session decides when to end), and
 * nothing here ever throws: the API is an extra, the host process carries on without it.
 */
import type { OrchEnv } from "../config.ts";
import { errOut } from "../sys/io.ts";
import type { Store } from "../db/client.ts";
import { createApi } from "./app.ts";
import { mainCheckoutBranch } from "./main-branch.ts";
import { bindApi, displayAddress, isAddressInUse, type ApiServer } from "./server.ts";
import { probePortHolder, type PortHolder } from "../net/peer.ts";

export { probePortHolder, type PortHolder };
import { checkBindPolicy, isIpLiteral, resolveBindAddress } from "./security.ts";

export type SharedApiState = "serving" | "waiting" | "refused" | "failed" | "stopped";

export interface SharedApiHandle {
  readonly state: SharedApiState;
  /** The bound port while serving. */
  readonly port: number | undefined;
  readonly address: string;
  stop(): void;
}

export interface SharedApiOptions {
  /** How often a waiting process tries the port again. */
  retryMs?: number;
  /** Where the few lines this writes go (default stderr: stdout may be a protocol channel). */
  log?: (line: string) => void;
  mainBranch?: string | null | (() => string | null);
  onState?: (state: SharedApiState) => void;
  /** Who was found holding the port, once asked (tests await this instead of sleeping). */
  onProbe?: (holder: PortHolder) => void;
}

export async function serveApiWhileAlive(store: Store, env: OrchEnv, opts: SharedApiOptions = {}): Promise<SharedApiHandle> {
  const log = opts.log ?? ((line: string) => errOut(`${line}\n`));
  const host = env.HTTP_API_HOST;
  const port = env.HTTP_API_PORT;
  const token = env.ORCH_API_TOKEN;
  const address = displayAddress(host, port);
  let state: SharedApiState = "stopped";
  let server: ApiServer | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const setState = (s: SharedApiState) => {
    state = s;
    opts.onState?.(s);
  };

  const handle: SharedApiHandle = {
    get state() {
      return state;
    },
    get port() {
      return server?.port;
    },
    address,
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      server?.stop();
      server = undefined;
      if (state !== "refused" && state !== "failed") setState("stopped");
    },
  };

  const refused = (err: unknown) => {
    log(`orch: HTTP API not started: ${(err as Error).message}`);
    setState("refused");
  };
  // An IP is checked at once; a name is resolved first, and what it resolves to is bound.
  if (isIpLiteral(host)) {
    try {
      checkBindPolicy(host, token);
    } catch (err) {
      refused(err);
      return handle;
    }
    await start(host);
  } else {
    setState("waiting");
    void resolveBindAddress(host, token).then(async (address) => state === "waiting" && (await start(address)), refused);
  }
  return handle;

  async function start(bindAddress: string): Promise<void> {
    const api = await createApi(store, { host, token, mainBranch: opts.mainBranch !== undefined ? opts.mainBranch : () => mainCheckoutBranch() });
    let waited = false;

    /** True when done trying (serving, or failed for a reason retrying cannot fix). */
    const attempt = (): boolean => {
      try {
        server = bindApi(api, { host, bindAddress, port });
      } catch (err) {
        if (isAddressInUse(err)) return false;
        log(`orch: HTTP API not started: ${(err as Error).message}`);
        setState("failed");
        return true;
      }
      server.server.unref();
      log(`HTTP server listening on ${server.address}${waited ? " (taken over from an orch that exited)" : ""}`);
      setState("serving");
      return true;
    };

    if (!attempt()) {
      waited = true;
      setState("waiting");
      void probePortHolder(host, port, api.deps.dbId, token).then((holder) => {
        opts.onProbe?.(holder);
        if (state !== "waiting") return;
        if (holder === "other-orch") log(`orch: HTTP API port ${address} is served by an orch on another database; will serve this one when the port is free`);
        else if (holder === "other") log(`orch: HTTP API port ${address} is in use by another program; will serve the API when it is free`);
      });
      timer = setInterval(() => {
        if (state === "waiting" && attempt()) {
          clearInterval(timer);
          timer = undefined;
        }
      }, opts.retryMs ?? 1500);
      (timer as { unref?: () => void }).unref?.();
    }
  }
}
