/**
 * PgStore's transactions reuse their query builders (src/db/pg-store.ts, ForwardingConnection):
 * the prepared write path is built once, not per transaction. What that must never do: send a
 * transaction's statement on another transaction's connection — concurrent transactions, or a
 * statement an earlier body left running. Runs in the PostgreSQL pass (a process opens one kind
 * of database: the SQLite pass has opened SQLite ones by then).
 */
import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";
import { preparedQuery } from "../../src/db/prepared.ts";
import { tasks } from "../../src/db/schema.ts";
import { createTask, updateTask } from "../../src/core/tasks.ts";
import { ON_POSTGRES, openTestStore } from "../backend.ts";

const backendPid = (db: Db) => preparedQuery(db, "test.backendPid", (d) => d.select({ pid: sql<number>`pg_backend_pid()`.mapWith(Number) }).from(tasks).limit(1).prepare());

describe.skipIf(!ON_POSTGRES)("PostgreSQL transactions and their query builders", () => {
  test("concurrent transactions each send every statement on their own connection; the builders are kept for the next ones", async () => {
    const store = await openTestStore(":memory:");
    try {
      await createTask(store, { id: "T1", title: "one" });
      const seen: { inTx: number[]; db: Db }[] = [];
      const round = () =>
        Promise.all(
          Array.from({ length: 8 }, (_, k) =>
            store.tx(async (db) => {
              const pids: number[] = [];
              for (let i = 0; i < 3; i++) {
                pids.push((await backendPid(db).execute())[0]!.pid);
                await Bun.sleep(k % 3); // interleave with the others
              }
              seen.push({ inTx: pids, db });
            }),
          ),
        );
      await round();
      await round();
      for (const s of seen) expect(new Set(s.inTx).size).toBe(1);
      // Eight at once, twice: the second round took the first round's builders again.
      expect(new Set(seen.map((s) => s.db)).size).toBeLessThanOrEqual(8);
      // And the prepared write path still writes where it should.
      for (let i = 0; i < 20; i++) await updateTask(store, { id: "T1", notes: `n${i}` });
      expect((await store.db.select({ notes: tasks.notes }).from(tasks).where(eq(tasks.id, "T1")))[0]?.notes).toBe("n19");
    } finally {
      await store.close();
    }
  });

  test("a statement an earlier body left running is refused, never run inside the transaction now using its builder", async () => {
    const store = await openTestStore(":memory:");
    try {
      await createTask(store, { id: "T1", title: "one" });
      let stray: Promise<string> | undefined;
      await store.tx(async (db) => {
        // Not awaited, and started after the body returns: a bug in a body, which must not spill.
        setTimeout(() => (stray = db.update(tasks).set({ notes: "stray" }).where(eq(tasks.id, "T1")).execute().then(() => "ran", (err: Error) => `${err.message} ${(err.cause as Error | undefined)?.message}`)), 20);
      });
      await store.tx(async (db) => {
        await Bun.sleep(80); // the stray statement fires meanwhile, on this transaction's builder
        await db.update(tasks).set({ title: "second" }).where(eq(tasks.id, "T1")).execute();
      });
      expect(stray).toBeDefined();
      expect(await stray!).toContain("outside the transaction it was built in");
      const row = (await store.db.select({ notes: tasks.notes, title: tasks.title }).from(tasks).where(eq(tasks.id, "T1")))[0];
      expect(row).toEqual({ notes: null, title: "second" });
    } finally {
      await store.close();
    }
  });

  test("a body may return its query unawaited: it runs when the transaction awaits it, inside it", async () => {
    const store = await openTestStore(":memory:");
    try {
      await createTask(store, { id: "T1", title: "one" });
      const rows = await store.tx((db) => db.update(tasks).set({ title: "two" }).where(eq(tasks.id, "T1")).returning({ title: tasks.title }));
      expect(rows).toEqual([{ title: "two" }]);
    } finally {
      await store.close();
    }
  });
});
