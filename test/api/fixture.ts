/** The guide's API Reference example, rebuilt through the core, and the guide's example bodies. */
import { eq } from "drizzle-orm";
import { agentActivity } from "../../src/db/schema.ts";
import type { Store } from "../../src/db/client.ts";
import { createPrd, createTask, heartbeat, updateTask } from "../../src/core/index.ts";

/** Stream-A "foundation": 4 tasks, 3 completed, 1 in progress (75.0 %), agent "me" on TASK-002. */
export async function guideData(s: Store): Promise<void> {
  await createPrd(s, { id: "PRD-001", title: "Theme system", content: "# Initiative: Theme" });
  await createTask(s, {
    id: "TASK-002",
    title: "Implement theme provider",
    prdId: "PRD-001",
    assignedAgent: "me",
    metadata: { streamId: "Stream-A", streamName: "foundation", streamPhase: "foundation", files: ["src/provider.ts"] },
  });
  await createTask(s, {
    id: "TASK-001",
    prdId: "PRD-001",
    title: "Create theme types",
    description: "Define TypeScript interfaces",
    assignedAgent: "me",
    metadata: { streamId: "Stream-A", complexity: "Medium", files: ["src/types/theme.ts"] },
  });
  await createTask(s, { id: "TASK-003", title: "Theme tokens", prdId: "PRD-001", metadata: { streamId: "Stream-A" } });
  await createTask(s, { id: "TASK-004", title: "Theme tests", prdId: "PRD-001", metadata: { streamId: "Stream-A" } });
  await updateTask(s, { id: "TASK-001", status: "completed", notes: "Completed successfully" });
  await updateTask(s, { id: "TASK-003", status: "completed" });
  await updateTask(s, { id: "TASK-004", status: "completed" });
  await updateTask(s, { id: "TASK-002", status: "in_progress" });
  await heartbeat(s, { taskId: "TASK-002", agentId: "me", phase: "implementation", notes: "Implementing theme context provider" });
  // A parallel stream that depends on it, with one task.
  await createTask(s, {
    id: "TASK-010",
    title: "Command updates",
    assignedAgent: "other",
    metadata: { streamId: "Stream-B", streamName: "commands", streamPhase: "parallel", dependencies: ["Stream-A"], files: ["src/cmd.ts"] },
  });
}

/** Make an agent's heartbeat `minutes` old (tests cannot wait five minutes). */
export async function ageActivity(s: Store, taskId: string, minutes: number): Promise<void> {
  await s.tx((db) =>
    db
      .update(agentActivity)
      .set({ lastHeartbeat: new Date(Date.now() - minutes * 60_000).toISOString() })
      .where(eq(agentActivity.taskId, taskId)),
  );
}

// The guide's example bodies (orchestration-system-guide.md, "API Reference"), verbatim.
export const guide = {
  health: { status: "ok", timestamp: "2026-01-08T12:00:00.000Z" },
  streamListItem: {
    streamId: "Stream-A",
    streamName: "foundation",
    streamPhase: "foundation",
    totalTasks: 4,
    completedTasks: 3,
    inProgressTasks: 1,
    blockedTasks: 0,
    pendingTasks: 0,
    progressPercentage: 75.0,
    status: "in_progress",
    dependencies: [],
    worktreePath: null,
    branchName: "main",
    files: ["src/theme.ts", "src/provider.ts"],
  },
  streamDetail: {
    streamId: "Stream-A",
    streamName: "foundation",
    streamPhase: "foundation",
    totalTasks: 4,
    completedTasks: 3,
    inProgressTasks: 1,
    progressPercentage: 75.0,
    status: "in_progress",
    dependencies: [],
    worktreePath: null,
    branchName: "main",
    tasks: [
      {
        id: "TASK-001",
        title: "Create theme types",
        status: "completed",
        assignedAgent: "me",
        createdAt: "2026-01-08T10:00:00.000Z",
        updatedAt: "2026-01-08T10:30:00.000Z",
      },
    ],
  },
  notFound: { error: "Stream not found", streamId: "Stream-X" },
  task: {
    id: "TASK-001",
    prdId: "PRD-001",
    title: "Create theme types",
    description: "Define TypeScript interfaces",
    assignedAgent: "me",
    status: "completed",
    notes: "Completed successfully",
    metadata: { streamId: "Stream-A", complexity: "Medium", files: ["src/types/theme.ts"] },
    createdAt: "2026-01-08T10:00:00.000Z",
    updatedAt: "2026-01-08T10:30:00.000Z",
  },
  activity: {
    activityId: "ACT-001",
    taskId: "TASK-002",
    taskTitle: "Implement theme provider",
    agentId: "me",
    streamId: "Stream-A",
    streamName: "foundation",
    phase: "implementation",
    startedAt: "2026-01-08T11:00:00.000Z",
    lastHeartbeat: "2026-01-08T11:05:00.000Z",
    isActive: true,
    notes: "Implementing theme context provider",
  },
};
