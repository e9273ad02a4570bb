/**
 * The hot write path (task update → activity, change log, stream figures) runs prepared queries
 * (src/db/prepared.ts) and the connection keeps compiled statements (db/client.ts). These pin
 * that the prepared path writes exactly what plain Drizzle wrote: JSON columns encoded, nulls as
 * nulls, per-connection statements, nothing stale after a reopen.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createTask, eventsSince, getStream, getTask, heartbeat, listActivity, updateTask } from "../../src/core/index.ts";
import { inArray } from "drizzle-orm";
import { openStore } from "../../src/db/client.ts";
import { tasks } from "../../src/db/schema.ts";
import { rawSqlite, tempDir, tempStore } from "../helpers.ts";

describe("prepared write path", () => {
  test("an update stores metadata, files and the change log as JSON, exactly as given", async () => {
    const s = await tempStore();
    await createTask(s, { id: "T1", title: "one", metadata: { streamId: "S1", files: ["b.ts"], extra: { deep: [1, "x"] } } });
    await createTask(s, { id: "T2", title: "two", metadata: { streamId: "S1", files: ["a.ts"] } });
    const u = await updateTask(s, { id: "T1", status: "blocked", blockedReason: "waiting", notes: "n", metadata: { files: ["c.ts"], more: null } });
    expect(u.metadata).toEqual({ streamId: "S1", files: ["c.ts"], extra: { deep: [1, "x"] }, more: null });
    expect(u.blockedReason).toBe("waiting");
    const raw = rawSqlite(s).query("SELECT metadata, notes, description FROM tasks WHERE id = 'T1'").get() as Record<string, unknown>;
    expect(JSON.parse(raw.metadata as string)).toEqual(u.metadata);
    expect(raw.description).toBeNull();
    const stream = await getStream(s, "S1");
    expect(stream.files).toEqual(["a.ts", "c.ts"]);
    expect(stream.blockedTasks).toBe(1);
    const rawStream = rawSqlite(s).query("SELECT files, total_tasks FROM streams WHERE id = 'S1'").get() as Record<string, unknown>;
    expect(rawStream).toEqual({ files: '["a.ts","c.ts"]', total_tasks: 2 });
    const last = (await eventsSince(s, 0)).filter((e) => e.kind === "task" && e.op === "update").at(-1)!;
    expect(last.payload).toEqual(u);
    const rawEvent = rawSqlite(s).query("SELECT payload FROM events WHERE id = ?").get(last.id) as { payload: string };
    expect(JSON.parse(rawEvent.payload)).toEqual(JSON.parse(JSON.stringify(u)));
  });

  test("unblocking clears the reason; completing closes the activity through the prepared statement", async () => {
    const s = await tempStore();
    await createTask(s, { id: "T1", title: "one", metadata: { streamId: "S1" } });
    await updateTask(s, { id: "T1", status: "in_progress", assignedAgent: "a1" });
    await heartbeat(s, { taskId: "T1", agentId: "a1" });
    expect((await listActivity(s, { active: true })).activities).toHaveLength(1);
    await updateTask(s, { id: "T1", status: "blocked", blockedReason: "r" });
    expect((await listActivity(s, { active: true })).activities).toHaveLength(0);
    expect((await updateTask(s, { id: "T1", status: "completed" })).blockedReason).toBeNull();
    expect((await getStream(s, "S1")).status).toBe("completed");
  });

  test("two connections keep their own statements; a reopened file sees every write", async () => {
    const dir = tempDir();
    const path = join(dir, "tasks.db");
    const a = await openStore(path);
    const b = await openStore(path);
    await createTask(a, { id: "T1", title: "one", metadata: { streamId: "S1" } });
    for (let i = 0; i < 20; i++) await updateTask(i % 2 ? a : b, { id: "T1", notes: `n${i}` });
    expect((await getTask(a, "T1")).notes).toBe("n19");
    expect((await getTask(b, "T1")).notes).toBe("n19");
    await a.close();
    await b.close();
    const c = await openStore(path);
    expect((await getTask(c, "T1")).notes).toBe("n19");
    await updateTask(c, { id: "T1", notes: "after reopen" });
    expect((await getTask(c, "T1")).notes).toBe("after reopen");
    await c.close();
  });

  test("query shapes beyond the statement cache's size are evicted and compiled again correctly", async () => {
    const s = await tempStore();
    for (let i = 0; i < 5; i++) await createTask(s, { id: `T${i}`, title: `t${i}` });
    const idsIn = async (n: number) => await s.db.select({ id: tasks.id }).from(tasks).where(inArray(tasks.id, Array.from({ length: n }, (_, i) => `T${i}`)));
    // Each IN-list length is a new SQL text: 300 shapes, more than the cache holds.
    for (let n = 1; n <= 300; n++) expect(await idsIn(n)).toHaveLength(Math.min(n, 5));
    expect(await idsIn(1)).toEqual([{ id: "T0" }]); // evicted long ago, compiled again
    await updateTask(s, { id: "T1", notes: "still fine" });
    expect((await getTask(s, "T1")).notes).toBe("still fine");
  });
});
