import { expect, test } from "bun:test";
import { createPrd, createTask, getPrd, listPrds } from "../../src/core/index.ts";
import { tempStore } from "../helpers.ts";

test("a PRD's taskCount counts the tasks that name it", async () => {
  const s = await tempStore();
  await createPrd(s, { id: "PRD-1", title: "one", content: "" });
  await createPrd(s, { id: "PRD-2", title: "two", content: "" });
  await createTask(s, { title: "a", prdId: "PRD-1" });
  await createTask(s, { title: "b", prdId: "PRD-1" });
  await createTask(s, { id: "PRD-2", title: "a task whose id equals a PRD's" });
  expect((await getPrd(s, "PRD-1")).taskCount).toBe(2);
  expect((await getPrd(s, "PRD-2")).taskCount).toBe(0);
  expect(Object.fromEntries((await listPrds(s)).map((p) => [p.id, p.taskCount]))).toEqual({ "PRD-1": 2, "PRD-2": 0 });
});
