/**
 * Streams are first-class rows kept in step with their tasks' metadata. Their figures (counts,
 * files) are stored on the row and refreshed in the same transaction as every task change, so
 * reading 100 streams never scans 10,000 tasks.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { insertionOrder } from "../db/dialect.ts";
import { preparedQuery, slot } from "../db/prepared.ts";
import { streams, tasks, type StreamRow } from "../db/schema.ts";
import { notFound } from "../errors.ts";
import { machineId } from "../sys/machine.ts";
import { recordEvent } from "./events.ts";
import { figuresFromStatusCounts, withProgress } from "./progress.ts";
import type { StreamPhase, StreamStatus } from "./schemas.ts";
import { taskView, type TaskView } from "./task-view.ts";

export interface StreamView {
  streamId: string;
  streamName: string;
  streamPhase: StreamPhase;
  totalTasks: number;
  completedTasks: number;
  inProgressTasks: number;
  blockedTasks: number;
  pendingTasks: number;
  progressPercentage: number;
  status: StreamStatus;
  dependencies: string[];
  worktreePath: string | null;
  branchName: string | null;
  files: string[];
  archived: boolean;
  initiativeId: string | null;
}

export interface StreamDetail extends StreamView {
  tasks: TaskView[];
}

export function streamView(r: StreamRow): StreamView {
  const figures = withProgress({
    totalTasks: r.totalTasks,
    completedTasks: r.completedTasks,
    inProgressTasks: r.inProgressTasks,
    blockedTasks: r.blockedTasks,
    pendingTasks: r.pendingTasks,
  });
  return {
    streamId: r.id,
    streamName: r.name,
    streamPhase: r.phase,
    ...figures,
    dependencies: r.dependencies,
    worktreePath: r.worktreePath,
    branchName: r.branchName,
    files: r.files,
    archived: r.archived,
    initiativeId: r.initiativeId,
  };
}

/** What a task's metadata says about its stream (only the keys it actually carries). */
export interface StreamHints {
  streamId: string;
  streamName?: string;
  streamPhase?: StreamPhase;
  dependencies?: string[];
  worktreePath?: string | null;
  branchName?: string | null;
}

export function streamHintsFromMetadata(meta: Record<string, unknown>): StreamHints | null {
  const streamId = meta.streamId;
  if (typeof streamId !== "string" || !streamId) return null;
  const deps = (meta.dependencies ?? meta.streamDependencies) as string[] | undefined;
  const hints: StreamHints = { streamId };
  if (typeof meta.streamName === "string") hints.streamName = meta.streamName;
  if (typeof meta.streamPhase === "string") hints.streamPhase = meta.streamPhase as StreamPhase;
  if (Array.isArray(deps)) hints.dependencies = deps;
  if (meta.worktreePath !== undefined) hints.worktreePath = meta.worktreePath as string | null;
  if (meta.branchName !== undefined) hints.branchName = meta.branchName as string | null;
  return hints;
}

/** Create the stream row if missing; apply whatever the hints carry. Runs inside a transaction. */
export async function upsertStream(db: Db, now: string, hints: StreamHints, initiativeId: string | null): Promise<void> {
  const existing = (await db.select().from(streams).where(eq(streams.id, hints.streamId)))[0];
  if (!existing) {
    await db.insert(streams)
      .values({
        id: hints.streamId,
        name: hints.streamName ?? hints.streamId,
        phase: hints.streamPhase ?? "parallel",
        dependencies: hints.dependencies ?? [],
        worktreePath: hints.worktreePath ?? null,
        branchName: hints.branchName ?? null,
        initiativeId,
        createdAt: now,
        updatedAt: now,
      });
    return;
  }
  const patch: Partial<StreamRow> = {};
  if (hints.streamName !== undefined && hints.streamName !== existing.name) patch.name = hints.streamName;
  if (hints.streamPhase !== undefined && hints.streamPhase !== existing.phase) patch.phase = hints.streamPhase;
  if (hints.dependencies !== undefined && JSON.stringify(hints.dependencies) !== JSON.stringify(existing.dependencies))
    patch.dependencies = hints.dependencies;
  if (hints.worktreePath !== undefined && hints.worktreePath !== existing.worktreePath)
    patch.worktreePath = hints.worktreePath;
  if (hints.branchName !== undefined && hints.branchName !== existing.branchName) patch.branchName = hints.branchName;
  if (existing.initiativeId === null && initiativeId) patch.initiativeId = initiativeId;
  if (Object.keys(patch).length) await db.update(streams).set({ ...patch, updatedAt: now }).where(eq(streams.id, hints.streamId));
}

// Run after every task change: prepared once per db (see db/prepared.ts).
const statusCounts = (db: Db) =>
  db
    .select({ status: tasks.status, n: sql<number>`count(*)`.mapWith(Number) })
    .from(tasks)
    .where(eq(tasks.streamId, sql.placeholder("streamId")))
    .groupBy(tasks.status)
    .prepare();
const taskMetadata = (db: Db) => db.select({ metadata: tasks.metadata }).from(tasks).where(eq(tasks.streamId, sql.placeholder("streamId"))).prepare();
const updateFigures = (db: Db) =>
  db
    .update(streams)
    .set({
      totalTasks: slot("totalTasks"),
      completedTasks: slot("completedTasks"),
      inProgressTasks: slot("inProgressTasks"),
      blockedTasks: slot("blockedTasks"),
      pendingTasks: slot("pendingTasks"),
      files: slot("files"),
      updatedAt: slot("updatedAt"),
    })
    .where(eq(streams.id, sql.placeholder("streamId")))
    .returning()
    .prepare();

/** Recount a stream's tasks and files onto its row and record a `stream` event. Inside a transaction. */
export async function refreshStreamFigures(db: Db, now: string, streamId: string): Promise<StreamView | null> {
  const counts = await preparedQuery(db, "streams.statusCounts", statusCounts).execute({ streamId });
  const byStatus: Record<string, number> = {};
  for (const c of counts) byStatus[c.status] = c.n;
  const files = new Set<string>();
  for (const t of await preparedQuery(db, "streams.taskMetadata", taskMetadata).execute({ streamId })) {
    const f = t.metadata.files;
    if (Array.isArray(f)) for (const x of f) if (typeof x === "string") files.add(x);
  }
  const figures = figuresFromStatusCounts(byStatus);
  const row = (await preparedQuery(db, "streams.updateFigures", updateFigures).execute({ ...figures, files: [...files].sort(), updatedAt: now, streamId }))[0];
  if (!row) return null;
  const v = streamView(row);
  await recordEvent(db, "stream", streamId, "update", v);
  return v;
}

export async function listStreams(store: Store, filter: { initiativeId?: string; includeArchived?: boolean } = {}): Promise<StreamView[]> {
  const conds = [];
  if (filter.initiativeId) conds.push(eq(streams.initiativeId, filter.initiativeId));
  if (!filter.includeArchived) conds.push(eq(streams.archived, false));
  return (await store.db
    .select()
    .from(streams)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(asc(insertionOrder(streams))))
    .map(streamView);
}

export async function findStreamRow(db: Db, streamId: string, includeArchived = false): Promise<StreamRow | null> {
  const row = (await db.select().from(streams).where(eq(streams.id, streamId)))[0];
  if (!row || (row.archived && !includeArchived)) return null;
  return row;
}

export async function getStream(store: Store, streamId: string, opts: { includeArchived?: boolean } = {}): Promise<StreamDetail> {
  const row = await findStreamRow(store.db, streamId, opts.includeArchived ?? false);
  if (!row) throw notFound(`Stream not found: ${streamId}`, { streamId });
  const list = await store.db.select().from(tasks).where(eq(tasks.streamId, streamId)).orderBy(asc(insertionOrder(tasks)));
  return { ...streamView(row), tasks: list.map(taskView) };
}

function setArchived(store: Store, streamId: string, archived: boolean) {
  return store.tx(async (db) => {
    const row = (await db.select().from(streams).where(eq(streams.id, streamId)))[0];
    if (!row) throw notFound(`Stream not found: ${streamId}`, { streamId });
    const now = store.now();
    const changed = await db
      .update(tasks)
      .set({ archived, updatedAt: now })
      .where(and(eq(tasks.streamId, streamId), eq(tasks.archived, !archived)))
      .returning({ id: tasks.id });
    const updated = (await db.update(streams).set({ archived, updatedAt: now }).where(eq(streams.id, streamId)).returning())[0]!;
    const v = streamView(updated);
    await recordEvent(db, "stream", streamId, archived ? "archive" : "unarchive", v);
    return { streamId, archived, tasksAffected: changed.length, stream: v };
  });
}

export const archiveStream = (store: Store, streamId: string) => setArchived(store, streamId, true);
export const unarchiveStream = (store: Store, streamId: string) => setArchived(store, streamId, false);

export async function archiveAllStreams(store: Store, filter: { initiativeId?: string } = {}) {
  const ids = (await listStreams(store, filter)).map((s) => s.streamId);
  return store.tx(async () => {
    const results = [];
    for (const id of ids) results.push(await archiveStream(store, id));
    return { archivedStreams: results.map((r) => r.streamId), tasksArchived: results.reduce((n, r) => n + r.tasksAffected, 0) };
  });
}

/**
 * Record where a stream's worktree lives, on the stream and on each of its tasks' metadata
 * (the guide: "Worktree path stored in task metadata").
 */
export function setStreamWorktree(
  store: Store,
  streamId: string,
  where: { worktreePath: string | null; branchName: string | null },
): Promise<StreamView> {
  return store.tx(async (db) => {
    const row = (await db.select().from(streams).where(eq(streams.id, streamId)))[0];
    if (!row) throw notFound(`Stream not found: ${streamId}`, { streamId });
    const now = store.now();
    // A worktree's path means something on this machine only: recorded with it.
    await db.update(streams).set({ ...where, worktreeHost: where.worktreePath ? machineId() : null, updatedAt: now }).where(eq(streams.id, streamId));
    for (const t of await db.select().from(tasks).where(eq(tasks.streamId, streamId))) {
      const metadata = { ...t.metadata, worktreePath: where.worktreePath, branchName: where.branchName };
      const updated = (await db.update(tasks).set({ metadata, updatedAt: now }).where(eq(tasks.id, t.id)).returning())[0]!;
      await recordEvent(db, "task", t.id, "update", taskView(updated));
    }
    return (await refreshStreamFigures(db, now, streamId))!;
  });
}
