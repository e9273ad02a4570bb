/**
 * A hook hands its event to the session's orch mcp over the Unix socket beside the database, and
 * writes it itself when nobody answers there.
 */
import { describe, expect, test } from "bun:test";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../src/db/client.ts";
import { ON_POSTGRES, openTestStore } from "../backend.ts";
import { getAgent } from "../../src/core/agents.ts";
import { listenForHooks, storeRelayedEvent } from "../../src/agents/hook-listener.ts";
import { hookSocketPath } from "../../src/agents/hook-socket.ts";
import { orchBin, tempDir } from "../helpers.ts";

const event = (session: string, e = "PreToolUse", command = "npm test") =>
  JSON.stringify({ session_id: session, hook_event_name: e, tool_name: "Bash", tool_input: { command } });

async function hook(payload: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([orchBin(), "hook"], { env: { ...process.env, ...env } as Record<string, string>, stdin: new TextEncoder().encode(payload), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

describe("the hook socket", () => {
  test("an event reaches the session server that holds the database (the hook itself could not have stored it)", async () => {
    const db = join(tempDir(), "tasks.db");
    const store = await openTestStore(db);
    // The hooks are this process's children, as the server is Claude Code's: the socket is ours.
    const stop = listenForHooks(store, process.pid)!;
    try {
      expect(statSync(join(hookSocketPath(store.location, process.pid)!, "..")).mode & 0o777).toBe(0o700);
      // Gone from the directory but open here: only the server can still store into it. (A shared
      // server's database stays reachable by the hook too: there the event simply arrives.)
      if (!ON_POSTGRES) rmSync(db);
      const r = await hook(event("relayed-1"), { ORCH_DB: store.location, ORCH_STREAM_ID: "Stream-B", ORCH_LAUNCHER: "tmux" });
      expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(await getAgent(store, "relayed-1")).toMatchObject({ status: "working", tool: "Bash(npm test)", streamId: "Stream-B" });
    } finally {
      stop();
      await store.close();
    }
  });

  test("nobody on the socket (a server killed, a stale file): the hook writes the event itself", async () => {
    const db = join(tempDir(), "tasks.db");
    const store = await openTestStore(db);
    const stop = listenForHooks(store, process.pid)!;
    stop();
    const r = await hook(event("direct-1"), { ORCH_DB: store.location });
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await getAgent(store, "direct-1")).toMatchObject({ status: "working" });
    await store.close();
  });

  test("what the server refuses: not JSON, a hostile payload, an event that answers Claude Code", async () => {
    const store = await openTestStore(":memory:");
    for (const bad of ["nope", "{}", JSON.stringify({ payload: { session_id: "../x", hook_event_name: "PreToolUse" }, env: {}, pid: 1 }), JSON.stringify({ payload: { session_id: "s", hook_event_name: "PermissionRequest" }, env: {}, pid: 1 })])
      expect(await storeRelayedEvent(store, bad)).toBe(false);
    // Another database than the server's (two in one directory share the socket's folder).
    expect(await storeRelayedEvent(store, JSON.stringify({ db: "/elsewhere/tasks.db", payload: JSON.parse(event("other-1")), env: {}, pid: 1 }))).toBe(false);
    expect(await storeRelayedEvent(store, JSON.stringify({ db: store.location, payload: JSON.parse(event("ok-1")), env: { ORCH_STREAM_ID: 5 }, pid: -3 }))).toBe(true);
    expect(await getAgent(store, "ok-1")).toMatchObject({ status: "working", streamId: null, pid: null });
    await store.close();
  });

  test("a socket path too long for the system is not used", () => {
    expect(hookSocketPath(`/${"x".repeat(120)}/tasks.db`, 123)).toBeNull();
    expect(hookSocketPath("/home/u/.claude/tasks/abc/tasks.db", 123)).toBe("/home/u/.claude/tasks/abc/hooks/123.sock");
  });
});
