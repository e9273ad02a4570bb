/**
 * `orch mcp`: the MCP stdio server one agent session talks to. stdout carries only JSON-RPC;
 * every log line goes to stderr. Ends with exit 0 when stdin closes (after answering what it
 * already received) or on SIGTERM/SIGINT. Each session runs its own process over the shared DB.
 */
import { readLines } from "../mcp/lines.ts";
import { singleAction } from "./command.ts";
import type { Store } from "../db/client.ts";
import { storeFromFlags } from "./context.ts";
import { errOut, out } from "../sys/io.ts";

/** How long the end of stdin waits for requests still being answered. */
const DRAIN_TIMEOUT_MS = 5000;

const log = (line: string) => {
  try {
    errOut(`${line}\n`);
  } catch {
    // stderr gone too: nothing left to tell.
  }
};

export const command = singleAction("mcp", {
  summary: "MCP stdio server for agents (one process per session, sharing the database)",
  flags: {
    db: { type: "string", value: "PATH|URL", description: "database file or postgres:// URL (else ORCH_DB, else TASK_DB_PATH/<workspace>/tasks.db)" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  async run({ flags }) {
    // Read stdin from the first moment: lines queue until the transport attaches.
    const feed = readLines(Bun.stdin.stream());
    let store: Store;
    try {
      store = await storeFromFlags(flags);
    } catch (err) {
      feed.stop();
      throw err;
    }
    const [{ createMcpServer, createToolCaller }, { GuardedStdioTransport }] = await Promise.all([import("../mcp/server.ts"), import("../mcp/stdio.ts")]);

    let api: { stop(): void } | undefined;
    // The session's hooks hand their events to this process, which has the database open.
    const { listenForHooks } = await import("../agents/hook-listener.ts");
    const stopHooks = listenForHooks(store);
    let leaving = false;
    const exit = async (why: string) => {
      if (leaving) return;
      leaving = true;
      log(`orch mcp: ${why}, exiting`);
      try {
        stopHooks?.();
        api?.stop();
        await store.close();
      } catch {
        // Closing is best effort; SQLite's WAL is safe either way.
      }
      process.exit(0);
    };

    const callTool = createToolCaller(store, { log });
    const transport = new GuardedStdioTransport(feed, {
      write(text) {
        try {
          out(text);
        } catch {
          void exit("stdout closed"); // the client is gone
        }
      },
      log,
      callTool,
    });
    const server = createMcpServer(store, { log }, callTool);
    // The SDK quotes whole messages here (a stray response of megabytes): one bounded line.
    server.onerror = (err) => log(`orch mcp: ${err.message.length > 500 ? `${err.message.slice(0, 500)}… (${err.message.length} characters)` : err.message}`);
    transport.onend = () => {
      transport.whenIdle(DRAIN_TIMEOUT_MS).then(() => exit("stdin closed"));
    };
    process.on("SIGTERM", () => exit("SIGTERM"));
    process.on("SIGINT", () => exit("SIGINT"));
    await server.connect(transport);
    log(`orch mcp: serving ${store.path}`);

    // The guide's .mcp.json sets HTTP_API_PORT: then this session also offers the REST API — the
    // first session serves it, later ones wait and take over when it exits. (The raw variable,
    // not readEnv(): that defaults the port, and a session without it must not bind anything.)
    if (process.env.HTTP_API_PORT) {
      const [{ serveApiWhileAlive }, { readEnv }] = await Promise.all([import("../api/shared-port.ts"), import("../config.ts")]);
      api = await serveApiWhileAlive(store, readEnv(), { log });
    }

    await new Promise<never>(() => {}); // runs until exit()
  },
});
