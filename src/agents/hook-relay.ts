/**
 * The hook's side of the socket (hook-socket.ts): hand the event to the session's `orch mcp` and
 * wait for its "stored". Anything short of that — no server, a refusal, a timeout — returns false
 * and the hook writes the event itself.
 */
import type { Env } from "./hook-log.ts";
import { ACK, FULL_EVENTS, hookSocketPath, type RelayedEvent } from "./hook-socket.ts";
import { databasePathFor } from "./hook-db.ts";
import { isPostgresUrl } from "../db/pg-url.ts";
import { callerPid } from "../sys/caller.ts";

const RELAY_TIMEOUT_MS = 1000;

function send(path: string, message: string): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = "";
    const timer = setTimeout(() => resolve(false), RELAY_TIMEOUT_MS);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      resolve(ok);
    };
    Bun.connect({
      unix: path,
      socket: {
        open: (s) => void s.write(message),
        data: (s, chunk) => {
          reply += new TextDecoder().decode(chunk);
          if (reply.includes("\n")) {
            s.end();
            done(reply === ACK);
          }
        },
        close: () => done(reply === ACK),
        error: () => done(false),
        connectError: () => done(false),
      },
    }).catch(() => done(false));
  });
}

export async function relayHook(raw: string, env: Env): Promise<boolean> {
  let payload: { hook_event_name?: unknown; cwd?: unknown };
  try {
    payload = JSON.parse(raw);
  } catch {
    return false;
  }
  if (typeof payload?.hook_event_name !== "string" || FULL_EVENTS.has(payload.hook_event_name)) return false;
  // A shared server's URL as the session's orch mcp was given it; else the SQLite file.
  const db = env.ORCH_DB && isPostgresUrl(env.ORCH_DB) ? env.ORCH_DB : await databasePathFor(typeof payload.cwd === "string" ? payload.cwd : process.cwd(), env);
  const pid = db ? await callerPid() : null;
  const path = db && pid ? hookSocketPath(db, pid) : null;
  if (!path) return false;
  const event: RelayedEvent = { db: db!, payload, env: { ORCH_STREAM_ID: env.ORCH_STREAM_ID, ORCH_LAUNCHER: env.ORCH_LAUNCHER }, pid };
  return send(path, `${JSON.stringify(event)}\n`);
}
