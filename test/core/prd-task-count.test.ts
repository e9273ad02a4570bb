import { expect, test } from "bun:test";
import { createPrd, createTask, getPrd, listPrds } from "../../src/core/index.ts";
import { tempStore } from "../helpers.ts";

test("a PRD's taskCount counts the tasks that name it", () => {
  const s = tempStore();
  createPrd(s, { id: "PRD-1", title: "one", content: "" });
  createPrd(s, { id: "PRD-2", title: "two", content: "" });
  createTask(s, { title: "a", prdId: "PRD-1" });
  createTask(s, { title: "b", prdId: "PRD-1" });
  createTask(s, { id: "PRD-2", title: "a task whose id equals a PRD's" });
  expect(getPrd(s, "PRD-1").taskCount).toBe(2);
  expect(getPrd(s, "PRD-2").taskCount).toBe(0);
  expect(Object.fromEntries(listPrds(s).map((p) => [p.id, p.taskCount]))).toEqual({ "PRD-1": 2, "PRD-2": 0 });
});
