/**
 * Agent activity: one row per (task, agent). A task moving to in_progress opens or refreshes it;
 * completed/blocked/cancelled closes it; agent_heartbeat refreshes it. Active = open and a
 * heartbeat within the last 5 minutes.
 */
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { preparedQuery, slot } from "../db/prepared.ts";
import { agentActivity, streams, tasks } from "../db/schema.ts";
import { notFound } from "../errors.ts";
import { recordEvent } from "./events.ts";
import { newId } from "./ids.ts";
import { heartbeatSchema, parseInput, type HeartbeatInput, type TaskStatus } from "./schemas.ts";

export const ACTIVE_WINDOW_MS = 5 * 60 * 1000;
/** Used when a task goes in_progress with no agent named anywhere. */
export const DEFAULT_AGENT = "agent";

export interface ActivityView {
  activityId: string;
  taskId: string;
  taskTitle: string;
  agentId: string;
  streamId: string | null;
  streamName: string | null;
  phase: string | null;
  startedAt: string;
  lastHeartbeat: string;
  isActive: boolean;
  notes: string | null;
}

const selection = {
  a: agentActivity,
  taskTitle: tasks.title,
  streamName: streams.name,
};

type Joined = { a: typeof agentActivity.$inferSelect; taskTitle: string | null; streamName: string | null };

function view(r: Joined, nowMs: number): ActivityView {
  return {
    activityId: r.a.id,
    taskId: r.a.taskId,
    taskTitle: r.taskTitle ?? "",
    agentId: r.a.agentId,
    streamId: r.a.streamId,
    streamName: r.streamName,
    phase: r.a.phase,
    startedAt: r.a.startedAt,
    lastHeartbeat: r.a.lastHeartbeat,
    isActive: r.a.endedAt === null && nowMs - Date.parse(r.a.lastHeartbeat) < ACTIVE_WINDOW_MS,
    notes: r.a.notes,
  };
}

async function readOne(db: Db, id: string, nowMs: number): Promise<ActivityView> {
  const r = (await db
    .select(selection)
    .from(agentActivity)
    .leftJoin(tasks, eq(tasks.id, agentActivity.taskId))
    .leftJoin(streams, eq(streams.id, agentActivity.streamId))
    .where(eq(agentActivity.id, id)))[0]!;
  return view(r, nowMs);
}

/** Open (or re-open and refresh) the activity of one agent on one task. Inside a transaction. */
export async function touchActivity(
  db: Db,
  now: string,
  a: { taskId: string; agentId: string; streamId: string | null; notes?: string; phase?: string },
): Promise<ActivityView> {
  const existing = (await db
    .select()
    .from(agentActivity)
    .where(and(eq(agentActivity.taskId, a.taskId), eq(agentActivity.agentId, a.agentId))))[0];
  let id: string;
  if (existing) {
    id = existing.id;
    await db.update(agentActivity)
      .set({
        lastHeartbeat: now,
        endedAt: null,
        startedAt: existing.endedAt ? now : existing.startedAt,
        streamId: a.streamId,
        ...(a.notes !== undefined ? { notes: a.notes } : {}),
        ...(a.phase !== undefined ? { phase: a.phase } : {}),
      })
      .where(eq(agentActivity.id, id));
  } else {
    id = newId("ACT");
    await db.insert(agentActivity)
      .values({
        id,
        taskId: a.taskId,
        agentId: a.agentId,
        streamId: a.streamId,
        phase: a.phase ?? null,
        notes: a.notes ?? null,
        startedAt: now,
        lastHeartbeat: now,
      });
  }
  const v = await readOne(db, id, Date.parse(now));
  await recordEvent(db, "activity", id, existing ? "update" : "create", v);
  return v;
}

// Runs on every task update that is not a start: prepared once per db (see db/prepared.ts).
const closeOpen = (db: Db) =>
  db
    .update(agentActivity)
    .set({ endedAt: slot("now") })
    .where(and(eq(agentActivity.taskId, sql.placeholder("taskId")), isNull(agentActivity.endedAt)))
    .returning({ id: agentActivity.id })
    .prepare();

async function closeActivities(db: Db, now: string, taskId: string): Promise<void> {
  const open = await preparedQuery(db, "activity.closeOpen", closeOpen).execute({ now, taskId });
  for (const { id } of open) await recordEvent(db, "activity", id, "update", await readOne(db, id, Date.parse(now)));
}

/** Keep activity in step with a task's status change. Inside the task's transaction. */
export async function onTaskStatusChange(
  db: Db,
  now: string,
  task: { id: string; streamId: string | null; assignedAgent: string | null; notes: string | null },
  from: TaskStatus | null,
  to: TaskStatus,
): Promise<void> {
  if (to === "in_progress") {
    if (from !== "in_progress") {
      await touchActivity(db, now, { taskId: task.id, agentId: task.assignedAgent ?? DEFAULT_AGENT, streamId: task.streamId });
    }
  } else if (from !== null) {
    // Any other status (done, blocked, cancelled, back to pending) ends the agents' activity,
    // including one opened by a heartbeat alone.
    await closeActivities(db, now, task.id);
  }
}

export function heartbeat(store: Store, input: HeartbeatInput): Promise<ActivityView> {
  const v = parseInput(heartbeatSchema, input);
  return store.tx(async (db) => {
    const task = (await db.select({ id: tasks.id, streamId: tasks.streamId }).from(tasks).where(eq(tasks.id, v.taskId)))[0];
    if (!task) throw notFound(`Task not found: ${v.taskId}`);
    return touchActivity(db, store.now(), { ...v, streamId: task.streamId });
  });
}

export interface ActivityList {
  activities: ActivityView[];
  totalActive: number;
  totalIdle: number;
}

/** Open activities (not ended). `active` (default true) keeps only those with a recent heartbeat. */
export async function listActivity(store: Store, filter: { streamId?: string; active?: boolean } = {}): Promise<ActivityList> {
  const conds = [isNull(agentActivity.endedAt)];
  if (filter.streamId) conds.push(eq(agentActivity.streamId, filter.streamId));
  const nowMs = Date.now();
  const all = (await store.db
    .select(selection)
    .from(agentActivity)
    .leftJoin(tasks, eq(tasks.id, agentActivity.taskId))
    .leftJoin(streams, eq(streams.id, agentActivity.streamId))
    .where(and(...conds))
    .orderBy(asc(agentActivity.startedAt)))
    .map((r) => view(r, nowMs));
  const totalActive = all.filter((a) => a.isActive).length;
  return {
    activities: filter.active === false ? all : all.filter((a) => a.isActive),
    totalActive,
    totalIdle: all.length - totalActive,
  };
}
