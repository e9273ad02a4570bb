import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createChangeFeed, sharedChangeFeed } from "../../src/core/change-feed.ts";
import { createTask, heartbeat, lastEventId, listTasks, updateTask, type ChangeEvent } from "../../src/core/index.ts";
import { openStore } from "../../src/db/client.ts";
import { openTestStore } from "../backend.ts";
import { runOrch, tempDir, tempStore } from "../helpers.ts";

function collect() {
  const got: ChangeEvent[][] = [];
  return { got, fn: (b: ChangeEvent[]) => void got.push(b), flat: () => got.flat() };
}

describe("change token", () => {
  test("moves on this connection's commits and on another connection's, not on reads", async () => {
    const dir = tempDir();
    const a = await openTestStore(join(dir, "t.db"));
    const b = await openTestStore(join(dir, "t.db"));
    try {
      const token = () => a.changeToken();
      const t0 = await token();
      expect(await token()).toBe(t0);
      await createTask(a, { title: "mine" });
      const t1 = await token();
      expect(t1).not.toBe(t0);
      await listTasks(a);
      expect(await token()).toBe(t1);
      await createTask(b, { title: "theirs" });
      expect(await token()).not.toBe(t1);
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe("change feed", () => {
  test("starts after the newest event and delivers only new ones, oldest first, in one batch", async () => {
    const s = await tempStore();
    await createTask(s, { id: "T-OLD", title: "before the feed" });
    const feed = await createChangeFeed(s);
    expect(feed.lastId).toBe(await lastEventId(s));
    const c = collect();
    feed.subscribe(c.fn);
    expect(await feed.poll()).toBe(0);
    await createTask(s, { id: "T-1", title: "one", metadata: { streamId: "Stream-A" } });
    const n = await feed.poll();
    expect(n).toBe(2); // the task, then its stream's figures
    expect(c.got).toHaveLength(1);
    expect(c.flat().map((e) => [e.kind, e.entityId])).toEqual([
      ["task", "T-1"],
      ["stream", "Stream-A"],
    ]);
    expect(feed.lastId).toBe(await lastEventId(s));
    expect(await feed.poll()).toBe(0);
  });

  test("sees commits made by another connection (as another process makes them)", async () => {
    const dir = tempDir();
    const mine = await openTestStore(join(dir, "t.db"));
    const other = await openTestStore(join(dir, "t.db"));
    try {
      const feed = await createChangeFeed(mine);
      const c = collect();
      feed.subscribe(c.fn);
      await createTask(other, { id: "T-X", title: "from elsewhere" });
      expect(await feed.poll()).toBe(1);
      expect(c.flat()[0]).toMatchObject({ kind: "task", entityId: "T-X", op: "create" });
    } finally {
      await other.close();
      await mine.close();
    }
  });

  test("fromId replays; long gaps arrive in ordered batches of at most 500", async () => {
    const s = await tempStore();
    await s.tx(async () => {
      for (let i = 0; i < 1200; i++) await createTask(s, { id: `T-${i}`, title: `t${i}` });
    });
    const feed = await createChangeFeed(s, { fromId: 0 });
    const c = collect();
    feed.subscribe(c.fn);
    // The token has not moved since the feed was made: poll() alone would see nothing new.
    await createTask(s, { id: "T-last", title: "last" });
    expect(await feed.poll()).toBe(1201);
    expect(c.got.map((b) => b.length)).toEqual([500, 500, 201]);
    const ids = c.flat().map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("unsubscribe stops delivery; a throwing listener does not starve the others", async () => {
    const s = await tempStore();
    const errors: unknown[] = [];
    const feed = await createChangeFeed(s, { onError: (e) => errors.push(e) });
    const c = collect();
    feed.subscribe(() => {
      throw new Error("listener bug");
    });
    const off = feed.subscribe(c.fn);
    await createTask(s, { title: "a" });
    await feed.poll();
    expect(c.flat()).toHaveLength(1);
    expect(errors).toHaveLength(1);
    off();
    await createTask(s, { title: "b" });
    await feed.poll();
    expect(c.flat()).toHaveLength(1);
  });

  test("start() polls on its own: a commit reaches the listener within the interval; stop() ends it", async () => {
    const s = await tempStore();
    await createTask(s, { id: "T-1", title: "x" });
    const feed = await createChangeFeed(s, { intervalMs: 20, watch: false });
    const arrived = new Promise<ChangeEvent[]>((resolve) => feed.subscribe(resolve));
    feed.start();
    feed.start(); // idempotent
    expect(feed.running).toBe(true);
    const t0 = performance.now();
    await heartbeat(s, { taskId: "T-1", agentId: "me" });
    const batch = await arrived;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(batch[0]).toMatchObject({ kind: "activity", op: "create" });
    feed.stop();
    expect(feed.running).toBe(false);
  });

  test("the file watch brings another process's commit at once, without waiting for the poll", async () => {
    const dir = tempDir();
    const db = join(dir, "tasks.db");
    const s = await openTestStore(db);
    try {
      const feed = await createChangeFeed(s, { intervalMs: 600_000 }); // the poll alone would take 10 minutes
      const arrived = new Promise<ChangeEvent[]>((resolve) => feed.subscribe(resolve));
      feed.start();
      const r = await runOrch(["task", "create", "--title", "from another process", "--id", "T-W"], { env: { ORCH_DB: db } });
      expect(r.code).toBe(0);
      const batch = await arrived;
      expect(batch[0]).toMatchObject({ kind: "task", entityId: "T-W", op: "create" });
      feed.stop();
    } finally {
      await s.close();
    }
  });

  test("a read error is reported and the next tick carries on", async () => {
    const dir = tempDir();
    const s = await openTestStore(join(dir, "t.db"));
    let errors = 0;
    // Two errors means the timer survived the first (a throw escaping it would end the polling).
    const twice = new Promise<void>(async (resolve) => {
      const feed = await createChangeFeed(s, {
        intervalMs: 5,
        onError: () => {
          if (++errors === 2) {
            feed.stop();
            resolve();
          }
        },
      });
      feed.start();
      await s.close();
    });
    await twice;
    expect(errors).toBe(2);
  });

  test("sharedChangeFeed: one poller per store", async () => {
    const s = await tempStore();
    expect(await sharedChangeFeed(s)).toBe(await sharedChangeFeed(s));
    expect(await sharedChangeFeed(s)).not.toBe(await sharedChangeFeed(await tempStore()));
  });

  test("an update in a transaction arrives whole: task, activity, stream in commit order", async () => {
    const s = await tempStore();
    await createTask(s, { id: "T-1", title: "x", metadata: { streamId: "S" } });
    const feed = await createChangeFeed(s);
    const c = collect();
    feed.subscribe(c.fn);
    await updateTask(s, { id: "T-1", status: "in_progress" });
    await feed.poll();
    expect(c.flat().map((e) => e.kind)).toEqual(["activity", "task", "stream"]);
  });
});
