import { join } from "node:path";
import { z } from "zod";
import { ensureDefaultDbDir, findProjectRoot, readEnv, resolveDbPath } from "../config.ts";
import { openStore } from "../db/client.ts";
import { usageError } from "../errors.ts";
import { STATE_FILE } from "../paths.ts";
import { singleAction } from "./command.ts";
import { intFlag, str } from "./context.ts";
import { out } from "../sys/io.ts";


export const command = singleAction("watch", {
  summary: "live terminal monitor (the guide's watch-status.py)",
  flags: {
    refresh: { type: "string", value: "N", description: "fallback polling interval in seconds (default 5)" },
    "no-color": { type: "boolean", description: "no ANSI colours (also NO_COLOR, or when stdout is not a terminal)" },
    api: { type: "string", value: "URL", description: "API to follow (default http://HTTP_API_HOST:HTTP_API_PORT; without it, falls back to the local DB)" },
    once: { type: "boolean", description: "print one frame and exit" },
    db: { type: "string", value: "PATH", description: "database for the local fallback" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  async run({ flags }) {
    const env = readEnv();
    // Checked before anything is shown: a malformed --db / ORCH_DB (a bad URL) is a usage error, not "cannot connect".
    const loc = resolveDbPath({ flag: str(flags.db), env });
    const refreshSeconds = intFlag("refresh", flags.refresh, { min: 1, max: 3600 }, 5);
    const apiFlag = str(flags.api);
    if (apiFlag !== undefined && !z.url({ protocol: /^https?$/ }).safeParse(apiFlag).success)
      throw usageError(`flag --api must be an http(s) URL, got "${apiFlag}"`);
    const host = env.HTTP_API_HOST.includes(":") ? `[${env.HTTP_API_HOST}]` : env.HTTP_API_HOST;
    const apiUrl = apiFlag ?? `http://${host}:${env.HTTP_API_PORT}`;
    const tty = process.stdout.isTTY === true && !flags.once;
    const color = process.stdout.isTTY === true && flags["no-color"] !== true && env.NO_COLOR === undefined;
    const root = findProjectRoot();
    const { runMonitor } = await import("../watch/loop.ts");
    const code = await runMonitor({
      apiUrl,
      explicitApi: apiFlag !== undefined,
      token: env.ORCH_API_TOKEN,
      refreshSeconds,
      color,
      once: flags.once === true,
      tty,
      stateFile: join(root, STATE_FILE),
      width: () => (process.stdout.isTTY ? (process.stdout.columns ?? 80) : Number(process.env.COLUMNS) || 80),
      write: out,
      onResize: (redraw) => process.stdout.on("resize", redraw),
      openLocalStore: async () => {
        try {
          ensureDefaultDbDir(loc);
          return await openStore(loc.path);
        } catch {
          return null;
        }
      },
    });
    // Open sockets or listeners must not keep a stopped monitor alive.
    if (flags.once !== true) process.exit(code);
    return code;
  },
});
