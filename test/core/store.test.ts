/**
 * The store's transactions and reads under concurrency in one process (src/db/client.ts): an
 * async body may wait on anything, and other tasks of the process (the API server, an MCP
 * session with calls in flight) go on meanwhile. They must never share its transaction, never
 * read what it has not committed, and a `tx` inside a body joins it.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createTask, getTask, listTasks, updateTask } from "../../src/core/index.ts";
import { openStore, sqliteConnections } from "../../src/db/client.ts";
import { tasks } from "../../src/db/schema.ts";
import { tempDir, tempStore } from "../helpers.ts";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("store transactions", () => {
  test("two tasks' transactions never interleave: the second begins after the first commits", async () => {
    const s = await tempStore();
    const order: string[] = [];
    const a = s.tx(async (db) => {
      order.push("a begins");
      await db.insert(tasks).values({ id: "A1", title: "a", createdAt: s.now(), updatedAt: s.now() });
      await tick(); // the event loop runs other tasks meanwhile
      order.push("a ends");
    });
    const b = s.tx(async (db) => {
      order.push("b begins");
      // a has committed: its row is here, in b's own transaction.
      expect((await db.select().from(tasks)).map((t) => t.id)).toEqual(["A1"]);
      order.push("b ends");
    });
    await Promise.all([a, b]);
    expect(order).toEqual(["a begins", "a ends", "b begins", "b ends"]);
  });

  test("a read outside a transaction sees committed data only, never a transaction still open", async () => {
    const s = await tempStore();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const started = new Promise<void>((r) => (inside = r));
    const writing = s.tx(async () => {
      await createTask(s, { id: "T1", title: "not yet" });
      inside();
      await held;
    });
    await started;
    // Another task of the process reads meanwhile: nothing of the open transaction.
    await expect(getTask(s, "T1")).rejects.toThrow("Task not found: T1");
    expect((await listTasks(s)).tasks).toEqual([]);
    release();
    await writing;
    expect((await getTask(s, "T1")).title).toBe("not yet");
  });

  test("a tx inside a body joins it (one commit, one rollback), also through the core's own functions", async () => {
    const s = await tempStore();
    await s.tx(async () => {
      await createTask(s, { id: "T1", title: "one" }); // createTask opens its own tx: joined
      await s.tx(async () => updateTask(s, { id: "T1", notes: "nested" }));
      // The body reads its own writes through store.db, not the committed data.
      expect((await getTask(s, "T1")).notes).toBe("nested");
    });
    expect((await getTask(s, "T1")).notes).toBe("nested");
    await expect(
      s.tx(async () => {
        await createTask(s, { id: "T2", title: "two" });
        await updateTask(s, { id: "T1", notes: "rolled back" });
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    await expect(getTask(s, "T2")).rejects.toThrow("Task not found: T2");
    expect((await getTask(s, "T1")).notes).toBe("nested");
  });

  test("concurrent calls of the core from many tasks lose nothing and each sees its own write", async () => {
    const s = await tempStore();
    await createTask(s, { id: "T1", title: "counter", metadata: { streamId: "S" } });
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await tick();
        const t = await updateTask(s, { id: "T1", notes: `n${i}`, metadata: { [`k${i}`]: i } });
        return t.metadata[`k${i}`];
      }),
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // Read-then-write (metadata merge) in every one of them: no update lost.
    expect(Object.keys((await getTask(s, "T1")).metadata)).toHaveLength(51);
  });

  test("a task a body started and left running is outside the transaction once it committed", async () => {
    const s = await tempStore();
    let later!: Promise<unknown>;
    await s.tx(async () => {
      await createTask(s, { id: "T1", title: "one" });
      later = (async () => {
        await tick();
        // Its own transaction now, not the finished one (which would fail or write outside any).
        return updateTask(s, { id: "T1", notes: "afterwards" });
      })();
    });
    await later;
    expect((await getTask(s, "T1")).notes).toBe("afterwards");
  });

  test("two stores of one process on one file queue together; a body writing through the other store is refused, not a deadlock", async () => {
    const path = join(tempDir(), "tasks.db");
    const a = await openStore(path);
    const b = await openStore(path);
    try {
      const order: string[] = [];
      await Promise.all([
        a.tx(async () => {
          order.push("a");
          await createTask(a, { id: "A1", title: "a" });
          await tick();
          order.push("a done");
        }),
        b.tx(async () => {
          order.push("b");
          await createTask(b, { id: "B1", title: "b" });
        }),
      ]);
      expect(order).toEqual(["a", "a done", "b"]);
      await expect(a.tx(() => createTask(b, { id: "X", title: "x" }))).rejects.toThrow("already being written by another connection of this task");
      expect((await listTasks(b)).tasks.map((t) => t.id)).toEqual(["A1", "B1"]);
    } finally {
      await b.close();
      await a.close();
    }
  });

  test("a closed store says so", async () => {
    const s = await openStore(join(tempDir(), "tasks.db"));
    await s.close();
    expect(() => s.db).toThrow("is closed");
    await expect(s.tx(async () => 1)).rejects.toThrow("is closed");
    await expect(s.changeToken()).rejects.toThrow("is closed");
  });
});

describe(":memory:", () => {
  test("a private database with a writing and a reading connection, gone when closed", async () => {
    const s = await openStore(":memory:");
    expect(s.path).toBe(":memory:");
    const file = sqliteConnections(s)!.writer.filename;
    expect(existsSync(file)).toBe(true);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const writing = s.tx(async () => {
      await createTask(s, { id: "T1", title: "one" });
      await held;
    });
    await tick();
    expect((await listTasks(s)).tasks).toEqual([]); // not yet committed
    release();
    await writing;
    expect((await listTasks(s)).tasks.map((t) => t.id)).toEqual(["T1"]);
    expect(s.watchChanges(() => {})).toBeNull();
    await s.close();
    expect(existsSync(dirname(file))).toBe(false);
  });
});
