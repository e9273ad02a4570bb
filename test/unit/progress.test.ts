import { describe, expect, test } from "bun:test";
import { figuresFromStatusCounts, progressPercentage, streamStatus, withProgress } from "../../src/core/progress.ts";
import { overallFromStreams } from "../../src/core/summary.ts";

const counts = (c: Partial<Record<string, number>>) => figuresFromStatusCounts(c);

describe("progressPercentage", () => {
  test("one decimal, floored", () => {
    expect(progressPercentage(2, 3)).toBe(66.6);
    expect(progressPercentage(1, 3)).toBe(33.3);
    expect(progressPercentage(1999, 2000)).toBe(99.9);
    expect(progressPercentage(3, 4)).toBe(75);
    expect(progressPercentage(9, 15)).toBe(60);
  });
  test("never 100 before every task is done", () => {
    for (let total = 1; total <= 3000; total += 7) expect(progressPercentage(total - 1, total)).toBeLessThan(100);
    expect(progressPercentage(4, 4)).toBe(100);
  });
  test("empty stream is 0", () => {
    expect(progressPercentage(0, 0)).toBe(0);
  });
});

describe("streamStatus", () => {
  test("completed needs every task done and at least one task", () => {
    expect(streamStatus(counts({ completed: 4 }))).toBe("completed");
    expect(streamStatus(counts({}))).toBe("pending");
  });
  test("blocked only while nothing is in progress", () => {
    expect(streamStatus(counts({ blocked: 1, pending: 2 }))).toBe("blocked");
    expect(streamStatus(counts({ blocked: 1, in_progress: 1 }))).toBe("in_progress");
    expect(streamStatus(counts({ blocked: 1, completed: 1 }))).toBe("blocked");
  });
  test("in_progress when any is in progress or some are done", () => {
    expect(streamStatus(counts({ in_progress: 1, pending: 3 }))).toBe("in_progress");
    expect(streamStatus(counts({ completed: 1, pending: 3 }))).toBe("in_progress");
  });
  test("pending otherwise", () => {
    expect(streamStatus(counts({ pending: 3 }))).toBe("pending");
  });
});

describe("figures", () => {
  test("cancelled tasks are excluded from the total", () => {
    const f = withProgress(counts({ completed: 2, cancelled: 5 }));
    expect(f.totalTasks).toBe(2);
    expect(f.status).toBe("completed");
    expect(f.progressPercentage).toBe(100);
  });
  test("overall sums streams", () => {
    const o = overallFromStreams([counts({ completed: 4 }), counts({ completed: 1, pending: 1 }), counts({ completed: 1, pending: 2 })]);
    expect(o.totalTasks).toBe(9);
    expect(o.completedTasks).toBe(6);
    expect(o.progressPercentage).toBe(66.6);
  });
});
