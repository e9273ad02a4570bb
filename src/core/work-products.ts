import { asc, eq } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { tasks, workProducts, type WorkProductRow } from "../db/schema.ts";
import { notFound } from "../errors.ts";
import { recordEvent } from "./events.ts";
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
