import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DARK_MODE_PRD, formatPrdError, parsePrd, type Plan, type PrdError } from "../../src/core/index.ts";

// The seed guide lives in ../shared beside the repository (CI lays it there too).
const GUIDE = join(import.meta.dir, "..", "..", "..", "shared", "seed", "orchestration-system-guide.md");

function plan(text: string): Plan {
  const r = parsePrd(text);
  if (!r.ok) throw new Error(r.errors.map(formatPrdError).join("\n"));
  return r.plan;
}

function errors(text: string): string[] {
  const r = parsePrd(text);
  if (r.ok) throw new Error("expected errors");
  return r.errors.map(formatPrdError);
}

describe("parsePrd: the guide's Dark Mode PRD", () => {
  test("4 streams, 15 tasks, phases and default dependencies", () => {
    const p = plan(DARK_MODE_PRD);
    expect(p.initiative).toBe("Add Dark Mode Support");
    expect(p.streams.map((s) => [s.id, s.name, s.phase, s.dependencies, s.tasks.length])).toEqual([
      ["Stream-A", "Core Theme System", "foundation", [], 4],
      ["Stream-B", "UI Component Updates", "parallel", ["Stream-A"], 3],
      ["Stream-C", "Page Theme Integration", "parallel", ["Stream-A"], 3],
      ["Stream-Z", "Testing and Documentation", "integration", ["Stream-B", "Stream-C"], 5],
    ]);
    const tasks = p.streams.flatMap((s) => s.tasks);
    expect(tasks).toHaveLength(15);
    expect(tasks.map((t) => t.id)).toEqual(Array.from({ length: 15 }, (_, i) => `TASK-${String(i + 1).padStart(3, "0")}`));
    expect(tasks[0]).toEqual({ id: "TASK-001", title: "Create theme type definitions", line: 5 });
    expect(tasks[14]).toEqual({ id: "TASK-015", title: "Performance testing", line: 27 });
  });

  // Never skipped: without ../shared the test says where it looked.
  test("the sample is the guide's text, verbatim", async () => {
    if (!existsSync(GUIDE)) throw new Error(`the seed guide is not at ${GUIDE} (../shared/seed beside the repository)`);
    const guide = await Bun.file(GUIDE).text();
    expect(guide).toContain(`\`\`\`markdown\n${DARK_MODE_PRD.trimEnd()}\n\`\`\``);
  });

  test("CRLF line endings parse the same", () => {
    expect(plan(DARK_MODE_PRD.replace(/\n/g, "\r\n"))).toEqual(plan(DARK_MODE_PRD));
  });
});

describe("parsePrd: annotations", () => {
  const text = `# Initiative: Payments

Some prose about the initiative. It is ignored.
- Goals are listed elsewhere (a bullet without an id is prose)

## Foundation Phase
### Stream-Core: Ledger core
- PAY-1: Ledger schema [files: src/ledger.ts, \`src/db.ts\`] @agent-ta
- PAY-2: Money type @agent-me [files: src/money.ts]
  Use integer cents; never floats.

  Round half to even.
- PAY-3: See https://example.com for the spec

## Phase 2: Parallel
### Stream-Api: HTTP API (depends on Stream-Core)
- PAY-4: Endpoints
### Stream-Ui: Screens (depends on none)
- PAY-5: Checkout screen
### Stream-Jobs: Jobs (depends on Stream-Core and Stream-Api)
- PAY-6: Retry job

\`\`\`
### Not-A-Stream: inside a fence
- NOT-1: inside a fence
\`\`\`

## Integration Phase
### Stream-QA: End to end
- PAY-7: E2E
`;

  test("files, agents, descriptions, explicit and empty dependencies, prose and fences ignored", () => {
    const p = plan(text);
    const core = p.streams[0]!;
    expect(core.tasks[0]).toEqual({ id: "PAY-1", title: "Ledger schema", files: ["src/ledger.ts", "src/db.ts"], assignedAgent: "ta", line: 8 });
    expect(core.tasks[1]).toEqual({
      id: "PAY-2",
      title: "Money type",
      files: ["src/money.ts"],
      assignedAgent: "me",
      description: "Use integer cents; never floats.\n\nRound half to even.",
      line: 9,
    });
    expect(core.tasks[2]!.title).toBe("See https://example.com for the spec");
    expect(p.streams.map((s) => [s.id, s.phase, s.dependencies, s.explicitDependencies])).toEqual([
      ["Stream-Core", "foundation", [], false],
      ["Stream-Api", "parallel", ["Stream-Core"], true],
      ["Stream-Ui", "parallel", [], true],
      ["Stream-Jobs", "parallel", ["Stream-Core", "Stream-Api"], true],
      ["Stream-QA", "integration", ["Stream-Api", "Stream-Ui", "Stream-Jobs"], false],
    ]);
    expect(p.streams.flatMap((s) => s.tasks.map((t) => t.id))).not.toContain("NOT-1");
  });

  test("integration streams with no parallel phase depend on the foundation", () => {
    const p = plan("# Initiative: X\n## Foundation Phase\n### A: a\n- T1: t\n## Integration Phase\n### Z: z\n- T2: t\n");
    expect(p.streams[1]!.dependencies).toEqual(["A"]);
  });

  test("phase heading variants", () => {
    for (const h of ["Foundation Phase", "foundation", "Phase 1: Foundation", "FOUNDATION PHASE (must finish first)"]) {
      expect(plan(`# Initiative: X\n## ${h}\n### A: a\n- T1: t\n`).streams[0]!.phase).toBe("foundation");
    }
  });
});

describe("parsePrd: errors name their line", () => {
  test("a stream id git could not use as a branch name", () => {
    const errs = errors("# Initiative: X\n\n## Foundation Phase\n### core..v2: A\n- T-1: a\n### api.lock: B\n- T-2: b\n");
    expect(errs).toEqual([
      `PRD line 4: invalid stream id "core..v2": a stream id may not contain '..' (it names a git branch)`,
      "PRD line 5: task outside a stream", // as for any refused stream heading
      `PRD line 6: invalid stream id "api.lock": a stream id may not end with '.lock' (it names a git branch)`,
      "PRD line 7: task outside a stream",
    ]);
  });
  test("task outside a stream", () => {
    const text = `# Initiative: X

## Foundation Phase
### Stream-A: A
- TASK-001: a

## Parallel Phase
Prose under the phase, before any stream.
More prose.


- TASK-002: orphan
### Stream-B: B
- TASK-003: b
`;
    expect(errors(text)).toEqual(["PRD line 12: task outside a stream"]);
  });

  test("stream outside a phase", () => {
    expect(errors("# Initiative: X\n\n### Stream-A: A\n- T1: t\n")).toEqual(["PRD line 3: stream outside a phase", "PRD line 4: task outside a stream"]);
    // A prose section ends the phase.
    expect(errors("# Initiative: X\n## Foundation Phase\n### A: a\n- T1: t\n## Notes\n### B: b\n- T2: t\n")[0]).toBe(
      "PRD line 6: stream outside a phase",
    );
  });

  test("duplicates, missing pieces, bad ids", () => {
    expect(errors("## Foundation Phase\n### A: a\n- T1: t\n")).toEqual(['PRD: missing "# Initiative: NAME" heading']);
    expect(errors("## Foundation Phase\n### A: a\n- T1: t\n# Initiative: X\n")).toEqual(['PRD line 1: phase before the "# Initiative: NAME" heading']);
    expect(errors("# Initiative: X\n## Foundation Phase\n### A: a\n- T1: t\n### A: again\n- T2: t\n")).toEqual([
      "PRD line 5: duplicate stream A (first on line 3)",
      "PRD line 6: task outside a stream",
    ]);
    expect(errors("# Initiative: X\n## Foundation Phase\n### A: a\n- T1: t\n- T1: t\n")).toEqual(["PRD line 5: duplicate task T1 (first on line 4)"]);
    expect(errors("# Initiative: X\n## Foundation Phase\n### A: a\n### B: b\n- T1: t\n")).toEqual(['PRD line 3: stream A has no tasks: list them under it, or state their number, e.g. "(4 tasks)"']);
    expect(errors("# Initiative: X\n## Foundation Phase\n### A: a\n- T1: [files: a.ts]\n")).toEqual(["PRD line 4: task T1 has no title"]);
    expect(errors("# Initiative: X\n## Foundation Phase\n### A: a\n- T1: t @agent-a @agent-b\n")).toEqual([
      "PRD line 4: task T1 names more than one agent (@agent-a, @agent-b)",
    ]);
    expect(errors("# Initiative: X\n## Foundation Phase\n### ../etc: a\n- T1: t\n")[0]).toStartWith('PRD line 3: invalid stream id "../etc"');
    expect(errors("# Initiative: X\n## Foundation Phase\n### A: a (depends on ../x)\n- T1: t\n")).toEqual([
      'PRD line 3: invalid dependency "../x" in stream A',
    ]);
    expect(errors("# Initiative: X\n# Initiative: Y\n## Foundation Phase\n### A: a\n- T1: t\n")).toEqual([
      'PRD line 2: second "# Initiative:" heading (first on line 1)',
    ]);
    expect(errors("# Initiative:   \n")).toEqual(["PRD line 1: initiative has no name", 'PRD: missing "# Initiative: NAME" heading']);
  });

  test("formatPrdError", () => {
    const e: PrdError = { line: 12, message: "task outside a stream" };
    expect(formatPrdError(e)).toBe("PRD line 12: task outside a stream");
    expect(formatPrdError({ line: null, message: "x" })).toBe("PRD: x");
  });
});

describe("parsePrd: every common form of a task line is read, or refused with its line", () => {
  const tasksOf = (p: Plan) => p.streams.flatMap((s) => s.tasks.map((t) => ({ id: t.id, title: t.title, line: t.line, ...(t.parentId ? { parentId: t.parentId } : {}), ...(t.done ? { done: true } : {}) })));

  test("checkboxes, numbered items, bold and code ids, missing colon, dashes, * and + bullets, indentation", () => {
    const p = plan(`# Initiative: Forms
## Foundation Phase
### Stream-A: Core
- TASK-1: plain
- [ ] TASK-2: open checkbox
- [x] TASK-3: done checkbox
1. TASK-4: numbered
2) TASK-5: numbered with a parenthesis
- **TASK-6**: bold id
- **TASK-7:** bold id and colon
- \`TASK-8\`: code id
- TASK-9 no colon
- TASK-10 - a dash
- TASK-11:no space
* TASK-12: star
+ TASK-13: plus
    - TASK-14: indented four spaces
\t- TASK-15: indented with a tab
`);
    expect(tasksOf(p)).toEqual([
      { id: "TASK-1", title: "plain", line: 4 },
      { id: "TASK-2", title: "open checkbox", line: 5 },
      { id: "TASK-3", title: "done checkbox", line: 6, done: true },
      { id: "TASK-4", title: "numbered", line: 7 },
      { id: "TASK-5", title: "numbered with a parenthesis", line: 8 },
      { id: "TASK-6", title: "bold id", line: 9 },
      { id: "TASK-7", title: "bold id and colon", line: 10 },
      { id: "TASK-8", title: "code id", line: 11 },
      { id: "TASK-9", title: "no colon", line: 12 },
      { id: "TASK-10", title: "a dash", line: 13 },
      { id: "TASK-11", title: "no space", line: 14 },
      { id: "TASK-12", title: "star", line: 15 },
      { id: "TASK-13", title: "plus", line: 16 },
      { id: "TASK-14", title: "indented four spaces", line: 17, parentId: "TASK-13" },
      { id: "TASK-15", title: "indented with a tab", line: 18, parentId: "TASK-13" },
    ]);
  });

  test("an item indented under a task is its subtask; other indented lines are its description", () => {
    const p = plan("# Initiative: X\n## Foundation Phase\n### A: a\n- T-1: parent\n  - T-2: child\n    about the child\n  - a note (prose)\n  about the parent\n- T-3: next\n");
    const [parent, child, next] = p.streams[0]!.tasks;
    expect(child).toMatchObject({ id: "T-2", parentId: "T-1", description: "about the child" });
    expect(parent).toMatchObject({ id: "T-1", description: "- a note (prose)\nabout the parent" });
    expect(parent!.parentId).toBeUndefined();
    expect(next!.parentId).toBeUndefined();
  });

  test("what cannot be read is refused with its line, never dropped", () => {
    expect(errors("# Initiative: X\n## Foundation Phase\n### A: a\n- T1: t\n- [ ] write the docs\n> - T2: quoted\n- TASK-3\n")).toEqual([
      "PRD line 5: checkbox item without a task id: write it as '- [ ] TASK-ID: title'",
      "PRD line 6: a task in a block quote is not read: remove the '>' (or write it as prose)",
      "PRD line 7: task TASK-3 has no title",
    ]);
    for (const line of ["- [ ] TASK-2: t", "- [x] TASK-2: t", "1. TASK-2: t", "- **TASK-2**: t", "- TASK-2 t", "* TASK-2: t", "  + TASK-2: t"])
      expect(errors(`# Initiative: X\n## Foundation Phase\n${line}\n### A: a\n- T1: t\n`)).toEqual(["PRD line 3: task outside a stream"]);
  });

  test("prose stays prose: bullets without ids, checklists outside streams, ids-looking words before any phase, comments, fences", () => {
    const p = plan(`# Initiative: X
- [ ] review with design
- Q3-2024 roadmap
<!--
- TASK-99: commented out
-->
## Foundation Phase
### A: a
- T1: t
- see the notes below
<!-- - TASK-98: commented out on one line -->
\`\`\`
- TASK-97: in a fence
\`\`\`
`);
    expect(tasksOf(p).map((t) => t.id)).toEqual(["T1"]);
  });
});

describe("parsePrd: the 5-minute tutorial's stream outline", () => {
  const TUTORIAL = `Foundation Phase:
- Stream-A: Core type system, database schema (4 tasks)

Parallel Phase:
- Stream-B: Command updates (2 tasks, depends on Stream-A)
- Stream-C: Agent updates (3 tasks, depends on Stream-A)

Integration Phase:
- Stream-Z: Documentation and testing (5 tasks, depends on Stream-B, Stream-C)
`;

  test("streams with their phase and dependencies, and the stated number of placeholder tasks", () => {
    const r = parsePrd(TUTORIAL, { defaultInitiative: "tutorial" });
    if (!r.ok) throw new Error(r.errors.map(formatPrdError).join("\n"));
    expect(r.plan.initiative).toBe("tutorial");
    expect(r.plan.streams.map((s) => [s.id, s.name, s.phase, s.dependencies, s.tasks.length, s.line])).toEqual([
      ["Stream-A", "Core type system, database schema", "foundation", [], 4, 2],
      ["Stream-B", "Command updates", "parallel", ["Stream-A"], 2, 5],
      ["Stream-C", "Agent updates", "parallel", ["Stream-A"], 3, 6],
      ["Stream-Z", "Documentation and testing", "integration", ["Stream-B", "Stream-C"], 5, 9],
    ]);
    expect(r.plan.streams[1]!.tasks).toEqual([
      { id: "Stream-B-1", title: "Command updates (1 of 2)", line: 5, placeholder: true },
      { id: "Stream-B-2", title: "Command updates (2 of 2)", line: 5, placeholder: true },
    ]);
  });

  test("without a name for the initiative: the document's title, else missing", () => {
    expect(plan(`# Dark mode\n\n${TUTORIAL}`).initiative).toBe("Dark mode");
    expect(errors(TUTORIAL)).toEqual(['PRD: missing "# Initiative: NAME" heading']);
  });

  test("an outline stream may list its tasks under it (then a stated number must match)", () => {
    const p = plan("# Initiative: X\n**Foundation Phase:**\n- Stream-A: Core (2 tasks)\n  - TASK-1: one\n  - TASK-2: two\n- Stream-B: Other\n  1. TASK-3: three\n");
    expect(p.streams.map((s) => [s.id, s.tasks.map((t) => t.id)])).toEqual([
      ["Stream-A", ["TASK-1", "TASK-2"]],
      ["Stream-B", ["TASK-3"]],
    ]);
    expect(errors("# Initiative: X\nFoundation Phase:\n- Stream-A: Core (3 tasks)\n  - TASK-1: one\n")).toEqual(["PRD line 3: stream Stream-A states 3 tasks but lists 1"]);
    expect(errors("# Initiative: X\nFoundation Phase:\n- Stream-A: Core\n- TASK-1: a sibling, not under the stream\n")).toEqual([
      'PRD line 3: stream Stream-A has no tasks: list them under it, or state their number, e.g. "(4 tasks)"',
      "PRD line 4: task outside a stream",
    ]);
    expect(errors("# Initiative: X\n- Stream-A: Core (2 tasks)\n")).toEqual(["PRD line 2: stream outside a phase"]);
  });

  test("a heading stream may state its number of tasks too", () => {
    expect(plan("# Initiative: X\n## Foundation Phase\n### A: a (2 tasks)\n").streams[0]!.tasks.map((t) => t.id)).toEqual(["A-1", "A-2"]);
  });
});
