/**
 * Streams are first-class rows kept in step with their tasks' metadata. Their figures (counts,
 * files) are stored on the row and refreshed in the same transaction as every task change, so
 * reading 100 streams never scans 10,000 tasks.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { preparedQuery, slot } from "../db/prepared.ts";
import { streams, tasks, type StreamRow } from "../db/schema.ts";
import { notFound } from "../errors.ts";
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
export function upsertStream(db: Db, now: string, hints: StreamHints, initiativeId: string | null): void {
  const existing = db.select().from(streams).where(eq(streams.id, hints.streamId)).get();
  if (!existing) {
    db.insert(streams)
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
      })
      .run();
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
  if (Object.keys(patch).length) db.update(streams).set({ ...patch, updatedAt: now }).where(eq(streams.id, hints.streamId)).run();
}

// Run after every task change: prepared once per db (see db/prepared.ts).
const statusCounts = (db: Db) =>
  db
    .select({ status: tasks.status, n: sql<number>`count(*)` })
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
export function refreshStreamFigures(db: Db, now: string, streamId: string): StreamView | null {
  const counts = preparedQuery(db, "streams.statusCounts", statusCounts).all({ streamId });
  const byStatus: Record<string, number> = {};
  for (const c of counts) byStatus[c.status] = c.n;
  const files = new Set<string>();
  for (const t of preparedQuery(db, "streams.taskMetadata", taskMetadata).all({ streamId })) {
    const f = t.metadata.files;
    if (Array.isArray(f)) for (const x of f) if (typeof x === "string") files.add(x);
  }
  const figures = figuresFromStatusCounts(byStatus);
  const row = preparedQuery(db, "streams.updateFigures", updateFigures).get({ ...figures, files: [...files].sort(), updatedAt: now, streamId });
  if (!row) return null;
  const v = streamView(row);
  recordEvent(db, "stream", streamId, "update", v);
  return v;
}

export function listStreams(store: Store, filter: { initiativeId?: string; includeArchived?: boolean } = {}): StreamView[] {
  const conds = [];
  if (filter.initiativeId) conds.push(eq(streams.initiativeId, filter.initiativeId));
  if (!filter.includeArchived) conds.push(eq(streams.archived, false));
  return store.db
    .select()
    .from(streams)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(asc(sql`rowid`))
    .all()
    .map(streamView);
}

export function findStreamRow(db: Db, streamId: string, includeArchived = false): StreamRow | null {
  const row = db.select().from(streams).where(eq(streams.id, streamId)).get();
  if (!row || (row.archived && !includeArchived)) return null;
  return row;
}

export function getStream(store: Store, streamId: string, opts: { includeArchived?: boolean } = {}): StreamDetail {
  const row = findStreamRow(store.db, streamId, opts.includeArchived ?? false);
  if (!row) throw notFound(`Stream not found: ${streamId}`, { streamId });
  const list = store.db.select().from(tasks).where(eq(tasks.streamId, streamId)).orderBy(asc(sql`rowid`)).all();
  return { ...streamView(row), tasks: list.map(taskView) };
}

function setArchived(store: Store, streamId: string, archived: boolean) {
  return store.tx((db) => {
    const row = db.select().from(streams).where(eq(streams.id, streamId)).get();
    if (!row) throw notFound(`Stream not found: ${streamId}`, { streamId });
    const now = store.now();
    const changed = db
      .update(tasks)
      .set({ archived, updatedAt: now })
      .where(and(eq(tasks.streamId, streamId), eq(tasks.archived, !archived)))
      .returning({ id: tasks.id })
      .all();
    const updated = db.update(streams).set({ archived, updatedAt: now }).where(eq(streams.id, streamId)).returning().get()!;
    const v = streamView(updated);
    recordEvent(db, "stream", streamId, archived ? "archive" : "unarchive", v);
    return { streamId, archived, tasksAffected: changed.length, stream: v };
  });
}

export const archiveStream = (store: Store, streamId: string) => setArchived(store, streamId, true);
export const unarchiveStream = (store: Store, streamId: string) => setArchived(store, streamId, false);

export function archiveAllStreams(store: Store, filter: { initiativeId?: string } = {}) {
  const ids = listStreams(store, filter).map((s) => s.streamId);
  return store.tx(() => {
    const results = ids.map((id) => archiveStream(store, id));
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
): StreamView {
  return store.tx((db) => {
    const row = db.select().from(streams).where(eq(streams.id, streamId)).get();
    if (!row) throw notFound(`Stream not found: ${streamId}`, { streamId });
    const now = store.now();
    db.update(streams).set({ ...where, updatedAt: now }).where(eq(streams.id, streamId)).run();
    for (const t of db.select().from(tasks).where(eq(tasks.streamId, streamId)).all()) {
      const metadata = { ...t.metadata, worktreePath: where.worktreePath, branchName: where.branchName };
      const updated = db.update(tasks).set({ metadata, updatedAt: now }).where(eq(tasks.id, t.id)).returning().get()!;
      recordEvent(db, "task", t.id, "update", taskView(updated));
    }
    return refreshStreamFigures(db, now, streamId)!;
  });
}
