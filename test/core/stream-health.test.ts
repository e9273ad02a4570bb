import { describe, expect, test } from "bun:test";
import type { ActivityView, StreamView, TaskView } from "../../src/core/index.ts";
import { assessStreamHealth, STALL_AFTER_MS, streamHealth } from "../../src/core/stream-health.ts";
import { createTask, heartbeat, updateTask } from "../../src/core/index.ts";
import { tempStore } from "../helpers.ts";

const T0 = Date.parse("2026-01-08T11:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

const stream = (over: Partial<StreamView> = {}): StreamView => ({
  streamId: "Stream-A",
  streamName: "foundation",
  streamPhase: "foundation",
  totalTasks: 2,
  completedTasks: 0,
  inProgressTasks: 1,
  blockedTasks: 0,
  pendingTasks: 1,
  progressPercentage: 0,
  status: "in_progress",
  dependencies: [],
  worktreePath: null,
  branchName: null,
  files: [],
  archived: false,
  initiativeId: null,
  ...over,
});

const task = (id: string, status: TaskView["status"], updatedMs: number, over: Partial<TaskView> = {}): TaskView => ({
  id,
  prdId: null,
  parentId: null,
  title: `title ${id}`,
  description: null,
  assignedAgent: "me",
  status,
  blockedReason: null,
  notes: null,
  metadata: { streamId: "Stream-A" },
  archived: false,
  createdAt: iso(T0),
  updatedAt: iso(updatedMs),
  ...over,
});

const activity = (taskId: string, beatMs: number): ActivityView => ({
  activityId: `ACT-${taskId}`,
  taskId,
  taskTitle: `title ${taskId}`,
  agentId: "me",
  streamId: "Stream-A",
  streamName: "foundation",
  phase: null,
  startedAt: iso(T0),
  lastHeartbeat: iso(beatMs),
  isActive: true,
  notes: null,
});

describe("assessStreamHealth (pure)", () => {
  test("healthy: current task, newest heartbeat, no warnings", () => {
    const h = assessStreamHealth(stream(), [task("T-1", "in_progress", T0), task("T-2", "pending", T0)], [activity("T-1", T0 + 60_000)], T0 + 120_000);
    expect(h).toEqual({
      streamId: "Stream-A",
      status: "in_progress",
      progressPercentage: 0,
      healthy: true,
      currentTask: { id: "T-1", title: "title T-1", status: "in_progress", assignedAgent: "me", updatedAt: iso(T0) },
      lastActivity: activity("T-1", T0 + 60_000),
      lastActivityAt: iso(T0 + 60_000),
      warnings: [],
      checkedAt: iso(T0 + 120_000),
    });
  });

  test("stalled at exactly 10 minutes without a heartbeat, not a millisecond before", () => {
    const tasks = [task("T-1", "in_progress", T0)];
    const beats = [activity("T-1", T0 + 1000)];
    expect(assessStreamHealth(stream(), tasks, beats, T0 + 1000 + STALL_AFTER_MS - 1).warnings).toEqual([]);
    const h = assessStreamHealth(stream(), tasks, beats, T0 + 1000 + STALL_AFTER_MS + 120_000);
    expect(h.healthy).toBe(false);
    expect(h.warnings).toEqual([{ type: "stalled", taskId: "T-1", message: "T-1 in progress with no heartbeat for 12 minutes" }]);
  });

  test("a task updated recently is not stalled even without any activity row", () => {
    const h = assessStreamHealth(stream(), [task("T-1", "in_progress", T0 + STALL_AFTER_MS)], [], T0 + STALL_AFTER_MS + 1000);
    expect(h.warnings).toEqual([]);
    expect(h.lastActivity).toBeNull();
    expect(h.lastActivityAt).toBe(iso(T0 + STALL_AFTER_MS));
  });

  test("blocked tasks are warnings with their reason", () => {
    const h = assessStreamHealth(
      stream({ status: "blocked", inProgressTasks: 0, blockedTasks: 2 }),
      [task("T-1", "blocked", T0, { blockedReason: "waiting on API keys" }), task("T-2", "blocked", T0)],
      [],
      T0,
    );
    expect(h.currentTask).toBeNull();
    expect(h.warnings).toEqual([
      { type: "blocked", taskId: "T-1", message: "T-1 blocked: waiting on API keys" },
      { type: "blocked", taskId: "T-2", message: "T-2 blocked" },
    ]);
  });
});

describe("streamHealth (through the core)", () => {
  test("reads the stream, its tasks and open activities", async () => {
    const s = await tempStore();
    await createTask(s, { id: "T-1", title: "one", metadata: { streamId: "Stream-A" } });
    await updateTask(s, { id: "T-1", status: "in_progress", assignedAgent: "me" });
    await heartbeat(s, { taskId: "T-1", agentId: "me", notes: "typing" });
    const now = Date.now();
    const h = await streamHealth(s, "Stream-A", { nowMs: now });
    expect(h.currentTask?.id).toBe("T-1");
    expect(h.lastActivity).toMatchObject({ taskId: "T-1", agentId: "me", notes: "typing" });
    expect(h.healthy).toBe(true);
    expect((await streamHealth(s, "Stream-A", { nowMs: now + STALL_AFTER_MS + 60_000 })).warnings[0]?.type).toBe("stalled");
    await expect(streamHealth(s, "Stream-X")).rejects.toThrow("Stream not found: Stream-X");
  });
});
