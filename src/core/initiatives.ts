import { desc, eq } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { initiatives, type InitiativeRow } from "../db/schema.ts";
import { notFound } from "../errors.ts";
import { recordEvent } from "./events.ts";
import { initiativeLinkSchema, parseInput, type InitiativeLinkInput } from "./schemas.ts";

export interface InitiativeView {
  id: string;
  name: string;
  description: string | null;
  linkedAt: string;
  createdAt: string;
  updatedAt: string;
}

const view = (r: InitiativeRow): InitiativeView => ({ ...r });

/** Link the workspace to an initiative (creating or renaming it); the last linked is the current one. */
export function linkInitiative(store: Store, input: InitiativeLinkInput): Promise<InitiativeView> {
  const v = parseInput(initiativeLinkSchema, input);
  return store.tx(async (db) => {
    // The current initiative is the last linked: keep linkedAt strictly increasing, so two links
    // in the same millisecond still have an order.
    const latest = (await currentInitiativeIn(db))?.linkedAt;
    let now = store.now();
    if (latest && now <= latest) now = new Date(Date.parse(latest) + 1).toISOString();
    const existing = (await db.select().from(initiatives).where(eq(initiatives.id, v.initiativeId)))[0];
    if (existing) {
      await db.update(initiatives)
        .set({ name: v.title, description: v.description ?? existing.description, linkedAt: now, updatedAt: now })
        .where(eq(initiatives.id, v.initiativeId));
    } else {
      await db.insert(initiatives)
        .values({ id: v.initiativeId, name: v.title, description: v.description ?? null, linkedAt: now, createdAt: now, updatedAt: now });
    }
    const row = view((await db.select().from(initiatives).where(eq(initiatives.id, v.initiativeId)))[0]!);
    await recordEvent(db, "initiative", row.id, existing ? "update" : "create", row);
    return row;
  });
}

export async function currentInitiativeIn(db: Db): Promise<InitiativeView | null> {
  const row = (await db.select().from(initiatives).orderBy(desc(initiatives.linkedAt)).limit(1))[0];
  return row ? view(row) : null;
}

export function currentInitiative(store: Store): Promise<InitiativeView | null> {
  return currentInitiativeIn(store.db);
}

export async function getInitiative(store: Store, id?: string): Promise<InitiativeView> {
  if (!id) {
    const cur = await currentInitiative(store);
    if (!cur) throw notFound("No initiative linked: use initiative_link or `orch prd import`");
    return cur;
  }
  const row = (await store.db.select().from(initiatives).where(eq(initiatives.id, id)))[0];
  if (!row) throw notFound(`Initiative not found: ${id}`);
  return view(row);
}
