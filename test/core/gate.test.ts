import { describe, expect, test } from "bun:test";
import { checkStreamGate, dependenciesMessage, unmetDependencies } from "../../src/core/gate.ts";
import type { StreamView } from "../../src/core/streams.ts";
import { withProgress } from "../../src/core/progress.ts";

function stream(id: string, completed: number, total: number, deps: string[] = [], extra: Partial<StreamView> = {}): StreamView {
  return {
    streamId: id,
    streamName: id,
    streamPhase: deps.length ? "parallel" : "foundation",
    ...withProgress({ totalTasks: total, completedTasks: completed, inProgressTasks: 0, blockedTasks: 0, pendingTasks: total - completed }),
    dependencies: deps,
    worktreePath: null,
    branchName: null,
    files: [],
    archived: false,
    initiativeId: null,
    ...extra,
  };
}

describe("stream gate (pure)", () => {
  test("the exact SPEC message, one decimal", () => {
    const all = [stream("Stream-A", 3, 4), stream("Stream-B", 0, 2, ["Stream-A"])];
    const g = checkStreamGate("Stream-B", all);
    expect(g.ok).toBe(false);
    if (!g.ok) expect(g.message).toBe("Stream cannot start - dependencies incomplete: Stream-A (75.0%)");
  });

  test("several unmet joined with ', '; floored, never 100 before done; missing dependency named", () => {
    const all = [stream("Stream-A", 1999, 2000), stream("Stream-C", 0, 3), stream("Stream-Z", 0, 1, ["Stream-A", "Stream-C", "Stream-X"])];
    const g = checkStreamGate("Stream-Z", all);
    if (g.ok) throw new Error("expected refusal");
    expect(g.message).toBe("Stream cannot start - dependencies incomplete: Stream-A (99.9%), Stream-C (0.0%), Stream-X (not found)");
    expect(g.unmet.map((u) => u.status)).toEqual(["in_progress", "pending", "missing"]);
  });

  test("complete (even archived) dependencies pass; an empty dependency stream is not complete", () => {
    const all = [stream("Stream-A", 4, 4, [], { archived: true }), stream("Stream-E", 0, 0), stream("Stream-B", 0, 1, ["Stream-A"])];
    expect(checkStreamGate("Stream-B", all).ok).toBe(true);
    expect(unmetDependencies(stream("Stream-C", 0, 1, ["Stream-E"]), all)).toEqual([{ streamId: "Stream-E", progressPercentage: 0, status: "pending" }]);
    expect(checkStreamGate("Stream-A", all)).toMatchObject({ ok: true, unmet: [] });
  });

  test("unknown stream → 'Stream not found: Stream-X'", () => {
    expect(checkStreamGate("Stream-X", [])).toMatchObject({ ok: false, reason: "not_found", message: "Stream not found: Stream-X" });
    expect(dependenciesMessage([{ streamId: "A", progressPercentage: 50, status: "in_progress" }])).toBe(
      "Stream cannot start - dependencies incomplete: A (50.0%)",
    );
  });
});
