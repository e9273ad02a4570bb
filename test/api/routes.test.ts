/** Every route through `app.request`, each answer pinned key for key against the guide's examples. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { z } from "zod";
import { createApp } from "../../src/api/app.ts";
import { streamGetQuery, streamListQuery } from "../../src/api/routes/streams.ts";
import { taskListQuery } from "../../src/api/routes/tasks.ts";
import { activityQuery } from "../../src/api/routes/activity.ts";
import * as shapes from "../../src/api/shapes.ts";
import { sseMessages } from "../../src/net/sse-client.ts";
import { archiveStream, TASK_STATUSES, updateTask } from "../../src/core/index.ts";
import { openStore, type Store } from "../../src/db/client.ts";
import { openTestStore } from "../backend.ts";
import { tempDir, tempStore } from "../helpers.ts";
import { ageActivity, guide, guideData } from "./fixture.ts";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const keys = (o: object) => Object.keys(o).sort();

async function setup(opts: Parameters<typeof createApp>[1] = {}) {
  const store = await tempStore();
  await guideData(store);
  const app = await createApp(store, { mainBranch: "main", ...opts });
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await app.request(path, { headers });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body: body as Record<string, any>, headers: res.headers };
  };
  return { store, app, get };
}

/** Parse with a strict response shape: an unknown or missing key fails. */
function shape<S extends z.ZodType>(s: S, body: unknown): z.output<S> {
  const r = s.safeParse(body);
  if (!r.success) throw new Error(`response does not match its shape: ${JSON.stringify(r.error.issues.slice(0, 3))}`);
  return r.data;
}

describe("GET /health", () => {
  test("the guide's {status, timestamp} plus service, version, dbId", async () => {
    const { get } = await setup();
    const r = await get("/health");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("application/json");
    expect(keys(r.body)).toEqual([...Object.keys(guide.health), "service", "version", "dbId"].sort());
    expect(r.body.status).toBe("ok");
    expect(r.body.timestamp).toMatch(ISO);
    expect(r.body.service).toBe("orch");
    expect(r.body.dbId).toMatch(/^[0-9a-f]{16}$/);
    shape(shapes.healthShape, r.body);
  });

  test("dbId: the same file gives the same id through any connection; another file another id", async () => {
    const dir = tempDir();
    const a = await openTestStore(join(dir, "x.db"));
    const b = await openTestStore(join(dir, ".", "x.db"));
    const c = await tempStore();
    try {
      const id = async (s: Store) => ((await (await (await createApp(s)).request("/health")).json()) as { dbId: string }).dbId;
      expect(await id(a)).toBe(await id(b));
      expect(await id(a)).not.toBe(await id(c));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("HEAD answers like GET without a body", async () => {
    const { app } = await setup();
    const res = await app.request("/health", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });
});

describe("GET /api/streams", () => {
  test("the guide's list item key for key (+ archived, initiativeId), figures from the core", async () => {
    const { get } = await setup();
    const r = await get("/api/streams");
    expect(r.status).toBe(200);
    const body = shape(shapes.streamListShape, r.body);
    expect(body.totalStreams).toBe(2);
    const a = body.streams[0]!;
    expect(keys(a)).toEqual([...Object.keys(guide.streamListItem), "archived", "initiativeId", "usage"].sort());
    // No agent was launched for it yet: a zero usage, not a missing one.
    expect(a.usage).toEqual({ sessions: 0, costUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, turns: 0, denials: 0, lastDenial: null });
    // Every figure as in the guide's example; files are this fixture's own.
    expect(a as unknown).toEqual({ ...guide.streamListItem, files: ["src/provider.ts", "src/types/theme.ts"], archived: false, initiativeId: null, usage: a.usage });
    expect(body.streams[1]).toMatchObject({
      streamId: "Stream-B",
      streamPhase: "parallel",
      dependencies: ["Stream-A"],
      totalTasks: 1,
      pendingTasks: 1,
      progressPercentage: 0,
      status: "pending",
    });
  });

  test("branchName: the main checkout's branch for a stream without a worktree; its own branch otherwise; null outside git", async () => {
    const { store, get } = await setup();
    const { setStreamWorktree } = await import("../../src/core/index.ts");
    await setStreamWorktree(store, "Stream-B", { worktreePath: "/repo/.claude/worktrees/Stream-B", branchName: "stream-b" });
    const list = (await get("/api/streams")).body.streams as { branchName: string; worktreePath: string | null }[];
    expect(list.map((s) => [s.worktreePath, s.branchName])).toEqual([
      [null, "main"],
      ["/repo/.claude/worktrees/Stream-B", "stream-b"],
    ]);
    const noGit = await (await (await createApp(store, { mainBranch: null })).request("/api/streams")).json();
    expect((noGit as { streams: { branchName: string | null }[] }).streams[0]!.branchName).toBeNull();
  });

  test("initiativeId and includeArchived filter", async () => {
    const { store, get } = await setup();
    await archiveStream(store, "Stream-B");
    expect((await get("/api/streams")).body.totalStreams).toBe(1);
    const all = (await get("/api/streams?includeArchived=true")).body;
    expect(all.streams.map((s: { streamId: string; archived: boolean }) => [s.streamId, s.archived])).toEqual([
      ["Stream-A", false],
      ["Stream-B", true],
    ]);
    expect((await get("/api/streams?includeArchived=1")).body.totalStreams).toBe(2);
    expect((await get("/api/streams?includeArchived=false")).body.totalStreams).toBe(1);
    expect((await get("/api/streams?initiativeId=INIT-none")).body).toEqual({ streams: [], totalStreams: 0 });
  });

  test("never stale: a commit from another connection shows on the very next request", async () => {
    const { store, get } = await setup();
    const before = (await get("/api/streams")).body.streams[0];
    expect(before.completedTasks).toBe(3);
    const other = await openTestStore(store.path);
    try {
      await updateTask(other, { id: "TASK-002", status: "completed" });
    } finally {
      await other.close();
    }
    const after = (await get("/api/streams")).body.streams[0];
    expect(after).toMatchObject({ completedTasks: 4, inProgressTasks: 0, progressPercentage: 100, status: "completed" });
    // …and one from this very connection too.
    await updateTask(store, { id: "TASK-002", status: "blocked", blockedReason: "waiting" });
    expect((await get("/api/streams")).body.streams[0]).toMatchObject({ blockedTasks: 1, status: "blocked" });
  });
});

describe("GET /api/streams/:streamId", () => {
  test("the guide's detail key for key (+ every figure, files, archived, initiativeId), tasks in full", async () => {
    const { get } = await setup();
    const r = await get("/api/streams/Stream-A");
    expect(r.status).toBe(200);
    const body = shape(shapes.streamDetailShape, r.body);
    expect(keys(body)).toEqual(
      [...Object.keys(guide.streamDetail), "blockedTasks", "pendingTasks", "files", "archived", "initiativeId", "usage"].sort(),
    );
    const { tasks: guideTasks, ...guideStream } = guide.streamDetail;
    expect(body).toMatchObject(guideStream);
    expect(body.tasks.map((t) => t.id)).toEqual(["TASK-002", "TASK-001", "TASK-003", "TASK-004"]);
    const t1 = body.tasks.find((t) => t.id === "TASK-001")!;
    for (const k of Object.keys(guideTasks[0]!)) expect(t1).toHaveProperty(k);
    expect(t1).toMatchObject({ id: "TASK-001", title: "Create theme types", status: "completed", assignedAgent: "me" });
    expect(t1.createdAt).toMatch(ISO);
    expect(t1.updatedAt).toMatch(ISO);
  });

  test("404 with the guide's exact body; archived streams need includeArchived", async () => {
    const { store, get } = await setup();
    const r = await get("/api/streams/Stream-X");
    expect(r.status).toBe(404);
    expect(r.body).toEqual(guide.notFound);
    await archiveStream(store, "Stream-B");
    expect((await get("/api/streams/Stream-B")).body).toEqual({ error: "Stream not found", streamId: "Stream-B" });
    const arch = await get("/api/streams/Stream-B?includeArchived=true");
    expect(arch.status).toBe(200);
    expect(arch.body).toMatchObject({ streamId: "Stream-B", archived: true });
  });
});

describe("GET /api/streams/:streamId/health", () => {
  test("current task, last activity, no warnings while heartbeats are fresh", async () => {
    const { get } = await setup();
    const r = await get("/api/streams/Stream-A/health");
    expect(r.status).toBe(200);
    const h = shape(shapes.streamHealthShape, r.body);
    expect(h).toMatchObject({ streamId: "Stream-A", status: "in_progress", progressPercentage: 75, healthy: true, warnings: [] });
    expect(h.currentTask).toMatchObject({ id: "TASK-002", title: "Implement theme provider", status: "in_progress", assignedAgent: "me" });
    expect(h.lastActivity).toMatchObject({ taskId: "TASK-002", agentId: "me", notes: "Implementing theme context provider" });
  });

  test("stalled after 10 minutes without a heartbeat; blocked tasks listed; 404 for unknown streams", async () => {
    const { store, get } = await setup({ now: () => Date.now() + 11 * 60_000 });
    await ageActivity(store, "TASK-002", 0);
    await updateTask(store, { id: "TASK-010", status: "blocked", blockedReason: "needs Stream-A" });
    const a = (await get("/api/streams/Stream-A/health")).body;
    expect(a.healthy).toBe(false);
    expect(a.warnings).toEqual([{ type: "stalled", taskId: "TASK-002", message: "TASK-002 in progress with no heartbeat for 11 minutes" }]);
    const b = (await get("/api/streams/Stream-B/health")).body;
    expect(b.warnings).toEqual([{ type: "blocked", taskId: "TASK-010", message: "TASK-010 blocked: needs Stream-A" }]);
    const x = await get("/api/streams/Stream-X/health");
    expect(x.status).toBe(404);
    expect(x.body).toEqual(guide.notFound);
  });
});

describe("GET /api/tasks", () => {
  test("the guide's task key for key (+ parentId, blockedReason, archived)", async () => {
    const { get } = await setup();
    const r = await get("/api/tasks?streamId=Stream-A&status=completed&limit=1");
    expect(r.status).toBe(200);
    const body = shape(shapes.taskListShape, r.body);
    expect(body.totalTasks).toBe(1);
    const t = body.tasks[0]!;
    expect(keys(t)).toEqual([...Object.keys(guide.task), "parentId", "blockedReason", "archived"].sort());
    const { createdAt: _c, updatedAt: _u, ...fixed } = guide.task;
    expect(t).toMatchObject(fixed);
    expect(t.metadata).toEqual(guide.task.metadata);
    expect(t.createdAt).toMatch(ISO);
  });

  test("each filter narrows: status, streamId, assignedAgent, prdId, limit", async () => {
    const { get } = await setup();
    const ids = async (q: string) => ((await get(`/api/tasks${q}`)).body.tasks as { id: string }[]).map((t) => t.id);
    expect(await ids("")).toEqual(["TASK-002", "TASK-001", "TASK-003", "TASK-004", "TASK-010"]);
    expect(await ids("?status=in_progress")).toEqual(["TASK-002"]);
    expect(await ids("?streamId=Stream-B")).toEqual(["TASK-010"]);
    expect(await ids("?assignedAgent=other")).toEqual(["TASK-010"]);
    expect(await ids("?prdId=PRD-001")).toEqual(["TASK-002", "TASK-001", "TASK-003", "TASK-004"]);
    expect(await ids("?prdId=PRD-001&status=completed&limit=2")).toEqual(["TASK-001", "TASK-003"]);
    expect(await ids("?status=")).toHaveLength(5); // an empty value is no filter
    expect((await get("/api/tasks?limit=2")).body.totalTasks).toBe(2);
  });
});

describe("GET /api/activity", () => {
  test("the guide's activity key for key; active only by default; active=false adds idle ones", async () => {
    const { store, get } = await setup();
    const r = await get("/api/activity");
    expect(r.status).toBe(200);
    const body = shape(shapes.activityListShape, r.body);
    expect(keys(body)).toEqual(["activities", "totalActive", "totalIdle"]);
    expect(body.totalActive).toBe(1);
    expect(body.totalIdle).toBe(0);
    const a = body.activities[0]!;
    expect(keys(a)).toEqual(keys(guide.activity));
    const { activityId: _i, startedAt: _s, lastHeartbeat: _l, ...fixed } = guide.activity;
    expect(a).toMatchObject(fixed);
    expect(a.activityId).toMatch(/^ACT-/);

    await updateTask(store, { id: "TASK-010", status: "in_progress" });
    await ageActivity(store, "TASK-010", 6);
    const active = (await get("/api/activity")).body;
    expect(active).toMatchObject({ totalActive: 1, totalIdle: 1 });
    expect(active.activities).toHaveLength(1);
    const all = (await get("/api/activity?active=false")).body;
    expect(all.activities.map((x: { taskId: string; isActive: boolean }) => [x.taskId, x.isActive])).toEqual([
      ["TASK-002", true],
      ["TASK-010", false],
    ]);
    expect((await get("/api/activity?streamId=Stream-B&active=false")).body.activities).toHaveLength(1);
    expect((await get("/api/activity?streamId=Stream-B")).body.activities).toHaveLength(0);
  });
});

describe("bad requests: 400 with error and details, never a 500", () => {
  const cases: [string, string, string][] = [
    ["/api/tasks?limit=abc", "limit", 'Invalid query parameter: limit must be an integer from 1 to 5000 (got "abc")'],
    ["/api/tasks?limit=0", "limit", 'Invalid query parameter: limit must be an integer from 1 to 5000 (got "0")'],
    ["/api/tasks?limit=5001", "limit", 'Invalid query parameter: limit must be an integer from 1 to 5000 (got "5001")'],
    ["/api/tasks?limit=-1", "limit", 'Invalid query parameter: limit must be an integer from 1 to 5000 (got "-1")'],
    ["/api/tasks?limit=1.5", "limit", 'Invalid query parameter: limit must be an integer from 1 to 5000 (got "1.5")'],
    [
      "/api/tasks?status=done",
      "status",
      'Invalid query parameter: status must be one of pending, in_progress, blocked, completed, cancelled (got "done")',
    ],
    ["/api/streams?includeArchived=maybe", "includeArchived", 'Invalid query parameter: includeArchived must be true or false (got "maybe")'],
    ["/api/streams/Stream-A?includeArchived=yes", "includeArchived", 'Invalid query parameter: includeArchived must be true or false (got "yes")'],
    ["/api/activity?active=perhaps", "active", 'Invalid query parameter: active must be true or false (got "perhaps")'],
    [
      "/api/tasks?streamId=..%2Fetc",
      "streamId",
      `Invalid query parameter: streamId must start with a letter or digit and contain only letters, digits, '.', '_' or '-' (got "../etc")`,
    ],
    [
      "/api/streams/bad%20id",
      "streamId",
      `Invalid path parameter: streamId must start with a letter or digit and contain only letters, digits, '.', '_' or '-' (got "bad id")`,
    ],
    ["/api/events?lastEventId=x", "lastEventId", 'Invalid query parameter: lastEventId must be a non-negative integer (got "x")'],
  ];
  for (const [path, param, error] of cases) {
    test(path, async () => {
      const { get } = await setup();
      const r = await get(path);
      expect(r.status).toBe(400);
      expect(r.body.error).toBe(error);
      expect(r.body.details).toEqual([expect.objectContaining({ param, message: expect.any(String) })]);
      shape(shapes.errorShape, r.body);
    });
  }

  test("several bad parameters: each named once", async () => {
    const { get } = await setup();
    const r = await get("/api/tasks?limit=abc&status=done&assignedAgent=" + "x".repeat(201));
    expect(r.status).toBe(400);
    expect(r.body.details.map((d: { param: string }) => d.param).sort()).toEqual(["assignedAgent", "limit", "status"]);
    expect(r.body.error).toStartWith("Invalid query parameters: ");
  });

  test("fuzzed paths and queries: always JSON, never 500", async () => {
    const { get } = await setup();
    const weird = [
      "/api/streams/%E0%A4%A",
      "/api/streams/%00",
      "/api/tasks?%E0%A4%A=1",
      "/api/tasks?limit=%FF",
      "/api/tasks?status[]=x",
      "/api/tasks?limit=1&limit=abc",
      "/api/streams/" + "A".repeat(5000),
      "/api/streams/Stream-A/health/extra",
      "/api/streams//health",
      "/api/../health",
      "/api/activity?streamId=%F0%9F%92%A9",
      "/api/tasks?" + "a=1&".repeat(2000),
      "/api/streams?initiativeId=" + encodeURIComponent("'; DROP TABLE tasks; --"),
    ];
    for (const path of weird) {
      const r = await get(path);
      expect([200, 400, 404]).toContain(r.status);
      expect(typeof r.body).toBe("object");
      expect(JSON.stringify(r.body)).not.toContain("    at ");
    }
    expect((await get("/api/tasks")).body.totalTasks).toBe(5); // still all there
  });

  test("an unexpected failure is a bare 500 JSON and one log line, no stack", async () => {
    const store = await openTestStore(join(tempDir(), "t.db"));
    const lines: string[] = [];
    const app = await createApp(store, { log: (l) => lines.push(l) });
    await store.close();
    const res = await app.request("/api/tasks");
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "Internal server error" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith("orch: GET /api/tasks failed: ");
  });
});

describe("unknown routes, methods, CORS", () => {
  test("404 JSON for unknown paths and for methods other than GET", async () => {
    const { app, get } = await setup();
    for (const path of ["/", "/api", "/api/nope", "/api/streams/Stream-A/tasks", "/favicon.ico"]) {
      const r = await get(path);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: "Not found", path });
    }
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const res = await app.request("/api/streams", { method });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: "Not found", path: "/api/streams" });
    }
    expect((await get("/api/streams/")).status).toBe(200); // a trailing slash is fine
  });

  test("no CORS headers, not even to a preflight", async () => {
    const { app } = await setup();
    const origin = { Origin: "https://evil.example" };
    for (const res of [
      await app.request("/api/streams", { headers: origin }),
      await app.request("/api/streams", { method: "OPTIONS", headers: { ...origin, "Access-Control-Request-Method": "GET" } }),
    ]) {
      for (const [k] of res.headers) expect(k.toLowerCase().startsWith("access-control-")).toBe(false);
    }
  });
});

describe("security middleware", () => {
  test("token: 401 without or with a wrong one, 200 with it; applies to every route but /health", async () => {
    const { get } = await setup({ token: "s3cret-token-value" });
    const none = await get("/api/streams");
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: "Unauthorized: send Authorization: Bearer <ORCH_API_TOKEN>" });
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="orch"');
    for (const bad of ["Bearer wrong", "Bearer s3cret-token-valu", "Bearer s3cret-token-value2", "Basic czNjcmV0", "s3cret-token-value"]) {
      const r = await get("/api/activity", { Authorization: bad });
      expect(r.status).toBe(401);
    }
    expect((await get("/api/activity", { Authorization: "Bearer s3cret-token-value" })).status).toBe(200);
    // /health identifies the server to clients before they send a token (src/api/peer.ts).
    expect((await get("/health")).status).toBe(200);
    expect((await get("/api/tasks", { Authorization: "bearer s3cret-token-value" })).status).toBe(200);
    expect((await get("/nope", { Authorization: "Bearer s3cret-token-value" })).status).toBe(404);
    expect((await get("/nope")).status).toBe(401); // nothing, not even "no such route", without the token
  });

  test("Host check: the bound host and localhost pass, any other name is 403 (DNS rebinding)", async () => {
    const { get } = await setup({ host: "127.0.0.1" });
    for (const host of ["127.0.0.1:9090", "localhost:9090", "LOCALHOST", "[::1]:9090", "127.0.0.1"]) {
      expect((await get("/health", { Host: host })).status).toBe(200);
    }
    for (const host of ["evil.example", "evil.example:9090", "127.0.0.1.nip.io:9090", "192.168.1.10:9090", "localhost.evil.example"]) {
      const r = await get("/api/streams", { Host: host });
      expect(r.status).toBe(403);
      expect(r.body.error).toContain("DNS rebinding");
    }
  });

  test("Host check for a wildcard bind also accepts this machine's addresses; the token still applies", async () => {
    const { networkInterfaces } = await import("node:os");
    const addr = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    const { get } = await setup({ host: "0.0.0.0", token: "tok-tok-tok-tok" });
    const auth = { Authorization: "Bearer tok-tok-tok-tok" };
    if (addr) expect((await get("/health", { Host: `${addr}:9090`, ...auth })).status).toBe(200);
    expect((await get("/health", { Host: "evil.example", ...auth })).status).toBe(403);
    expect((await get("/api/streams", { Host: "localhost:1" })).status).toBe(401);
  });
});

describe("GET /openapi.json", () => {
  test("every route, with query parameters generated from the very schemas that validate them", async () => {
    const { get } = await setup();
    const r = await get("/openapi.json");
    expect(r.status).toBe(200);
    const doc = r.body;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/api/activity",
        "/api/agents",
        "/api/budget/{streamId}/raise",
        "/api/events",
        "/api/inbox",
        "/api/inbox/{id}",
        "/api/run",
        "/api/session",
        "/api/streams",
        "/api/streams/{streamId}",
        "/api/streams/{streamId}/archive",
        "/api/streams/{streamId}/conflicts",
        "/api/streams/{streamId}/health",
        "/api/streams/{streamId}/log",
        "/api/streams/{streamId}/merge",
        "/api/streams/{streamId}/unarchive",
        "/api/streams/{streamId}/work-products",
        "/api/streams/{streamId}/worktree",
        "/api/tasks",
        "/api/work-products/{id}",
        "/health",
        "/openapi.json",
      ].sort(),
    );
    // A write: POST only, its JSON body described from the schema that validates it.
    expect(Object.keys(doc.paths["/api/inbox/{id}"])).toEqual(["post"]);
    const answer = doc.paths["/api/inbox/{id}"].post;
    expect(answer.parameters[0]).toMatchObject({ name: "id", in: "path", required: true });
    const body = answer.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(["decision"]);
    expect(body.properties.decision.enum).toEqual(["allow", "deny"]);
    expect(body.properties.reason.maxLength).toBe(2000);
    expect(body.additionalProperties).toBe(false);
    expect(Object.keys(answer.responses).sort()).toEqual(["200", "400", "401", "403", "404", "409", "415"]);
    expect(answer.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/InboxEntry" });
    expect(doc.paths["/api/agents"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/AgentList" });
    expect(doc.paths["/api/inbox"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/InboxList" });
    expect(doc.paths["/api/events"].get.description).toContain("agent|inbox|budget");
    const params = (path: string) => doc.paths[path].get.parameters as { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
    const queryNames = (path: string) => params(path).filter((p) => p.in === "query").map((p) => p.name);
    expect(queryNames("/api/tasks")).toEqual(Object.keys(taskListQuery.shape));
    expect(queryNames("/api/streams")).toEqual(Object.keys(streamListQuery.shape));
    expect(queryNames("/api/streams/{streamId}")).toEqual(Object.keys(streamGetQuery.shape));
    expect(queryNames("/api/activity")).toEqual(Object.keys(activityQuery.shape));
    expect(params("/api/streams/{streamId}")[0]).toMatchObject({ name: "streamId", in: "path", required: true });
    const status = params("/api/tasks").find((p) => p.name === "status")!;
    expect(status.required).toBe(false);
    expect((status.schema.enum as string[]).sort()).toEqual([...TASK_STATUSES].sort());
    expect(params("/api/tasks").find((p) => p.name === "limit")!.schema).toMatchObject({ type: "string", pattern: "^[0-9]+$" });
  });

  test("response schemas are the shapes every answer is held to, with the actual keys", async () => {
    const { get } = await setup();
    const doc = (await get("/openapi.json")).body;
    const schemas = doc.components.schemas;
    expect(doc.paths["/api/streams"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/StreamList" });
    expect(doc.paths["/api/streams/{streamId}"].get.responses["404"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
    const stream = (await get("/api/streams")).body.streams[0];
    expect([...schemas.Stream.required].sort()).toEqual(keys(stream));
    expect(schemas.Stream.additionalProperties).toBe(false);
    const task = (await get("/api/tasks?limit=1")).body.tasks[0];
    expect([...schemas.Task.required].sort()).toEqual(keys(task));
    expect(schemas.Task.properties.createdAt).toMatchObject({ type: "string", format: "date-time" });
    expect(schemas.StreamList.properties.streams.items).toEqual({ $ref: "#/components/schemas/Stream" });
    // Every $ref points at a component that exists.
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) expect(schemas).toHaveProperty(ref.split("/").pop()!.replace('"', ""));
  });
});

describe("GET /api/events through app.request", () => {
  test("starts with a snapshot of streams, activities and overall, with the latest event id", async () => {
    const { app } = await setup();
    const ac = new AbortController();
    const res = await app.request("/api/events", { signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache, no-transform");
    for await (const m of sseMessages(res.body!)) {
      expect(m.event).toBe("snapshot");
      expect(Number(m.id)).toBeGreaterThan(0);
      const snap = shape(shapes.snapshotShape, JSON.parse(m.data));
      expect(snap.streams.map((s) => s.streamId)).toEqual(["Stream-A", "Stream-B"]);
      expect(snap.streams[0]!.branchName).toBe("main");
      expect(snap.activities.map((a) => a.taskId)).toEqual(["TASK-002"]);
      expect(snap.overall).toEqual({ totalTasks: 5, completedTasks: 3, inProgressTasks: 1, blockedTasks: 0, pendingTasks: 1, progressPercentage: 60, status: "in_progress" });
      break;
    }
    ac.abort();
  });

  test("HEAD answers the headers without subscribing anyone", async () => {
    const { app, store } = await setup();
    const res = await app.request("/api/events", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(await res.text()).toBe("");
    const { sharedChangeFeed } = await import("../../src/core/change-feed.ts");
    expect((await sharedChangeFeed(store)).listenerCount).toBe(0);
  });
});

describe("GET /api/tasks pages", () => {
  test("a page at a time: nextCursor and matchingTasks only when more match; the pages cover every task once; a bad cursor is 400", async () => {
    const { get, store } = await setup();
    const { createTask } = await import("../../src/core/tasks.ts");
    for (let i = 0; i < 25; i++) await createTask(store, { id: `PG-${i}`, title: `t${i}`, metadata: { streamId: "Paged" } });
    const all = await get("/api/tasks?streamId=Paged");
    expect(Object.keys(all.body).sort()).toEqual(["tasks", "totalTasks"]); // the guide's shape when it all fits
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let n = 0; n < 10; n++) {
      const r = await get(`/api/tasks?streamId=Paged&limit=10${cursor ? `&cursor=${cursor}` : ""}`);
      const body = shape(shapes.taskListShape, r.body);
      seen.push(...body.tasks.map((t) => t.id));
      if (!body.nextCursor) break;
      expect(body.matchingTasks).toBe(25);
      cursor = body.nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `PG-${i}`));
    expect((await get("/api/tasks?cursor=abc")).status).toBe(400);
  });
});
