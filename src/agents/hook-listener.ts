/**
 * The server's side of the hook socket (hook-socket.ts), run by `orch mcp`: the session's hooks
 * hand their events to this process, which already has the database open, and get "ok" once the
 * event is stored. The socket lives in a directory only this user can enter; every event is
 * checked again here, as if it came from Claude Code itself.
 */
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Socket } from "bun";
import type { Store } from "../db/client.ts";
import { agentChange, readHookPayload } from "../core/agent-status.ts";
import { recordAgentChange, streamForDirectory } from "../core/agents.ts";
import { hookContext } from "./hook-fast.ts";
import { ACK, FULL_EVENTS, hookSocketPath, NACK, type RelayedEvent } from "./hook-socket.ts";

const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

/** One event line → stored (true) or refused (false: the hook then writes it itself). */
export async function storeRelayedEvent(store: Store, line: string): Promise<boolean> {
  let event: RelayedEvent;
  try {
    event = JSON.parse(line);
  } catch {
    return false;
  }
  if (event?.db !== store.location) return false;
  const p = readHookPayload(event?.payload);
  if (typeof p === "string" || FULL_EVENTS.has(p.hook_event_name)) return false;
  const str = (v: unknown) => (typeof v === "string" && v.length <= 200 ? v : undefined);
  const env = { ORCH_STREAM_ID: str(event.env?.ORCH_STREAM_ID), ORCH_LAUNCHER: str(event.env?.ORCH_LAUNCHER) };
  const pid = Number.isSafeInteger(event.pid) && (event.pid as number) > 0 ? (event.pid as number) : null;
  try {
    // A session's stream is known from its first hook on: looked up only until then.
    const ctx = hookContext(p, env, pid, env.ORCH_STREAM_ID || null);
    await recordAgentChange(store, ctx, agentChange(p), async () => (p.cwd ? await streamForDirectory(store, p.cwd) : Promise.resolve(null)));
    return true;
  } catch {
    return false;
  }
}

/** Listen for this session's hooks; returns the stop function, or null when no socket can be made. */
export function listenForHooks(store: Store, claudePid: number = process.ppid): (() => void) | null {
  const path = store.location === ":memory:" ? null : hookSocketPath(store.location, claudePid);
  if (!path) return null;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(path), 0o700);
    // A socket left by a killed server of an earlier session with this pid: nobody answers on it.
    rmSync(path, { force: true });
    const server = Bun.listen<{ text: string; done: boolean }>({
      unix: path,
      socket: {
        open: (s) => void (s.data = { text: "", done: false }),
        data: (s: Socket<{ text: string; done: boolean }>, chunk) => {
          if (s.data.done) return; // one event a connection: the rest is not read
          s.data.text += new TextDecoder().decode(chunk);
          if (s.data.text.length > MAX_MESSAGE_BYTES) {
            s.data.done = true;
            return void s.end(NACK);
          }
          const end = s.data.text.indexOf("\n");
          if (end < 0) return;
          s.data.done = true;
          void storeRelayedEvent(store, s.data.text.slice(0, end)).then((ok) => s.end(ok ? ACK : NACK));
        },
      },
    });
    return () => {
      server.stop(true);
      rmSync(path, { force: true });
    };
  } catch {
    return null; // no socket: the hooks write directly, as without a server
  }
}
