import { describe, expect, test } from "bun:test";
import {
  executionPlan,
  findCycle,
  graphIssues,
  topologicalOrder,
  validateGraph,
  type GraphStream,
} from "../../src/core/index.ts";
import type { OrchError } from "../../src/errors.ts";

const f = (id: string, ...deps: string[]): GraphStream => ({ id, phase: "foundation", dependencies: deps });
const p = (id: string, ...deps: string[]): GraphStream => ({ id, phase: "parallel", dependencies: deps });
const i = (id: string, ...deps: string[]): GraphStream => ({ id, phase: "integration", dependencies: deps });

const DARK_MODE = [f("Stream-A"), p("Stream-B", "Stream-A"), p("Stream-C", "Stream-A"), i("Stream-Z", "Stream-B", "Stream-C")];

function message(streams: GraphStream[], maxParallel?: number): string {
  try {
    validateGraph(streams, { maxParallel });
  } catch (err) {
    expect((err as OrchError).exitCode).toBe(2);
    return (err as Error).message;
  }
  return "valid";
}

describe("validateGraph: SPEC's exact messages", () => {
  test("a valid graph passes", () => {
    expect(message(DARK_MODE)).toBe("valid");
    expect(graphIssues(DARK_MODE)).toEqual([]);
  });

  test("no foundation stream", () => {
    expect(message([p("Stream-B"), i("Stream-Z", "Stream-B")])).toBe("At least one foundation stream required");
    expect(message([])).toBe("At least one foundation stream required");
  });

  test("more parallel streams than the maximum (default 5, configurable)", () => {
    const six = [f("A"), ...["B", "C", "D", "E", "F", "G"].map((id) => p(id, "A"))];
    expect(message(six)).toBe("Cannot create more than 5 parallel streams");
    expect(message(six.slice(0, 6))).toBe("valid"); // exactly 5
    expect(message(six, 6)).toBe("valid");
    expect(message(six, 3)).toBe("Cannot create more than 3 parallel streams");
  });

  test("unknown dependency", () => {
    expect(message([f("Stream-A"), p("Stream-B", "Stream-X")])).toBe(
      "Unknown dependency: Stream-B depends on Stream-X, which does not exist",
    );
  });

  test("circular dependency with the actual path: length 1, 2 and 5", () => {
    expect(message([f("Stream-A", "Stream-A")])).toBe("Circular dependency: Stream-A -> Stream-A");
    expect(message([f("Stream-A", "Stream-B"), p("Stream-B", "Stream-A")])).toBe(
      "Circular dependency: Stream-A -> Stream-B -> Stream-A",
    );
    const five = [f("F"), p("A", "F", "B"), p("B", "C"), p("C", "D"), p("D", "E"), p("E", "A")];
    expect(message(five)).toBe("Circular dependency: A -> B -> C -> D -> E -> A");
  });

  test("the cycle path starts where the cycle does, not at the stream that reached it", () => {
    // X leads into the B⇄C cycle but is not part of it.
    expect(findCycle([f("X", "B"), p("B", "C"), p("C", "B")])).toEqual(["B", "C", "B"]);
    expect(findCycle(DARK_MODE)).toBeNull();
  });

  test("a stream may not wait for a later phase", () => {
    expect(message([f("A", "B"), p("B")])).toBe("A (foundation) cannot depend on B (parallel), which runs in a later phase");
  });

  test("every issue is reported, most fundamental first", () => {
    const issues = graphIssues([p("B", "X"), p("C", "C")], { maxParallel: 1 });
    expect(issues.map((x) => x.code)).toEqual(["no_foundation", "too_many_parallel", "unknown_dependency", "cycle"]);
    expect(issues[3]!.streams).toEqual(["C", "C"]);
  });
});

describe("plan and order", () => {
  test("execution plan by phase, in the order given", () => {
    expect(executionPlan(DARK_MODE)).toEqual({ foundation: ["Stream-A"], parallel: ["Stream-B", "Stream-C"], integration: ["Stream-Z"] });
  });

  test("topological order: dependencies first, then phase, then the order given", () => {
    expect(topologicalOrder(DARK_MODE)).toEqual(["Stream-A", "Stream-B", "Stream-C", "Stream-Z"]);
    expect(topologicalOrder([p("B", "C"), f("A"), p("C", "A")])).toEqual(["A", "C", "B"]);
    expect(() => topologicalOrder([f("A", "B"), p("B", "A")])).toThrow("Circular dependency: A -> B -> A");
  });

  test("a 20,000-stream chain: no recursion limit, and the cycle found at its far end", () => {
    const n = 20_000;
    const chain = Array.from({ length: n }, (_, k) => p(`S${k}`, ...(k + 1 < n ? [`S${k + 1}`] : [])));
    expect(findCycle(chain)).toBeNull();
    expect(topologicalOrder(chain)[0]).toBe(`S${n - 1}`);
    chain[n - 1] = p(`S${n - 1}`, `S${n - 2}`);
    expect(findCycle(chain)).toEqual([`S${n - 2}`, `S${n - 1}`, `S${n - 2}`]);
  });
});
