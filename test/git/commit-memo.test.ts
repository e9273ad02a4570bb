import { expect, test } from "bun:test";
import { commitMemo } from "../../src/git/commit-memo.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);

test("answers for full commit ids are remembered; refs and errors are asked afresh", () => {
  const memo = commitMemo<number>();
  let runs = 0;
  const ask = (ids: string[]) => memo(ids, () => ++runs);
  expect(ask([A, B])).toBe(1);
  expect(ask([A, B])).toBe(1);
  expect(ask([B, A])).toBe(2); // order matters: ours and theirs
  expect(ask(["main", B])).toBe(3);
  expect(ask(["main", B])).toBe(4);
  expect(() => memo([A, A], () => { throw new Error("git failed"); })).toThrow("git failed");
  expect(memo([A, A], () => 7)).toBe(7);
});
