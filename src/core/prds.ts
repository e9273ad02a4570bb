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

export function createPrd(store: Store, input: PrdCreateInput): PrdView {
  const v = parseInput(prdCreateSchema, input);
  return store.tx((db) => {
    const id = v.id ?? newId("PRD");
    if (db.select({ id: prds.id }).from(prds).where(eq(prds.id, id)).get()) throw conflict(`PRD already exists: ${id}`);
    const now = store.now();
    if (v.initiativeId && !db.select({ id: initiatives.id }).from(initiatives).where(eq(initiatives.id, v.initiativeId)).get())
      throw notFound(`Initiative not found: ${v.initiativeId}`);
    const initiativeId = v.initiativeId ?? currentInitiativeIn(db)?.id ?? null;
    db.insert(prds)
      .values({
        id,
        initiativeId,
        title: v.title,
        description: v.description ?? null,
        content: v.content,
        metadata: v.metadata ?? {},
        createdAt: now,
        updatedAt: now,
      })
      .run();
    const row = view(db.select().from(prds).where(eq(prds.id, id)).get()!, 0, false);
    recordEvent(db, "prd", id, "create", row);
    return row;
  });
}

// Columns qualified by hand: Drizzle renders `${tasks.prdId}` unqualified in a single-table
// select, and `"prd_id" = "id"` inside the subquery would compare a task with itself.
const taskCountSql = sql<number>`(SELECT count(*) FROM ${tasks} WHERE ${tasks}.prd_id = ${prds}.id)`;

export function getPrd(store: Store, id: string, opts: { includeContent?: boolean } = {}): PrdView {
  const row = store.db.select({ prd: prds, taskCount: taskCountSql }).from(prds).where(eq(prds.id, id)).get();
  if (!row) throw notFound(`PRD not found: ${id}`);
  return view(row.prd, row.taskCount, opts.includeContent ?? true);
}

export function listPrds(store: Store, filter: { initiativeId?: string; status?: string } = {}): PrdView[] {
  const conds = [];
  if (filter.initiativeId) conds.push(eq(prds.initiativeId, filter.initiativeId));
  if (filter.status) conds.push(eq(prds.status, filter.status));
  return store.db
    .select({ prd: prds, taskCount: taskCountSql })
    .from(prds)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(prds.createdAt))
    .all()
    .map((r) => view(r.prd, r.taskCount, false));
}
