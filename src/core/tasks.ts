import { and, asc, eq, gt, sql, type SQL } from "drizzle-orm";
import type { z } from "zod";
import type { Db, Store } from "../db/client.ts";
import { insertionOrder } from "../db/dialect.ts";
import { preparedQuery, slot } from "../db/prepared.ts";
import { prds, tasks, type TaskRow } from "../db/schema.ts";
import { conflict, invalidInput, notFound } from "../errors.ts";
import { onTaskStatusChange } from "./activity.ts";
import { recordEvent } from "./events.ts";
import { newId } from "./ids.ts";
import { currentInitiativeIn } from "./initiatives.ts";
import {
  parseInput,
  taskCreateSchema,
  taskFilterSchema,
  taskUpdateSchema,
  type TaskCreateInput,
  type TaskFilter,
  type TaskUpdateInput,
  DEFAULT_PAGE,
  MAX_METADATA_BYTES,
  metadataFits,
} from "./schemas.ts";
import { refreshStreamFigures, streamHintsFromMetadata, upsertStream } from "./streams.ts";
import { taskView, type TaskView } from "./task-view.ts";

export type { TaskView } from "./task-view.ts";

async function initiativeFor(db: Db, prdId: string | null): Promise<string | null> {
  if (prdId) {
    const prd = (await db.select({ initiativeId: prds.initiativeId }).from(prds).where(eq(prds.id, prdId)))[0];
    if (prd?.initiativeId) return prd.initiativeId;
  }
  return (await currentInitiativeIn(db))?.id ?? null;
}

/** Insert one task inside an open transaction (PRD import creates many in one). */
export async function insertTask(db: Db, now: string, input: TaskCreateInput): Promise<TaskView> {
  const v = parseInput(taskCreateSchema, input);
  const id = v.id ?? newId("TASK");
  if ((await db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, id)))[0]) throw conflict(`Task already exists: ${id}`);
  if (v.prdId && !(await db.select({ id: prds.id }).from(prds).where(eq(prds.id, v.prdId)))[0])
    throw notFound(`PRD not found: ${v.prdId}`);
  if (v.parentId && !(await db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, v.parentId)))[0])
    throw notFound(`Parent task not found: ${v.parentId}`);
  const metadata = v.metadata ?? {};
  const hints = streamHintsFromMetadata(metadata);
  if (hints) await upsertStream(db, now, hints, await initiativeFor(db, v.prdId ?? null));
  const status = v.status ?? "pending";
  const row = (await db
    .insert(tasks)
    .values({
      id,
      prdId: v.prdId ?? null,
      parentId: v.parentId ?? null,
      title: v.title,
      description: v.description ?? null,
      assignedAgent: v.assignedAgent ?? null,
      status,
      metadata,
      streamId: hints?.streamId ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .returning())[0]!;
  await onTaskStatusChange(db, now, row, null, status);
  const out = taskView(row);
  await recordEvent(db, "task", id, "create", out);
  if (row.streamId) await refreshStreamFigures(db, now, row.streamId);
  return out;
}

export function createTask(store: Store, input: TaskCreateInput): Promise<TaskView> {
  return store.tx((db) => insertTask(db, store.now(), input));
}

// The update path runs for every status change and note of every agent: prepared once per db.
const selectTask = (db: Db) => db.select().from(tasks).where(eq(tasks.id, sql.placeholder("id"))).prepare();
/** The columns an update can set (besides updated_at). */
type UpdatableColumn = "title" | "description" | "status" | "assignedAgent" | "notes" | "blockedReason" | "metadata" | "streamId";

/**
 * An UPDATE setting only `columns` (and updated_at), prepared once per column set. SQLite rewrites
 * an index entry whenever its column is SET, changed or not: setting every column made a note
 * rewrite both status indexes, three WAL pages instead of one on the most frequent update.
 */
const updateTaskColumns = (columns: UpdatableColumn[]) => (db: Db) =>
  db
    .update(tasks)
    .set({ ...Object.fromEntries(columns.map((c) => [c, slot(c)])), updatedAt: slot("updatedAt") })
    .where(eq(tasks.id, sql.placeholder("id")))
    .returning()
    .prepare();

/** UPDATE the task's given columns (and updated_at): the row after, or undefined when there is no such task. */
async function writeColumns(db: Db, id: string, now: string, values: Partial<Pick<TaskRow, UpdatableColumn>>): Promise<TaskRow | undefined> {
  const columns = Object.keys(values) as UpdatableColumn[];
  return (await preparedQuery(db, `tasks.update:${columns.join(",")}`, updateTaskColumns(columns)).execute({ ...values, id, updatedAt: now }))[0];
}

type TaskUpdate = z.output<typeof taskUpdateSchema>;

/** Columns no index covers and no rule ties to another: setting one needs nothing from the row as it was. */
const PLAIN_COLUMNS = ["title", "description", "assignedAgent", "notes"] as const satisfies readonly UpdatableColumn[];

/** Apply an update inside an open transaction. Metadata is shallow-merged. */
export function applyTaskUpdate(db: Db, now: string, input: TaskUpdateInput): Promise<TaskView> {
  return applyParsedUpdate(db, now, parseInput(taskUpdateSchema, input));
}

async function applyParsedUpdate(db: Db, now: string, v: TaskUpdate): Promise<TaskView> {
  // The most frequent update (an agent's note or a rename) is one UPDATE … RETURNING: no read
  // first, nothing about activity or the stream's figures to work out. It runs while every other
  // writer waits, so it is kept this short.
  if (v.status === undefined && v.metadata === undefined && v.blockedReason === undefined) {
    const given = PLAIN_COLUMNS.filter((c) => v[c] !== undefined);
    const row = await writeColumns(db, v.id, now, Object.fromEntries(given.map((c) => [c, v[c]])));
    if (!row) throw notFound(`Task not found: ${v.id}`);
    const out = taskView(row);
    await recordEvent(db, "task", row.id, "update", out);
    return out;
  }
  const existing = (await preparedQuery(db, "tasks.byId", selectTask).execute({ id: v.id }))[0];
  if (!existing) throw notFound(`Task not found: ${v.id}`);
  const metadata = v.metadata ? { ...existing.metadata, ...v.metadata } : existing.metadata;
  // Each part may fit while the merged whole does not.
  if (v.metadata && !metadataFits(metadata)) throw invalidInput(`metadata of ${v.id} would be larger than ${MAX_METADATA_BYTES / 1024} KB as JSON once merged (keep large content in a work product)`);
  const hints = streamHintsFromMetadata(metadata);
  if (v.metadata && hints) await upsertStream(db, now, hints, await initiativeFor(db, existing.prdId));
  const status = v.status ?? existing.status;
  // A reason only means something while the task is blocked.
  const blockedReason = status === "blocked" ? (v.blockedReason ?? existing.blockedReason) : null;
  const next: Pick<TaskRow, UpdatableColumn> = {
    title: v.title ?? existing.title,
    description: v.description ?? existing.description,
    status,
    assignedAgent: v.assignedAgent ?? existing.assignedAgent,
    notes: v.notes ?? existing.notes,
    blockedReason,
    metadata,
    streamId: hints?.streamId ?? null,
  };
  const changed = (Object.keys(next) as UpdatableColumn[]).filter((c) =>
    c === "metadata" ? v.metadata !== undefined : next[c] !== existing[c],
  );
  const row = (await writeColumns(db, v.id, now, Object.fromEntries(changed.map((c) => [c, next[c]]))))!;
  // Without a status the agents' activity stays as it is; a status given (even the same one) moves it.
  if (v.status !== undefined) await onTaskStatusChange(db, now, row, existing.status, status);
  const out = taskView(row);
  await recordEvent(db, "task", row.id, "update", out);
  const moved = existing.streamId !== row.streamId;
  if (moved && existing.streamId) await refreshStreamFigures(db, now, existing.streamId);
  // A stream's figures, files and facts change only with a task's status, metadata or stream: a
  // note or a title leaves them as they are (and keeps the most frequent update small).
  if (row.streamId && (moved || status !== existing.status || v.metadata)) await refreshStreamFigures(db, now, row.streamId);
  return out;
}

export function updateTask(store: Store, input: TaskUpdateInput): Promise<TaskView> {
  // Validated before the transaction: nothing but the writes themselves while the lock is held.
  const v = parseInput(taskUpdateSchema, input);
  return store.tx((db) => applyParsedUpdate(db, store.now(), v));
}

export async function getTask(store: Store, id: string): Promise<TaskView> {
  const row = (await preparedQuery(store.db, "tasks.byId", selectTask).execute({ id }))[0];
  if (!row) throw notFound(`Task not found: ${id}`);
  return taskView(row);
}

/**
 * A page of tasks, oldest first. `totalTasks` counts the tasks in this answer (the guide's shape);
 * when more match, `nextCursor` fetches the next page and `matchingTasks` says how many match in all.
 */
export interface TaskList {
  tasks: TaskView[];
  totalTasks: number;
  nextCursor?: string;
  matchingTasks?: number;
}

/** A page also ends at this many bytes of tasks (fields are bounded, but 1,000 large tasks are not small). */
export const PAGE_BYTES = 4 * 1024 * 1024;

export async function listTasks(store: Store, filter: TaskFilter = {}, defaultPage = DEFAULT_PAGE, pageBytes = PAGE_BYTES): Promise<TaskList> {
  const f = parseInput(taskFilterSchema, filter);
  const conds: SQL[] = [];
  if (f.prdId) conds.push(eq(tasks.prdId, f.prdId));
  if (f.parentId) conds.push(eq(tasks.parentId, f.parentId));
  if (f.status) conds.push(eq(tasks.status, f.status));
  if (f.assignedAgent) conds.push(eq(tasks.assignedAgent, f.assignedAgent));
  if (f.streamId) conds.push(eq(tasks.streamId, f.streamId));
  if (!f.includeArchived) conds.push(eq(tasks.archived, false));
  const where = conds.length ? and(...conds) : undefined;
  const page = f.limit ?? defaultPage;
  const order = insertionOrder(tasks);
  const after = f.cursor ? gt(order, Number(f.cursor)) : undefined;
  // One row more than the page tells whether another page follows, without counting.
  const rows = await store.db
    .select({ row: tasks, rowid: order })
    .from(tasks)
    .where(and(where, after))
    .orderBy(asc(order))
    .limit(page + 1);
  const list: TaskView[] = [];
  let bytes = 0;
  for (const r of rows.slice(0, page)) {
    const t = taskView(r.row);
    bytes += JSON.stringify(t).length;
    if (list.length && bytes > pageBytes) break; // at least one task a page, so a walk always moves on
    list.push(t);
  }
  if (rows.length <= page && list.length === rows.length) return { tasks: list, totalTasks: list.length };
  const matching = (await store.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(tasks).where(where))[0]?.n ?? list.length;
  return { tasks: list, totalTasks: list.length, nextCursor: String(rows[list.length - 1]!.rowid), matchingTasks: matching };
}
