/** The API on a real socket: SSE across processes, reconnects, idle connections, token, Host check. */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startApiServer, type ApiServer } from "../../src/api/server.ts";
import { createTask, lastEventId, updateTask } from "../../src/core/index.ts";
import { openStore, type Store } from "../../src/db/client.ts";
import { openTestStore } from "../backend.ts";
import { runOrch, tempDir } from "../helpers.ts";
import { guideData } from "./fixture.ts";
import { SseTap } from "./sse-tap.ts";

const open: { servers: ApiServer[]; taps: SseTap[]; stores: Store[] } = { servers: [], taps: [], stores: [] };
afterEach(async () => {
  for (const t of open.taps.splice(0)) t.close();
  for (const s of open.servers.splice(0)) s.stop();
  for (const s of open.stores.splice(0)) await s.close();
});

async function serve(opts: Partial<Parameters<typeof startApiServer>[1]> = {}) {
  const dbPath = join(tempDir(), "tasks.db");
  const store = await openTestStore(dbPath);
  open.stores.push(store);
  await guideData(store);
  const api = await startApiServer(store, { host: "127.0.0.1", port: 0, mainBranch: "main", ...opts });
  open.servers.push(api);
  return { api, store, dbPath, url: api.url };
}

async function tap(url: string, headers: Record<string, string> = {}) {
  const t = await SseTap.open(url, headers);
  open.taps.push(t);
  return t;
}

/** A raw HTTP/1.1 request, so the Host header is exactly what we send. */
async function rawGet(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  let data = "";
  const done = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        data += chunk.toString();
      },
      close() {
        done.resolve();
      },
      error() {
        done.resolve();
      },
    },
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  await done.promise;
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0);
  return { status, body: data.slice(data.indexOf("\r\n\r\n") + 4) };
}

describe("SSE on a real server", () => {
  test("snapshot, then task/stream/activity events for commits of another connection, then heartbeats", async () => {
    const { url, dbPath } = await serve({ heartbeatMs: 100 });
    const t = await tap(`${url}/api/events`);
    expect(t.status).toBe(200);
    await t.until((x) => x.messages.length >= 1, 5000, "snapshot");
    const snap = t.messages[0]!;
    expect(snap.event).toBe("snapshot");
    const other = await openTestStore(dbPath);
    open.stores.push(other);
    expect(Number(snap.id)).toBe(await lastEventId(other));
    await updateTask(other, { id: "TASK-002", status: "completed" });
    await t.until((x) => x.events("stream").length >= 1, 5000, "stream event");
    expect(t.events().map((m) => m.event)).toEqual(["activity", "task", "stream"]);
    const ids = t.events().map((m) => Number(m.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids[0]).toBeGreaterThan(Number(snap.id));
    const task = JSON.parse(t.events("task")[0]!.data);
    expect(task).toMatchObject({ op: "update", entityId: "TASK-002", data: { id: "TASK-002", status: "completed" } });
    const stream = JSON.parse(t.events("stream")[0]!.data);
    expect(stream.data).toMatchObject({ streamId: "Stream-A", completedTasks: 4, progressPercentage: 100, status: "completed", branchName: "main" });
    await t.until((x) => x.comments.includes("ping"), 5000, "heartbeat");
  });

  test("a change made by a separate dist/orch process arrives as events", async () => {
    const { url, dbPath } = await serve();
    const t = await tap(`${url}/api/events`);
    await t.until((x) => x.messages.length >= 1, 5000, "snapshot");
    const r = await runOrch(["task", "update", "TASK-010", "--status", "in_progress", "--notes", "from another process"], { env: { ORCH_DB: dbPath } });
    expect(r.code).toBe(0);
    await t.until((x) => x.events("stream").length >= 1, 5000, "events from dist/orch");
    expect(t.events().map((m) => m.event)).toEqual(["activity", "task", "stream"]);
    expect(JSON.parse(t.events("task")[0]!.data).data).toMatchObject({ id: "TASK-010", status: "in_progress", notes: "from another process" });
    expect(JSON.parse(t.events("activity")[0]!.data)).toMatchObject({ op: "create", data: { taskId: "TASK-010", agentId: "other", isActive: true } });
  });

  test("Last-Event-ID: a reconnecting client gets exactly the events it missed, no snapshot", async () => {
    const { url, dbPath } = await serve();
    const first = await tap(`${url}/api/events`);
    await first.until((x) => x.messages.length >= 1, 5000, "snapshot");
    const seen = first.messages[0]!.id!;
    first.close();
    // Changes while the client is away, from another process.
    expect((await runOrch(["task", "create", "--title", "while away", "--id", "TASK-020", "--stream", "Stream-B"], { env: { ORCH_DB: dbPath } })).code).toBe(0);
    expect((await runOrch(["task", "update", "TASK-020", "--status", "blocked", "--blocked-reason", "r"], { env: { ORCH_DB: dbPath } })).code).toBe(0);
    const other = await openTestStore(dbPath);
    open.stores.push(other);
    const missed = await (await import("../../src/core/index.ts")).eventsSince(other, Number(seen));
    expect(missed.length).toBeGreaterThanOrEqual(4);

    const again = await tap(`${url}/api/events`, { "Last-Event-ID": seen });
    await again.until((x) => x.messages.length >= missed.length, 5000, "replay");
    expect(again.messages.map((m) => [Number(m.id), m.event])).toEqual(missed.map((e) => [e.id, e.kind]));
    expect(again.events("snapshot")).toEqual([]);
    // Live events continue after the replay, without duplicates.
    await createTask(other, { id: "TASK-021", title: "live", metadata: { streamId: "Stream-B" } });
    await again.until((x) => x.messages.some((m) => JSON.parse(m.data).entityId === "TASK-021"), 5000, "live event");
    const ids = again.messages.map((m) => Number(m.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    // ?lastEventId= does the same for clients that cannot set headers; an id from the future gets a snapshot.
    const byQuery = await tap(`${url}/api/events?lastEventId=${missed.at(-1)!.id}`);
    await byQuery.until((x) => x.messages.length >= 1, 5000, "replay by query");
    expect(JSON.parse(byQuery.messages[0]!.data).entityId).toBe("TASK-021");
    const future = await tap(`${url}/api/events`, { "Last-Event-ID": "999999999" });
    await future.until((x) => x.messages.length >= 1, 5000, "snapshot");
    expect(future.messages[0]!.event).toBe("snapshot");
  });

  test("an idle event stream outlives Bun's idle timeout", async () => {
    const { url, store } = await serve({ heartbeatMs: 60_000, idleTimeout: 1 });
    const t = await tap(`${url}/api/events`);
    await t.until((x) => x.messages.length >= 1, 5000, "snapshot");
    // Bun checks idle sockets every ~4 s: without the per-request timeout of 0 the stream is cut at ≈4 s.
    await Bun.sleep(5500);
    expect(t.closed).toBe(false);
    await updateTask(store, { id: "TASK-010", status: "completed" });
    await t.until((x) => x.events("task").length >= 1, 5000, "event after idle period");
  }, 15_000);

  test("closing the client unsubscribes it from the feed", async () => {
    const { url, api } = await serve();
    const listeners = () => api.deps.feed.listenerCount;
    const t = await tap(`${url}/api/events`);
    await t.until((x) => x.messages.length >= 1, 5000, "snapshot");
    expect(listeners()).toBe(1);
    t.close();
    const deadline = Date.now() + 5000;
    while (listeners() !== 0 && Date.now() < deadline) await Bun.sleep(10);
    expect(listeners()).toBe(0);
  });
});

describe("security on a real socket", () => {
  test("Host header: evil names get 403, localhost and the bound address pass", async () => {
    const { api } = await serve();
    expect((await rawGet(api.port, "/health", `127.0.0.1:${api.port}`)).status).toBe(200);
    expect((await rawGet(api.port, "/health", `localhost:${api.port}`)).status).toBe(200);
    const evil = await rawGet(api.port, "/api/streams", `attacker.example:${api.port}`);
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error).toContain("DNS rebinding");
  });

  test("token: every request needs the bearer token", async () => {
    const { url } = await serve({ token: "a-long-enough-token" });
    expect((await fetch(`${url}/api/streams`)).status).toBe(401);
    expect((await fetch(`${url}/api/events`)).status).toBe(401);
    const ok = await fetch(`${url}/api/streams`, { headers: { Authorization: "Bearer a-long-enough-token" } });
    expect(ok.status).toBe(200);
    const t = await tap(`${url}/api/events`, { Authorization: "Bearer a-long-enough-token" });
    await t.until((x) => x.messages.length >= 1, 5000, "snapshot with token");
  });
});
