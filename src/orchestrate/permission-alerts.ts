/**
 * Permission questions from any agent, alerted by a running `orch start`: each tick reads the
 * inbox entries newer than the last one seen (an indexed range on the primary key, so an idle
 * tick costs one tiny query) and says the pending ones, with the commands that answer them.
 */
import { and, asc, eq, gt } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { inbox, type InboxRow } from "../db/schema.ts";
import type { RunNote } from "./messages.ts";

/** Bounded per tick; the rest are read on the next one. */
const PAGE = 100;

export function permissionNotes(rows: readonly InboxRow[], nowMs: number): RunNote[] {
  return rows
    .filter((r) => r.kind === "permission" && r.status === "pending" && Date.parse(r.expiresAt) > nowMs)
    .map((r) => ({ kind: "permission-asked", streamId: r.streamId, agent: r.agent ?? r.sessionId, tool: r.question, inboxId: r.id }));
}

export function permissionAlerts(store: Store, note: (n: RunNote) => void): { poll(): Promise<void> } {
  let lastId = 0;
  return {
    async poll() {
      for (;;) {
        const rows = await store.db.select().from(inbox).where(and(gt(inbox.id, lastId), eq(inbox.kind, "permission"))).orderBy(asc(inbox.id)).limit(PAGE);
        if (!rows.length) return;
        lastId = rows.at(-1)!.id;
        for (const n of permissionNotes(rows, Date.now())) note(n);
        if (rows.length < PAGE) return;
      }
    },
  };
}
