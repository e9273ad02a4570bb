import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { z } from "zod";
import { openStore } from "../../src/db/client.ts";
import { openTestStore } from "../backend.ts";
import { createMcpServer, describeFailure, toolListing } from "../../src/mcp/server.ts";
import { defineTool, listTool } from "../../src/mcp/tool.ts";
import { allTools } from "../../src/mcp/tools/index.ts";
import { VERSION } from "../../src/version.ts";
import { tempDir, tempStore } from "../helpers.ts";
import { connect } from "./helpers.ts";

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const IN_SCOPE = [
  "health_check",
  "initiative_link",
  "initiative_get",
  "progress_summary",
  "prd_create",
  "prd_get",
  "prd_list",
  "task_create",
  "task_update",
  "task_get",
  "task_list",
  "work_product_store",
  "work_product_get",
  "work_product_list",
  "agent_heartbeat",
  "stream_list",
  "stream_get",
  "stream_conflict_check",
  "stream_archive",
  "stream_unarchive",
  "stream_archive_all",
  // Claude Code's --permission-prompt-tool for headless agents (the inbox).
  "permission_prompt",
];
/** SPEC's worktree tools arrive from another module; the budget keeps room for them. */
const WORKTREE_TOOLS = ["worktree_create", "worktree_list", "worktree_merge", "worktree_cleanup"];
const BUDGET_BYTES = 12_000;
const WORKTREE_RESERVE_BYTES = 375; // per worktree tool not registered yet (≈1,500 for the four)

/** Three streams as the guide's example: A foundation, B and C parallel on A. */
async function seedStreams(s: Awaited<ReturnType<typeof connect>>) {
  await s.ok("task_create", { id: "TASK-001", title: "Theme types", metadata: { streamId: "Stream-A", streamName: "Core Theme", streamPhase: "foundation", files: ["src/theme/"] } });
  await s.ok("task_create", { id: "TASK-002", title: "Provider", metadata: { streamId: "Stream-A", files: ["src/provider.ts"] } });
  await s.ok("task_create", { id: "TASK-005", title: "Button", metadata: { streamId: "Stream-B", streamName: "UI", streamPhase: "parallel", dependencies: ["Stream-A"], files: ["src/components/Button.tsx"] } });
  await s.ok("task_create", { id: "TASK-008", title: "Dashboard", metadata: { streamId: "Stream-C", streamName: "Pages", streamPhase: "parallel", dependencies: ["Stream-A"], files: ["./src/pages/Dashboard.tsx"] } });
}

describe("tools/list", () => {
  test("lists exactly the tools in scope, each with a terse description and an object schema", async () => {
    const s = await connect(await tempStore());
    const { tools } = await s.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names.filter((n) => !WORKTREE_TOOLS.includes(n)).sort()).toEqual([...IN_SCOPE].sort());
    for (const t of tools) {
      expect(t.description!.length).toBeGreaterThan(5);
      expect(t.description!.length).toBeLessThanOrEqual(140);
      expect(t.inputSchema.type).toBe("object");
      expect(JSON.stringify(t.inputSchema)).not.toContain("$schema");
    }
  });

  test(`the whole answer fits ${BUDGET_BYTES} bytes of JSON, with room left for the worktree tools`, async () => {
    const s = await connect(await tempStore());
    const answer = await s.client.listTools();
    const bytes = Buffer.byteLength(JSON.stringify({ tools: toolListing() }));
    expect(Buffer.byteLength(JSON.stringify(answer))).toBe(bytes);
    const missing = WORKTREE_TOOLS.filter((n) => !answer.tools.some((t) => t.name === n)).length;
    expect(bytes).toBeLessThanOrEqual(BUDGET_BYTES);
    expect(bytes + missing * WORKTREE_RESERVE_BYTES).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  test("argument names follow the guide; required ones are marked", async () => {
    const byName = Object.fromEntries(toolListing().map((t) => [t.name, t.inputSchema]));
    const props = (n: string) => Object.keys(byName[n]!.properties ?? {}).sort();
    expect(props("prd_create")).toEqual(expect.arrayContaining(["title", "content", "description", "metadata"]));
    expect(byName.prd_create!.required).toEqual(["title", "content"]);
    expect(props("task_create")).toEqual(expect.arrayContaining(["title", "description", "prdId", "parentId", "assignedAgent", "metadata"]));
    expect(props("task_update")).toEqual(expect.arrayContaining(["id", "status", "assignedAgent", "notes", "blockedReason", "metadata"]));
    expect(byName.task_update!.required).toEqual(["id"]);
    expect(props("task_list")).toEqual(["assignedAgent", "cursor", "full", "includeArchived", "limit", "parentId", "prdId", "status", "streamId"]);
    expect(props("stream_list")).toEqual(["full", "includeArchived", "initiativeId"]);
    expect(props("stream_get")).toEqual(["includeArchived", "streamId"]);
    expect(props("stream_conflict_check")).toEqual(["files", "streamId"]);
    expect(byName.stream_conflict_check!.required).toEqual(["files"]);
    expect(props("stream_archive")).toEqual(["streamId"]);
    expect(props("agent_heartbeat")).toEqual(["agentId", "notes", "phase", "taskId"]);
    expect(byName.agent_heartbeat!.required).toEqual(["taskId", "agentId"]);
    expect((byName.task_update!.properties as any).status.enum).toEqual(["pending", "in_progress", "blocked", "completed", "cancelled"]);
  });

  test("the listing built at bundle time is the one the tool definitions give", () => {
    expect(toolListing()).toEqual(allTools().map(listTool) as never);
  });

  test("read-only tools say so; writing tools do not", () => {
    const ro = toolListing().filter((t) => t.annotations?.readOnlyHint).map((t) => t.name);
    expect(ro).toContain("task_list");
    expect(ro).toContain("stream_conflict_check");
    for (const w of ["task_create", "task_update", "stream_archive", "agent_heartbeat", "prd_create"]) expect(ro).not.toContain(w);
  });
});

describe("every result is one JSON text item", () => {
  test("health_check", async () => {
    const store = await tempStore();
    const s = await connect(store);
    const r = await s.raw("health_check", {});
    expect(r.isError).toBeFalsy();
    expect(r.content).toHaveLength(1);
    const h = JSON.parse((r.content[0] as { text: string }).text);
    expect(h).toEqual({ status: "ok", timestamp: expect.stringMatching(ISO_MS), version: VERSION, database: store.path });
  });
});

describe("initiatives and progress", () => {
  test("initiative_link, initiative_get (current by default), progress_summary", async () => {
    const s = await connect(await tempStore());
    expect(await s.fail("initiative_get")).toBe("No initiative linked: use initiative_link or `orch prd import`");
    const i = await s.ok("initiative_link", { initiativeId: "INIT-1", title: "Dark mode" });
    expect(i.createdAt).toMatch(ISO_MS);
    expect(i).toMatchObject({ id: "INIT-1", name: "Dark mode" });
    expect(await s.ok("initiative_get")).toMatchObject({ id: "INIT-1" });
    expect(await s.ok("initiative_get", { initiativeId: "INIT-1" })).toMatchObject({ name: "Dark mode" });
    expect(await s.fail("initiative_get", { initiativeId: "INIT-9" })).toBe("Initiative not found: INIT-9");
    await seedStreams(s);
    await s.ok("task_update", { id: "TASK-001", status: "completed" });
    const p = await s.ok("progress_summary");
    expect(p.initiative.id).toBe("INIT-1");
    expect(p.tasks).toMatchObject({ total: 4, completed: 1, pending: 3 });
    expect(p.overall).toMatchObject({ totalTasks: 4, completedTasks: 1, progressPercentage: 25, status: "in_progress" });
    expect(p.streams.map((x: any) => x.streamId)).toEqual(["Stream-A", "Stream-B", "Stream-C"]);
    expect(await s.fail("initiative_link", { initiativeId: "INIT-2" })).toBe(
      "Invalid arguments for initiative_link: title: Invalid input: expected string, received undefined",
    );
  });
});

describe("PRDs", () => {
  test("prd_create, prd_get, prd_list", async () => {
    const s = await connect(await tempStore());
    await s.ok("initiative_link", { initiativeId: "INIT-1", title: "Dark mode" });
    const p = await s.ok("prd_create", { title: "Dark mode PRD", content: "# Initiative: Dark mode", description: "d", metadata: { owner: "qa" } });
    expect(p.id).toMatch(/^PRD-[0-9a-f]{12}$/);
    expect(p).toMatchObject({ initiativeId: "INIT-1", title: "Dark mode PRD", metadata: { owner: "qa" }, taskCount: 0 });
    expect(p.content).toBeUndefined();
    await s.ok("task_create", { title: "t", prdId: p.id });
    expect(await s.ok("prd_get", { id: p.id })).toMatchObject({ content: "# Initiative: Dark mode", taskCount: 1 });
    expect((await s.ok("prd_get", { id: p.id, includeContent: false })).content).toBeUndefined();
    await s.ok("prd_create", { id: "PRD-001", title: "Second", content: "" });
    const l = await s.ok("prd_list");
    expect(l.totalPrds).toBe(2);
    expect(l.prds.every((x: any) => x.content === undefined)).toBe(true);
    expect((await s.ok("prd_list", { initiativeId: "INIT-9" })).totalPrds).toBe(0);
  });

  test("errors: duplicate id, missing content, unknown id", async () => {
    const s = await connect(await tempStore());
    await s.ok("prd_create", { id: "PRD-001", title: "One", content: "x" });
    expect(await s.fail("prd_create", { id: "PRD-001", title: "Again", content: "x" })).toBe("PRD already exists: PRD-001");
    expect(await s.fail("prd_create", { title: "No content" })).toBe(
      "Invalid arguments for prd_create: content: Invalid input: expected string, received undefined",
    );
    expect(await s.fail("prd_get", { id: "PRD-404" })).toBe("PRD not found: PRD-404");
    expect((await s.ok("prd_list")).totalPrds).toBe(1);
  });
});

describe("tasks", () => {
  test("task_create with stream metadata creates the stream; task_get returns the API shape", async () => {
    const s = await connect(await tempStore());
    const t = await s.ok("task_create", {
      id: "TASK-001",
      title: "Create theme types",
      description: "Define TypeScript interfaces",
      assignedAgent: "me",
      metadata: { streamId: "Stream-A", streamName: "Core", streamPhase: "foundation", files: ["src/types/theme.ts"], complexity: "Medium" },
    });
    expect(Object.keys(t).sort()).toEqual(
      ["archived", "assignedAgent", "blockedReason", "createdAt", "description", "id", "metadata", "notes", "parentId", "prdId", "status", "title", "updatedAt"].sort(),
    );
    expect(t).toMatchObject({ id: "TASK-001", status: "pending", assignedAgent: "me", metadata: { streamId: "Stream-A", complexity: "Medium" } });
    expect(await s.ok("task_get", { id: "TASK-001" })).toEqual(t);
    const sub = await s.ok("task_create", { title: "Subtask", parentId: "TASK-001" });
    expect(sub.parentId).toBe("TASK-001");
    expect(sub.id).toMatch(/^TASK-[0-9a-f]{12}$/);
    expect((await s.ok("stream_get", { streamId: "Stream-A" })).streamName).toBe("Core");
  });

  test("task_update: status, notes, blocked reason, merged metadata; activity follows status", async () => {
    const s = await connect(await tempStore());
    await s.ok("task_create", { id: "T1", title: "t", metadata: { streamId: "Stream-A", files: ["a.ts"] } });
    const u = await s.ok("task_update", { id: "T1", status: "in_progress", assignedAgent: "agent-7", notes: "on it", metadata: { complexity: "High" } });
    // The answer is the task's summary (an agent reads every byte); task_get has all of it.
    expect(u).toEqual({ id: "T1", title: u.title, status: "in_progress", assignedAgent: "agent-7", streamId: "Stream-A", files: ["a.ts"] });
    expect(await s.ok("task_get", { id: "T1" })).toMatchObject({ notes: "on it", metadata: { streamId: "Stream-A", files: ["a.ts"], complexity: "High" } });
    const b = await s.ok("task_update", { id: "T1", status: "blocked", blockedReason: "waiting on API" });
    expect(b).toMatchObject({ status: "blocked", blockedReason: "waiting on API" });
    expect((await s.ok("stream_get", { streamId: "Stream-A" })).status).toBe("blocked");
    const c = await s.ok("task_update", { id: "T1", status: "completed", notes: "Feature implemented" });
    expect(c).toMatchObject({ status: "completed" });
    expect(c.blockedReason).toBeUndefined();
    expect(await s.ok("task_get", { id: "T1" })).toMatchObject({ blockedReason: null, notes: "Feature implemented" });
    const moved = await s.ok("task_update", { id: "T1", metadata: { streamId: "Stream-B" } });
    expect(moved.streamId).toBe("Stream-B");
    expect((await s.ok("stream_get", { streamId: "Stream-A" })).totalTasks).toBe(0);
  });

  test("errors name the task or the argument; nothing is written", async () => {
    const s = await connect(await tempStore());
    await s.ok("task_create", { id: "T1", title: "t" });
    expect(await s.fail("task_update", { id: "TASK-9", status: "completed" })).toBe("Task not found: TASK-9");
    expect(await s.fail("task_get", { id: "TASK-9" })).toBe("Task not found: TASK-9");
    expect(await s.fail("task_update", { id: "T1", status: "done" })).toBe(
      'Invalid arguments for task_update: status: invalid status "done" (expected one of pending, in_progress, blocked, completed, cancelled)',
    );
    expect(await s.fail("task_update", { id: "T1", note: "typo" })).toBe('Invalid arguments for task_update: unknown argument "note" (did you mean "notes"?)');
    expect(await s.fail("task_create", { title: "x", metadata: { streamPhase: "middle" } })).toBe(
      'Invalid arguments for task_create: metadata.streamPhase: invalid phase "middle" (expected one of foundation, parallel, integration)',
    );
    expect(await s.fail("task_create", { title: "x", metadata: { streamId: "../../etc" } })).toStartWith(
      "Invalid arguments for task_create: metadata.streamId: id must start with a letter or digit",
    );
    expect(await s.fail("task_create", { title: "   " })).toBe("Invalid arguments for task_create: title: title is required");
    expect(await s.fail("task_create", { title: "x", prdId: "PRD-9" })).toBe("PRD not found: PRD-9");
    expect(await s.fail("task_create", { title: "x", parentId: "T9" })).toBe("Parent task not found: T9");
    expect(await s.fail("task_create", { id: "T1", title: "dup" })).toBe("Task already exists: T1");
    expect(await s.fail("task_create", { title: "x", metadata: [1] })).toStartWith("Invalid arguments for task_create: metadata: Invalid input: expected object");
    expect(await s.fail("task_get", {})).toBe("Invalid arguments for task_get: id: Invalid input: expected string, received undefined");
    expect((await s.ok("task_list")).totalTasks).toBe(1);
    expect(await s.ok("task_get", { id: "T1" })).toMatchObject({ status: "pending", notes: null });
  });

  test("task_list filters: prdId, parentId, status, assignedAgent, streamId, includeArchived, limit", async () => {
    const s = await connect(await tempStore());
    await s.ok("prd_create", { id: "PRD-1", title: "p", content: "" });
    await s.ok("task_create", { id: "T1", title: "a", prdId: "PRD-1", assignedAgent: "me", metadata: { streamId: "Stream-A" } });
    await s.ok("task_create", { id: "T2", title: "b", parentId: "T1", metadata: { streamId: "Stream-B" } });
    await s.ok("task_create", { id: "T3", title: "c", status: "completed", metadata: { streamId: "Stream-B" } });
    const ids = async (f: Record<string, unknown>) => (await s.ok("task_list", f)).tasks.map((t: any) => t.id);
    expect(await ids({})).toEqual(["T1", "T2", "T3"]);
    expect(await ids({ prdId: "PRD-1" })).toEqual(["T1"]);
    expect(await ids({ parentId: "T1" })).toEqual(["T2"]);
    expect(await ids({ status: "completed" })).toEqual(["T3"]);
    expect(await ids({ assignedAgent: "me" })).toEqual(["T1"]);
    expect(await ids({ streamId: "Stream-B" })).toEqual(["T2", "T3"]);
    expect(await ids({ limit: 2 })).toEqual(["T1", "T2"]);
    await s.ok("stream_archive", { streamId: "Stream-B" });
    expect(await ids({})).toEqual(["T1"]);
    expect(await ids({ includeArchived: true })).toEqual(["T1", "T2", "T3"]);
    expect((await s.ok("task_list", { streamId: "Stream-B", includeArchived: true })).totalTasks).toBe(2);
    expect(await s.fail("task_list", { limit: 0 })).toBe("Invalid arguments for task_list: limit: Too small: expected number to be >=1");
    expect(await s.fail("task_list", { status: "open" })).toStartWith('Invalid arguments for task_list: status: invalid status "open"');
    // Small answers by default: summaries, a page of 50; the rest through nextCursor.
    for (let i = 0; i < 60; i++) await s.ok("task_create", { id: `MANY-${i}`, title: `many ${i}`, metadata: { streamId: "Many" } });
    const first = await s.ok("task_list", { streamId: "Many" });
    expect(first).toMatchObject({ totalTasks: 50, matchingTasks: 60 });
    expect(Object.keys(first.tasks[0]).sort()).toEqual(["assignedAgent", "id", "status", "streamId", "title"]);
    const second = await s.ok("task_list", { streamId: "Many", cursor: first.nextCursor, full: true });
    expect(second.tasks.map((t: any) => t.id)).toEqual(Array.from({ length: 10 }, (_, i) => `MANY-${50 + i}`));
    expect(second.tasks[0].metadata).toEqual({ streamId: "Many" });
    expect(second.nextCursor).toBeUndefined();
  });
});

describe("work products", () => {
  test("store, get, list; unknown task or product; bad type", async () => {
    const s = await connect(await tempStore());
    await s.ok("task_create", { id: "T1", title: "t" });
    const wp = await s.ok("work_product_store", { taskId: "T1", type: "technical_design", title: "Design", content: "# Design", metadata: { v: 1 } });
    expect(wp.id).toMatch(/^WP-[0-9a-f]{12}$/);
    expect(wp).toMatchObject({ taskId: "T1", type: "technical_design", content: "# Design", metadata: { v: 1 } });
    expect(await s.ok("work_product_get", { id: wp.id })).toEqual(wp);
    await s.ok("work_product_store", { taskId: "T1", type: "test_results", title: "Results", content: "all green" });
    const l = await s.ok("work_product_list", { taskId: "T1" });
    expect(l.totalWorkProducts).toBe(2);
    expect(l.workProducts.map((w: any) => w.type)).toEqual(["technical_design", "test_results"]);
    expect(l.workProducts[0].content).toBeUndefined();
    expect(await s.fail("work_product_store", { taskId: "T9", type: "other", title: "x", content: "" })).toBe("Task not found: T9");
    expect(await s.fail("work_product_store", { taskId: "T1", type: "essay", title: "x", content: "" })).toStartWith(
      'Invalid arguments for work_product_store: type: invalid type "essay" (expected one of technical_design,',
    );
    expect(await s.fail("work_product_get", { id: "WP-9" })).toBe("Work product not found: WP-9");
    expect(await s.fail("work_product_list", { taskId: "T9" })).toBe("Task not found: T9");
  });
});

describe("agent_heartbeat", () => {
  test("opens, then refreshes, the agent's activity on a task", async () => {
    const store = await tempStore();
    const s = await connect(store);
    await s.ok("task_create", { id: "T1", title: "Implement provider", metadata: { streamId: "Stream-A", streamName: "foundation" } });
    const a = await s.ok("agent_heartbeat", { taskId: "T1", agentId: "me", notes: "Implementing theme context provider", phase: "implementation" });
    expect(a.activityId).toMatch(/^ACT-[0-9a-f]{12}$/);
    expect(a).toMatchObject({
      taskId: "T1",
      taskTitle: "Implement provider",
      agentId: "me",
      streamId: "Stream-A",
      streamName: "foundation",
      phase: "implementation",
      isActive: true,
      notes: "Implementing theme context provider",
    });
    await Bun.sleep(2); // timestamps have millisecond resolution
    const b = await s.ok("agent_heartbeat", { taskId: "T1", agentId: "me" });
    expect(b.activityId).toBe(a.activityId);
    expect(b.lastHeartbeat > a.lastHeartbeat).toBe(true);
    expect(b.notes).toBe(a.notes);
    expect(await s.fail("agent_heartbeat", { taskId: "T9", agentId: "me" })).toBe("Task not found: T9");
    expect(await s.fail("agent_heartbeat", { taskId: "T1" })).toBe(
      "Invalid arguments for agent_heartbeat: agentId: Invalid input: expected string, received undefined",
    );
  });
});

describe("streams", () => {
  test("stream_list figures and stream_get detail", async () => {
    const s = await connect(await tempStore());
    await seedStreams(s);
    await s.ok("task_update", { id: "TASK-001", status: "completed" });
    await s.ok("task_update", { id: "TASK-002", status: "in_progress" });
    const l = await s.ok("stream_list");
    expect(l.totalStreams).toBe(3);
    expect(l.streams[0]).toMatchObject({
      streamId: "Stream-A",
      streamName: "Core Theme",
      streamPhase: "foundation",
      totalTasks: 2,
      completedTasks: 1,
      inProgressTasks: 1,
      blockedTasks: 0,
      pendingTasks: 0,
      progressPercentage: 50,
      status: "in_progress",
      dependencies: [],
      worktreePath: null,
      fileCount: 2,
    });
    expect(l.streams[1]).toMatchObject({ streamId: "Stream-B", dependencies: ["Stream-A"], progressPercentage: 0, status: "pending" });
    const g = await s.ok("stream_get", { streamId: "Stream-A" });
    expect(g.tasks.map((t: any) => [t.id, t.status])).toEqual([
      ["TASK-001", "completed"],
      ["TASK-002", "in_progress"],
    ]);
    expect(g.archived).toBe(false);
    expect(await s.fail("stream_get", { streamId: "Stream-X" })).toBe("Stream not found: Stream-X");
  });

  test("stream_conflict_check: any status, normalised paths, directories, own stream left out", async () => {
    const cwd = tempDir();
    const s = await connect(await tempStore(), { cwd });
    await seedStreams(s);
    await s.ok("task_update", { id: "TASK-005", status: "completed" }); // completed tasks still claim their files
    const r = await s.ok("stream_conflict_check", {
      streamId: "Stream-C",
      files: ["src/theme/colors.ts", "./src/components/Button.tsx", "src/pages/Dashboard.tsx", "docs/README.md"],
    });
    expect(r).toEqual({
      hasConflicts: true,
      conflictingStreams: [
        { streamId: "Stream-A", streamName: "Core Theme", conflictingFiles: ["src/theme/colors.ts"] },
        { streamId: "Stream-B", streamName: "UI", conflictingFiles: ["src/components/Button.tsx"] },
      ],
    });
    expect(await s.ok("stream_conflict_check", { streamId: "Stream-B", files: ["src/components/"] })).toEqual({ hasConflicts: false, conflictingStreams: [] });
    expect((await s.ok("stream_conflict_check", { files: ["src/components/"] })).conflictingStreams).toEqual([
      { streamId: "Stream-B", streamName: "UI", conflictingFiles: ["src/components/Button.tsx"] },
    ]);
    // An absolute path inside the session's checkout is the same file.
    expect((await s.ok("stream_conflict_check", { files: [join(cwd, "src/pages/Dashboard.tsx")] })).conflictingStreams[0].streamId).toBe("Stream-C");
    expect(await s.ok("stream_conflict_check", { files: [] })).toEqual({ hasConflicts: false, conflictingStreams: [] });
    await s.ok("stream_archive", { streamId: "Stream-A" });
    expect((await s.ok("stream_conflict_check", { files: ["src/theme/colors.ts"] })).hasConflicts).toBe(false);
    expect(await s.fail("stream_conflict_check", { streamId: "Stream-X", files: ["a.ts"] })).toBe("Stream not found: Stream-X");
    expect(await s.fail("stream_conflict_check", { streamId: "Stream-A" })).toBe(
      "Invalid arguments for stream_conflict_check: files: Invalid input: expected array, received undefined",
    );
    expect(await s.fail("stream_conflict_check", { files: "src/a.ts" })).toBe(
      "Invalid arguments for stream_conflict_check: files: Invalid input: expected array, received string",
    );
  });

  test("stream_archive, stream_unarchive, stream_archive_all", async () => {
    const s = await connect(await tempStore());
    await seedStreams(s);
    expect(await s.ok("stream_archive", { streamId: "Stream-A" })).toEqual({ streamId: "Stream-A", archived: true, tasksArchived: 2 });
    expect((await s.ok("stream_list")).streams.map((x: any) => x.streamId)).toEqual(["Stream-B", "Stream-C"]);
    expect(await s.fail("stream_get", { streamId: "Stream-A" })).toBe("Stream not found: Stream-A");
    expect(await s.ok("stream_get", { streamId: "Stream-A", includeArchived: true })).toMatchObject({ archived: true, totalTasks: 2 });
    expect((await s.ok("stream_list", { includeArchived: true })).totalStreams).toBe(3);
    expect(await s.ok("stream_unarchive", { streamId: "Stream-A" })).toEqual({ streamId: "Stream-A", archived: false, tasksUnarchived: 2 });
    expect((await s.ok("task_list")).totalTasks).toBe(4);
    expect(await s.ok("stream_archive_all")).toEqual({ archivedStreams: ["Stream-A", "Stream-B", "Stream-C"], tasksArchived: 4 });
    expect((await s.ok("stream_list")).totalStreams).toBe(0);
    expect(await s.ok("stream_archive_all")).toEqual({ archivedStreams: [], tasksArchived: 0 });
    expect(await s.fail("stream_archive", { streamId: "Stream-X" })).toBe("Stream not found: Stream-X");
    expect(await s.fail("stream_unarchive", { streamId: "Stream-X" })).toBe("Stream not found: Stream-X");
    expect(await s.fail("stream_archive", {})).toBe("Invalid arguments for stream_archive: streamId: Invalid input: expected string, received undefined");
  });

  test("stream_archive_all keeps to one initiative when asked", async () => {
    const s = await connect(await tempStore());
    await s.ok("initiative_link", { initiativeId: "INIT-1", title: "one" });
    await s.ok("task_create", { title: "a", metadata: { streamId: "Stream-A" } });
    await s.ok("initiative_link", { initiativeId: "INIT-2", title: "two" });
    await s.ok("task_create", { title: "b", metadata: { streamId: "Stream-B" } });
    expect((await s.ok("stream_list", { initiativeId: "INIT-1" })).streams.map((x: any) => x.streamId)).toEqual(["Stream-A"]);
    expect(await s.ok("stream_archive_all", { initiativeId: "INIT-2" })).toEqual({ archivedStreams: ["Stream-B"], tasksArchived: 1 });
    expect((await s.ok("stream_list")).streams.map((x: any) => x.streamId)).toEqual(["Stream-A"]);
  });
});

describe("protocol edges", () => {
  test("an unknown tool is a protocol error with a suggestion", async () => {
    const s = await connect(await tempStore());
    await expect(s.client.callTool({ name: "task_updat", arguments: {} })).rejects.toThrow("Unknown tool: task_updat (did you mean task_update?)");
  });

  test("missing arguments are read as {}", async () => {
    const s = await connect(await tempStore());
    const r = await s.client.callTool({ name: "stream_list" });
    expect(JSON.parse((r.content as any)[0].text)).toEqual({ streams: [], totalStreams: 0 });
  });

  test("an unexpected failure is isError naming the tool, and is logged", async () => {
    const logged: string[] = [];
    const boom = defineTool({
      name: "boom",
      description: "fails",
      input: z.strictObject({}),
      run: () => {
        throw new Error("disk on fire");
      },
    });
    const s = await connect(await tempStore(), { tools: [boom], log: (l) => logged.push(l) });
    expect(await s.fail("boom")).toBe("boom failed: disk on fire");
    expect(logged).toEqual(["orch mcp: boom failed: disk on fire"]); // one line, no stack
  });

  test("async tools are awaited (worktree tools will spawn git)", async () => {
    const slow = defineTool({
      name: "slow",
      description: "waits",
      input: z.strictObject({ ms: z.number() }),
      run: async (_ctx, a) => {
        await Bun.sleep(a.ms);
        return { waited: a.ms };
      },
    });
    const s = await connect(await tempStore(), { tools: [...allTools(), slow] });
    expect(await s.ok("slow", { ms: 5 })).toEqual({ waited: 5 });
  });
});

describe("several servers on one database", () => {
  test("a change through one is visible through the other at once", async () => {
    const path = join(tempDir(), "tasks.db");
    const a = await openTestStore(path);
    const b = await openTestStore(path);
    try {
      const one = await connect(a);
      const two = await connect(b);
      await one.ok("task_create", { id: "T1", title: "shared", metadata: { streamId: "Stream-A" } });
      expect(await two.ok("task_get", { id: "T1" })).toMatchObject({ title: "shared" });
      await two.ok("task_update", { id: "T1", status: "completed" });
      expect((await one.ok("stream_get", { streamId: "Stream-A" })).progressPercentage).toBe(100);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).ok("task_create", { id: `P${i}`, title: `p${i}`, metadata: { streamId: "Stream-B" } })),
      );
      expect((await one.ok("stream_get", { streamId: "Stream-B" })).totalTasks).toBe(20);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

test("createMcpServer serves a custom tool list (how the worktree group plugs in)", async () => {
  const extra = defineTool({ name: "worktree_list", description: "x", input: z.strictObject({}), run: () => ({ worktrees: [] }) });
  const server = createMcpServer(await tempStore(), { tools: [...allTools(), extra] });
  expect(server).toBeDefined();
  const names = toolListing([...allTools(), extra]).map((t) => t.name);
  expect(names).toContain("worktree_list");
});

describe("an unexpected failure is one line", () => {
  const coded = (code: string, message = "database or disk is full") => Object.assign(new Error(message), { code });

  test("by the error's code, never its wording: what happened and what to do", () => {
    expect(describeFailure(coded("SQLITE_FULL"))).toBe("the disk holding the database is full (SQLITE_FULL): free some space and call again");
    expect(describeFailure(coded("ENOSPC", "no space left on device, write"))).toBe("the disk is full (ENOSPC): free some space and call again");
    expect(describeFailure(coded("SQLITE_IOERR_WRITE", "disk I/O error"))).toBe("the disk could not be read or written (I/O error) (SQLITE_IOERR_WRITE)");
    expect(describeFailure(coded("SQLITE_READONLY_DBMOVED", "whatever it says"))).toBe("the database is read-only (SQLITE_READONLY_DBMOVED)");
    // The same words without the code are just words.
    expect(describeFailure(new Error("database or disk is full"))).toBe("database or disk is full");
  });

  test("otherwise the first line of the message, at most 300 characters", () => {
    expect(describeFailure(new Error("boom\n    at x (y.js:1:2)"))).toBe("boom");
    expect(describeFailure(new Error("z".repeat(1000)))).toBe(`${"z".repeat(300)}…`);
    expect(describeFailure("a string")).toBe("a string");
    expect(describeFailure(null)).toBe("null");
  });

  test("a tool that throws: isError with that line, and one log line without a stack", async () => {
    const store = await openTestStore(join(tempDir(), "tasks.db"));
    const log: string[] = [];
    const boom = defineTool({
      name: "boom",
      description: "fails",
      input: z.strictObject({}),
      run: () => {
        throw coded("SQLITE_FULL");
      },
    });
    const s = await connect(store, { tools: [boom], log: (l) => log.push(l) });
    expect(await s.fail("boom")).toBe("boom failed: the disk holding the database is full (SQLITE_FULL): free some space and call again");
    expect(log).toEqual(["orch mcp: boom failed: the disk holding the database is full (SQLITE_FULL): free some space and call again"]);
  });
});
