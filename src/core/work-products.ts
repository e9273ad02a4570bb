import { asc, count, desc, eq, sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { insertionOrder } from "../db/dialect.ts";
import { tasks, workProducts, type WorkProductRow } from "../db/schema.ts";
import { notFound } from "../errors.ts";
import { recordEvent } from "./events.ts";
import { findStreamRow } from "./streams.ts";
import { newId } from "./ids.ts";
import { parseInput, workProductStoreSchema, type WorkProductStoreInput } from "./schemas.ts";

export type WorkProductView = WorkProductRow;

export function storeWorkProduct(store: Store, input: WorkProductStoreInput): Promise<WorkProductView> {
  const v = parseInput(workProductStoreSchema, input);
  return store.tx(async (db) => {
    if (!(await db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, v.taskId)))[0])
      throw notFound(`Task not found: ${v.taskId}`);
    const row = (await db
      .insert(workProducts)
      .values({ id: newId("WP"), ...v, metadata: v.metadata ?? {}, createdAt: store.now() })
      .returning())[0]!;
    await recordEvent(db, "work_product", row.id, "create", { id: row.id, taskId: row.taskId, type: row.type, title: row.title });
    return row;
  });
}

export async function getWorkProduct(store: Store, id: string): Promise<WorkProductView> {
  const row = (await store.db.select().from(workProducts).where(eq(workProducts.id, id)))[0];
  if (!row) throw notFound(`Work product not found: ${id}`);
  return row;
}

/** Summaries (no content) of a task's work products, oldest first. */
export async function listWorkProducts(store: Store, taskId: string) {
  return await store.db
    .select({
      id: workProducts.id,
      taskId: workProducts.taskId,
      type: workProducts.type,
      title: workProducts.title,
      createdAt: workProducts.createdAt,
    })
    .from(workProducts)
    .where(eq(workProducts.taskId, taskId))
    .orderBy(asc(workProducts.createdAt));
}

export interface WorkProductSummary {
  id: string;
  taskId: string;
  type: string;
  title: string;
  createdAt: string;
}

export const STREAM_WORK_PRODUCTS_DEFAULT = 50;
export const STREAM_WORK_PRODUCTS_MAX = 200;

/**
 * Summaries (no content) of the work products of a stream's tasks (archived ones too), newest
 * first, at most `limit`, with how many there are. Throws not_found for an unknown stream.
 */
export async function listStreamWorkProducts(store: Store, streamId: string, opts: { limit?: number } = {}): Promise<{ streamId: string; workProducts: WorkProductSummary[]; total: number }> {
  const limit = Math.max(1, Math.min(STREAM_WORK_PRODUCTS_MAX, Math.floor(opts.limit ?? STREAM_WORK_PRODUCTS_DEFAULT)));
  const db = store.db;
  if (!(await findStreamRow(db, streamId, true))) throw notFound(`Stream not found: ${streamId}`, { streamId });
  const ofStream = eq(tasks.streamId, streamId);
  const rows = await db
    .select({ id: workProducts.id, taskId: workProducts.taskId, type: workProducts.type, title: workProducts.title, createdAt: workProducts.createdAt })
    .from(workProducts)
    .innerJoin(tasks, eq(tasks.id, workProducts.taskId))
    .where(ofStream)
    .orderBy(desc(workProducts.createdAt), desc(insertionOrder(workProducts))) // stored in the same millisecond: the later first
    .limit(limit);
  const total = (await db.select({ n: count() }).from(workProducts).innerJoin(tasks, eq(tasks.id, workProducts.taskId)).where(ofStream))[0]?.n ?? 0;
  return { streamId, workProducts: rows, total };
}
