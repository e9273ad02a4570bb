/**
 * What the most frequent write costs on disk, and the schema change that made it small: a task
 * update sets only the columns it changes (an index entry is rewritten whenever its column is
 * SET), and the change log has a plain rowid key and one partial index (migration 0001). Pages are
 * counted as WAL frames with auto-checkpoints off: a deterministic measure, not a timing.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { createTask, eventsSince, getTask, heartbeat, listActivity, listTasks, updateTask } from "../../src/core/index.ts";
import { lastMergeState, recordMergeConflict } from "../../src/core/merge-record.ts";
import { openStore, type Store } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { migrations } from "../../src/db/migrations/index.ts";
import { rawSqlite, tempDir, tempStore } from "../helpers.ts";

const WAL_HEADER = 32;
const FRAME = 4096 + 24;

/** WAL frames written by `fn` (the WAL is emptied first, and not checkpointed meanwhile). */
async function framesWritten(s: Store, fn: () => unknown): Promise<number> {
  rawSqlite(s).run("PRAGMA wal_autocheckpoint = 0");
  rawSqlite(s).run("PRAGMA wal_checkpoint(TRUNCATE)");
  await fn();
  const size = statSync(`${s.path}-wal`).size;
  return size === 0 ? 0 : (size - WAL_HEADER) / FRAME;
}

async function storeWithTasks(n: number): Promise<Store> {
  const s = await tempStore();
  for (let k = 1; k <= n; k++) await createTask(s, { id: `T${k}`, title: `task ${k}`, metadata: { streamId: `S${k % 4}` } });
  return s;
}

describe("a task update's write footprint", () => {
  test("a note writes the task's page and one change-log page, about two pages per update", async () => {
    const s = await storeWithTasks(16);
    for (let i = 0; i < 50; i++) await updateTask(s, { id: `T${(i % 16) + 1}`, notes: `warm ${i}` }); // the log's tail page exists
    const updates = 200;
    const frames = await framesWritten(s, async () => {
      for (let i = 0; i < updates; i++) await updateTask(s, { id: `T${(i % 16) + 1}`, notes: `note ${i}` });
    });
    // Before: 6.3 (both status indexes, the log's kind index and sqlite_sequence rewritten every time).
    expect(frames / updates).toBeLessThan(2.5);
    expect((await getTask(s, "T16")).notes).toBe("note 191");
  });

  test("only the changed columns are set; the indexes still answer for every column that moved", async () => {
    const s = await storeWithTasks(4);
    await updateTask(s, { id: "T1", status: "blocked", blockedReason: "waiting on T2" });
    await updateTask(s, { id: "T1", notes: "still waiting" });
    expect(await getTask(s, "T1")).toMatchObject({ status: "blocked", blockedReason: "waiting on T2", notes: "still waiting", title: "task 1" });
    await updateTask(s, { id: "T1", status: "in_progress", title: "renamed" });
    expect(await getTask(s, "T1")).toMatchObject({ status: "in_progress", blockedReason: null, notes: "still waiting", title: "renamed" });
    await updateTask(s, { id: "T2", metadata: { streamId: "S9" } });
    expect((await listTasks(s, { status: "in_progress" })).tasks.map((t) => t.id)).toEqual(["T1"]);
    expect((await listTasks(s, { status: "blocked" })).tasks).toEqual([]);
    expect((await listTasks(s, { streamId: "S9" })).tasks.map((t) => t.id)).toEqual(["T2"]);
    expect((await listTasks(s, { streamId: "S2" })).tasks).toEqual([]);
    expect(rawSqlite(s).query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
  });

  test("a note leaves the agent's activity open; a status, even the same one, moves it", async () => {
    const s = await storeWithTasks(1);
    await heartbeat(s, { taskId: "T1", agentId: "a1" });
    await updateTask(s, { id: "T1", notes: "looked at it" });
    expect((await listActivity(s, { active: true })).activities.map((a) => a.agentId)).toEqual(["a1"]);
    await updateTask(s, { id: "T1", status: "pending" });
    expect((await listActivity(s, { active: true })).activities).toEqual([]);
  });
});

describe("migration 0001: the lean change log", () => {
  test("an existing v0 database keeps every event and id; new ids follow; lookups use the new index", async () => {
    const path = join(tempDir(), "tasks.db");
    const old = new Database(path, { create: true, strict: true });
    old.run("PRAGMA journal_mode = WAL");
    migrate(old, migrations.slice(0, 1));
    const insert = old.query("INSERT INTO events (kind, entity_id, op, payload) VALUES (?, ?, 'update', ?)");
    for (let i = 0; i < 5; i++) insert.run("task", `T${i}`, JSON.stringify({ i }));
    insert.run("stream", "S1", JSON.stringify({ mergeConflict: null, merged: { into: "main", branch: "b", commit: "c", mergedAt: "t" } }));
    old.run("DELETE FROM events WHERE id = 6"); // AUTOINCREMENT remembered 6; a rowid key starts again after 5
    insert.run("stream", "S1", JSON.stringify({ mergeConflict: null, merged: { into: "main", branch: "b", commit: "c", mergedAt: "t" } }));
    old.close();

    const s = await openStore(path);
    const versions = rawSqlite(s).query("SELECT version FROM __orch_migrations ORDER BY version").all();
    expect(versions).toEqual(migrations.map((m) => ({ version: m.version })));
    const before = await eventsSince(s, 0);
    expect(before.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 7]);
    expect(before[0]!.payload).toEqual({ i: 0 });
    expect((await lastMergeState(s, "S1"))?.merged?.commit).toBe("c");

    await createTask(s, { id: "NEW", title: "after the upgrade" });
    expect((await eventsSince(s, 7)).length).toBeGreaterThan(0); // ids go on after the highest kept one
    await recordMergeConflict(s, "S1", { into: "main", branch: "b", files: ["x.ts"], targetCommit: "t", sourceCommit: "s" });
    expect((await lastMergeState(s, "S1"))?.mergeConflict?.files).toEqual(["x.ts"]);

    const indexes = rawSqlite(s).query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'").all();
    expect(indexes).toEqual([{ name: "events_stream_idx" }]);
    const plan = rawSqlite(s)
      .query("EXPLAIN QUERY PLAN SELECT payload FROM events WHERE kind = 'stream' AND entity_id = ? ORDER BY id DESC LIMIT 1")
      .all("S1") as { detail: string }[];
    expect(plan.map((p) => p.detail).join(" ")).toContain("events_stream_idx");
    expect(rawSqlite(s).query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    await s.close();
  });
});
