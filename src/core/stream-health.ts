/**
 * A stream's health: what it is working on, when it last showed life, and what needs a person
 * (stalled: in progress with no heartbeat for 10 minutes; blocked tasks with their reason).
 * `assessStreamHealth` is pure; `streamHealth` reads through the core.
 */
import type { Store } from "../db/client.ts";
import { listActivity, type ActivityView } from "./activity.ts";
import { getStream, type StreamView } from "./streams.ts";
import type { TaskView } from "./task-view.ts";

export const STALL_AFTER_MS = 10 * 60 * 1000;

export interface StreamHealthWarning {
  type: "stalled" | "blocked";
  taskId: string;
  message: string;
}

export interface StreamHealth {
  streamId: string;
  status: StreamView["status"];
  progressPercentage: number;
  healthy: boolean;
  currentTask: Pick<TaskView, "id" | "title" | "status" | "assignedAgent" | "updatedAt"> | null;
  lastActivity: ActivityView | null;
  /** Newest heartbeat or task change in the stream (null when it has neither). */
  lastActivityAt: string | null;
  warnings: StreamHealthWarning[];
  checkedAt: string;
}

const maxIso = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);

function minutes(ms: number): string {
  const m = Math.floor(ms / 60_000);
  return `${m} minute${m === 1 ? "" : "s"}`;
}

/** Pure: health from a stream, its tasks and its open activities at `nowMs`. */
export function assessStreamHealth(
  stream: StreamView,
  tasks: readonly TaskView[],
  activities: readonly ActivityView[],
  nowMs: number,
): StreamHealth {
  const live = tasks.filter((t) => !t.archived || stream.archived);
  const current = live.find((t) => t.status === "in_progress") ?? null;
  const newest = [...activities].sort((a, b) => (a.lastHeartbeat < b.lastHeartbeat ? 1 : -1))[0] ?? null;

  let lastActivityAt: string | null = newest?.lastHeartbeat ?? null;
  for (const t of live) lastActivityAt = maxIso(lastActivityAt, t.updatedAt);

  const warnings: StreamHealthWarning[] = [];
  for (const t of live) {
    if (t.status === "in_progress") {
      // A task moved to in_progress opens an activity, so its update time is a heartbeat too.
      let seen: string | null = t.updatedAt;
      for (const a of activities) if (a.taskId === t.id) seen = maxIso(seen, a.lastHeartbeat);
      const idle = nowMs - Date.parse(seen ?? t.updatedAt);
      if (idle >= STALL_AFTER_MS) {
        warnings.push({ type: "stalled", taskId: t.id, message: `${t.id} in progress with no heartbeat for ${minutes(idle)}` });
      }
    } else if (t.status === "blocked") {
      warnings.push({ type: "blocked", taskId: t.id, message: `${t.id} blocked${t.blockedReason ? `: ${t.blockedReason}` : ""}` });
    }
  }

  return {
    streamId: stream.streamId,
    status: stream.status,
    progressPercentage: stream.progressPercentage,
    healthy: warnings.length === 0,
    currentTask: current
      ? { id: current.id, title: current.title, status: current.status, assignedAgent: current.assignedAgent, updatedAt: current.updatedAt }
      : null,
    lastActivity: newest,
    lastActivityAt,
    warnings,
    checkedAt: new Date(nowMs).toISOString(),
  };
}

export async function streamHealth(store: Store, streamId: string, opts: { includeArchived?: boolean; nowMs?: number } = {}): Promise<StreamHealth> {
  const { tasks, ...stream } = await getStream(store, streamId, opts);
  const { activities } = await listActivity(store, { streamId, active: false });
  return assessStreamHealth(stream, tasks, activities, opts.nowMs ?? Date.now());
}
