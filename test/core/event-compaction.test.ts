/** The change log is compacted: the newest events and every merge record stay; replay knows the gap. */
import { expect, test } from "bun:test";
import { EVENTS_KEPT, lastEventId, recordEvent, replayable } from "../../src/core/events.ts";
import { rawSqlite, tempStore } from "../helpers.ts";

test("past EVENTS_KEPT the oldest events go, merge records stay, and replay across the gap is refused", async () => {
  const store = await tempStore();
  await store.tx(async (db) => {
    await recordEvent(db, "stream", "Stream-B", "update", { streamId: "Stream-B", mergeConflict: null });
    for (let i = 0; i < EVENTS_KEPT + 10_000; i++) await recordEvent(db, "task", `T-${i % 100}`, "update", { i });
  });
  const latest = await lastEventId(store);
  const count = (rawSqlite(store).query("SELECT count(*) AS n FROM events").get() as { n: number }).n;
  expect(latest).toBe(EVENTS_KEPT + 10_001);
  expect(count).toBeLessThanOrEqual(EVENTS_KEPT + 5_001);
  expect(count).toBeGreaterThanOrEqual(EVENTS_KEPT);
  // The merge record (event 1) survived; the newest events are all there.
  expect(rawSqlite(store).query("SELECT id FROM events WHERE id = 1").get()).toEqual({ id: 1 });
  expect(await replayable(store, latest - 1000, latest)).toBe(true);
  expect(await replayable(store, 5, latest)).toBe(false);
});

test("metadata is capped (16 KB as JSON), also once merged; nothing is written when it does not fit", async () => {
  const { createTask, updateTask, getTask } = await import("../../src/core/tasks.ts");
  const { isOrchError } = await import("../../src/errors.ts");
  const store = await tempStore();
  await createTask(store, { id: "T-1", title: "t", metadata: { a: "x".repeat(9000) } });
  const refused = async (f: () => unknown) => {
    try {
      await f();
    } catch (err) {
      return isOrchError(err) && err.exitCode === 2 ? err.message : `unexpected: ${err}`;
    }
    return "not refused";
  };
  expect(await refused(() => createTask(store, { id: "T-2", title: "t", metadata: { big: "x".repeat(17_000) } }))).toContain("larger than 16 KB");
  expect(await refused(() => updateTask(store, { id: "T-1", metadata: { b: "y".repeat(9000) } }))).toContain("would be larger than 16 KB");
  expect(Object.keys((await getTask(store, "T-1")).metadata)).toEqual(["a"]);
  await updateTask(store, { id: "T-1", metadata: { b: "small" } });
  expect((await getTask(store, "T-1")).metadata).toMatchObject({ b: "small" });
});

test("a page also ends at its byte budget (at least one task a page), and the cursor goes on from there", async () => {
  const { createTask, listTasks } = await import("../../src/core/tasks.ts");
  const store = await tempStore();
  for (let i = 0; i < 10; i++) await createTask(store, { id: `BIG-${i}`, title: "t", description: "x".repeat(50_000) });
  const first = await listTasks(store, {}, 1000, 120_000);
  expect(first.tasks.map((t) => t.id)).toEqual(["BIG-0", "BIG-1"]);
  expect(first).toMatchObject({ totalTasks: 2, matchingTasks: 10 });
  const seen = [...first.tasks.map((t) => t.id)];
  let cursor = first.nextCursor;
  while (cursor) {
    const next = await listTasks(store, { cursor }, 1000, 10); // a budget smaller than one task: one a page
    seen.push(...next.tasks.map((t) => t.id));
    cursor = next.nextCursor;
  }
  expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `BIG-${i}`));
});
