import { and, desc, eq, sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { initiatives, prds, tasks, type PrdRow } from "../db/schema.ts";
import { conflict, notFound } from "../errors.ts";
import { recordEvent } from "./events.ts";
import { newId } from "./ids.ts";
import { currentInitiativeIn } from "./initiatives.ts";
import { parseInput, prdCreateSchema, type PrdCreateInput } from "./schemas.ts";

export interface PrdView {
  id: string;
  initiativeId: string | null;
  title: string;
  description: string | null;
  content?: string;
  status: string;
  metadata: Record<string, unknown>;
  taskCount: number;
  createdAt: string;
  updatedAt: string;
}

function view(r: PrdRow, taskCount: number, includeContent: boolean): PrdView {
  const { content, ...rest } = r;
  return includeContent ? { ...rest, content, taskCount } : { ...rest, taskCount };
}

export function createPrd(store: Store, input: PrdCreateInput): Promise<PrdView> {
  const v = parseInput(prdCreateSchema, input);
  return store.tx(async (db) => {
    const id = v.id ?? newId("PRD");
    if ((await db.select({ id: prds.id }).from(prds).where(eq(prds.id, id)))[0]) throw conflict(`PRD already exists: ${id}`);
    const now = store.now();
    if (v.initiativeId && !(await db.select({ id: initiatives.id }).from(initiatives).where(eq(initiatives.id, v.initiativeId)))[0])
      throw notFound(`Initiative not found: ${v.initiativeId}`);
    const initiativeId = v.initiativeId ?? (await currentInitiativeIn(db))?.id ?? null;
    await db.insert(prds)
      .values({
        id,
        initiativeId,
        title: v.title,
        description: v.description ?? null,
        content: v.content,
        metadata: v.metadata ?? {},
        createdAt: now,
        updatedAt: now,
      });
    const row = view((await db.select().from(prds).where(eq(prds.id, id)))[0]!, 0, false);
    await recordEvent(db, "prd", id, "create", row);
    return row;
  });
}

// Columns qualified by hand: Drizzle renders `${tasks.prdId}` unqualified in a single-table
// select, and `"prd_id" = "id"` inside the subquery would compare a task with itself.
// A function, not a constant: the tables are bound when the store opens (db/schema.ts bindTables).
const taskCountSql = () => sql<number>`(SELECT count(*) FROM ${tasks} WHERE ${tasks}.prd_id = ${prds}.id)`.mapWith(Number);

export async function getPrd(store: Store, id: string, opts: { includeContent?: boolean } = {}): Promise<PrdView> {
  const row = (await store.db.select({ prd: prds, taskCount: taskCountSql() }).from(prds).where(eq(prds.id, id)))[0];
  if (!row) throw notFound(`PRD not found: ${id}`);
  return view(row.prd, row.taskCount, opts.includeContent ?? true);
}

export async function listPrds(store: Store, filter: { initiativeId?: string; status?: string } = {}): Promise<PrdView[]> {
  const conds = [];
  if (filter.initiativeId) conds.push(eq(prds.initiativeId, filter.initiativeId));
  if (filter.status) conds.push(eq(prds.status, filter.status));
  return (await store.db
    .select({ prd: prds, taskCount: taskCountSql() })
    .from(prds)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(prds.createdAt)))
    .map((r) => view(r.prd, r.taskCount, false));
}
