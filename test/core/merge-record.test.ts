import { describe, expect, test } from "bun:test";
import {
  createTask,
  currentMergeConflict,
  judgeConflict,
  lastMergeState,
  recordMergeConflict,
  type ConflictFacts,
  type MergeConflictRecord,
} from "../../src/core/index.ts";
import { tempStore } from "../helpers.ts";

const C: MergeConflictRecord = { into: "main", branch: "stream-b", files: ["a.ts"], targetCommit: "t1", sourceCommit: "s1", detectedAt: "x" };
const facts = (f: Partial<ConflictFacts>): ConflictFacts => ({ sourceTip: "s1", targetTip: "t1", merged: false, predict: () => ["a.ts"], ...f });

describe("judgeConflict: does a recorded conflict still hold?", () => {
  test("nothing moved: it holds, without asking git to predict", () => {
    expect(judgeConflict(C, facts({ predict: () => { throw new Error("not asked"); } }))).toEqual({ holds: true, files: ["a.ts"] });
  });
  test("the branch is in the target (merged by hand): it does not", () => {
    expect(judgeConflict(C, facts({ targetTip: "t2", merged: true }))).toEqual({ holds: false, why: "merged" });
  });
  test("a side moved: today's prediction decides, with today's files", () => {
    expect(judgeConflict(C, facts({ sourceTip: "s2", predict: () => [] }))).toEqual({ holds: false, why: "resolved" });
    expect(judgeConflict(C, facts({ targetTip: "t2", predict: () => ["a.ts", "b.ts"] }))).toEqual({ holds: true, files: ["a.ts", "b.ts"] });
  });
  test("the branch or the target is gone: it does not", () => {
    expect(judgeConflict(C, facts({ sourceTip: null }))).toEqual({ holds: false, why: "branch-gone" });
    expect(judgeConflict(C, facts({ targetTip: null }))).toEqual({ holds: false, why: "branch-gone" });
  });
});

describe("currentMergeConflict", () => {
  const withConflict = async () => {
    const store = await tempStore();
    await createTask(store, { id: "T-1", title: "t", metadata: { streamId: "Stream-B", streamPhase: "parallel" } });
    await recordMergeConflict(store, "Stream-B", { into: "main", branch: "stream-b", files: ["a.ts"], targetCommit: "t1", sourceCommit: "s1" });
    return store;
  };

  test("merged by hand: dropped for every reader, and recorded as merged outside orch", async () => {
    const store = await withConflict();
    expect(await currentMergeConflict(store, "Stream-B", () => facts({ targetTip: "t2", merged: true }))).toBeNull();
    expect(await lastMergeState(store, "Stream-B")).toMatchObject({ mergeConflict: null, merged: { into: "main", branch: "stream-b", commit: "t2", outside: true } });
  });

  test("resolved on the branch: dropped; still holding after a side moved: recorded again with today's files", async () => {
    const store = await withConflict();
    const again = await currentMergeConflict(store, "Stream-B", () => facts({ sourceTip: "s2", predict: () => ["b.ts"] }));
    expect(again).toMatchObject({ files: ["b.ts"], sourceCommit: "s2", targetCommit: "t1" });
    expect((await lastMergeState(store, "Stream-B"))!.mergeConflict).toEqual(again);
    expect(await currentMergeConflict(store, "Stream-B", () => facts({ sourceTip: "s3", predict: () => [] }))).toBeNull();
    expect(await lastMergeState(store, "Stream-B")).toEqual({ mergeConflict: null, merged: null });
  });

  test("no record, or one that holds: nothing written", async () => {
    const store = await withConflict();
    const before = await lastMergeState(store, "Stream-B");
    expect(await currentMergeConflict(store, "Stream-B", () => facts({}))).toEqual(before!.mergeConflict);
    expect(await currentMergeConflict(store, "Stream-X", () => { throw new Error("not asked"); })).toBeNull();
  });
});
