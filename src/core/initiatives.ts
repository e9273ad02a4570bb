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
export function linkInitiative(store: Store, input: InitiativeLinkInput): InitiativeView {
  const v = parseInput(initiativeLinkSchema, input);
  return store.tx((db) => {
    // The current initiative is the last linked: keep linkedAt strictly increasing, so two links
    // in the same millisecond still have an order.
    const latest = currentInitiativeIn(db)?.linkedAt;
    let now = store.now();
    if (latest && now <= latest) now = new Date(Date.parse(latest) + 1).toISOString();
    const existing = db.select().from(initiatives).where(eq(initiatives.id, v.initiativeId)).get();
    if (existing) {
      db.update(initiatives)
        .set({ name: v.title, description: v.description ?? existing.description, linkedAt: now, updatedAt: now })
        .where(eq(initiatives.id, v.initiativeId))
        .run();
    } else {
      db.insert(initiatives)
        .values({ id: v.initiativeId, name: v.title, description: v.description ?? null, linkedAt: now, createdAt: now, updatedAt: now })
        .run();
    }
    const row = view(db.select().from(initiatives).where(eq(initiatives.id, v.initiativeId)).get()!);
    recordEvent(db, "initiative", row.id, existing ? "update" : "create", row);
    return row;
  });
}

export function currentInitiativeIn(db: Db): InitiativeView | null {
  const row = db.select().from(initiatives).orderBy(desc(initiatives.linkedAt)).limit(1).get();
  return row ? view(row) : null;
}

export function currentInitiative(store: Store): InitiativeView | null {
  return currentInitiativeIn(store.db);
}

export function getInitiative(store: Store, id?: string): InitiativeView {
  if (!id) {
    const cur = currentInitiative(store);
    if (!cur) throw notFound("No initiative linked: use initiative_link or `orch prd import`");
    return cur;
  }
  const row = store.db.select().from(initiatives).where(eq(initiatives.id, id)).get();
  if (!row) throw notFound(`Initiative not found: ${id}`);
  return view(row);
}
