import { describe, expect, test } from "bun:test";
import {
  DARK_MODE_PRD,
  currentInitiative,
  eventsSince,
  getPrd,
  getStream,
  getTask,
  importPrdMarkdown,
  initiativeIdFor,
  lastEventId,
  listPrds,
  listStreams,
  listTasks,
  updateTask,
} from "../../src/core/index.ts";
import type { OrchError } from "../../src/errors.ts";
import { tempStore } from "../helpers.ts";

async function thrown(fn: () => unknown): Promise<OrchError> {
  try {
    await fn();
  } catch (err) {
    return err as OrchError;
  }
  throw new Error("expected an error");
}

describe("importPrdMarkdown", () => {
  test("the Dark Mode PRD: initiative, PRD, 4 streams, 15 tasks with stream metadata", async () => {
    const s = await tempStore();
    const r = await importPrdMarkdown(s, DARK_MODE_PRD);
    expect(r.initiative).toEqual({ id: "INIT-add-dark-mode-support", name: "Add Dark Mode Support", created: true });
    expect(r.prd).toEqual({ id: "PRD-add-dark-mode-support", title: "Add Dark Mode Support", created: true });
    expect(r.tasks.created).toHaveLength(15);
    expect(r.executionPlan).toEqual({ foundation: ["Stream-A"], parallel: ["Stream-B", "Stream-C"], integration: ["Stream-Z"] });
    expect((await currentInitiative(s))?.id).toBe("INIT-add-dark-mode-support");
    expect(await getPrd(s, "PRD-add-dark-mode-support")).toMatchObject({ initiativeId: "INIT-add-dark-mode-support", taskCount: 15, content: DARK_MODE_PRD });
    expect((await listStreams(s)).map((x) => [x.streamId, x.streamName, x.streamPhase, x.dependencies, x.totalTasks, x.initiativeId])).toEqual([
      ["Stream-A", "Core Theme System", "foundation", [], 4, "INIT-add-dark-mode-support"],
      ["Stream-B", "UI Component Updates", "parallel", ["Stream-A"], 3, "INIT-add-dark-mode-support"],
      ["Stream-C", "Page Theme Integration", "parallel", ["Stream-A"], 3, "INIT-add-dark-mode-support"],
      ["Stream-Z", "Testing and Documentation", "integration", ["Stream-B", "Stream-C"], 5, "INIT-add-dark-mode-support"],
    ]);
    expect(await getTask(s, "TASK-005")).toMatchObject({
      prdId: "PRD-add-dark-mode-support",
      title: "Update Button component",
      status: "pending",
      metadata: { streamId: "Stream-B", streamName: "UI Component Updates", streamPhase: "parallel", dependencies: ["Stream-A"] },
    });
    // Every task has its create event; each stream one figures event.
    const ev = await eventsSince(s, 0, 10_000);
    expect(ev.filter((e) => e.kind === "task" && e.op === "create")).toHaveLength(15);
    expect(ev.filter((e) => e.kind === "stream").map((e) => e.entityId)).toEqual(["Stream-A", "Stream-B", "Stream-C", "Stream-Z"]);
  });

  test("annotations land on the task: files, agent, description", async () => {
    const s = await tempStore();
    await importPrdMarkdown(
      s,
      "# Initiative: X\n## Foundation Phase\n### A: a\n- T1: Schema [files: db.ts, api.ts] @agent-ta\n  Keep it small.\n",
    );
    expect(await getTask(s, "T1")).toMatchObject({ title: "Schema", assignedAgent: "ta", description: "Keep it small.", metadata: { files: ["db.ts", "api.ts"] } });
    expect((await getStream(s, "A")).files).toEqual(["api.ts", "db.ts"]);
  });

  test("importing again changes nothing and duplicates nothing", async () => {
    const s = await tempStore();
    await importPrdMarkdown(s, DARK_MODE_PRD);
    const before = await lastEventId(s);
    const r = await importPrdMarkdown(s, DARK_MODE_PRD);
    expect(r.initiative.created).toBe(false);
    expect(r.prd.created).toBe(false);
    expect(r.tasks).toEqual({ created: [], updated: [], unchanged: r.tasks.unchanged, vanished: [], placeholders: [], completed: [] });
    expect(r.tasks.unchanged).toHaveLength(15);
    expect(r.streams.unchanged).toHaveLength(4);
    expect((await listTasks(s)).totalTasks).toBe(15);
    expect(await listPrds(s)).toHaveLength(1);
    // Only the initiative and PRD are touched; no task or stream event.
    expect((await eventsSince(s, before)).map((e) => e.kind)).toEqual(["initiative", "prd"]);
  });

  test("an edited PRD: titles updated, new tasks added, vanished ones reported and kept, progress kept", async () => {
    const s = await tempStore();
    await importPrdMarkdown(s, DARK_MODE_PRD);
    await updateTask(s, { id: "TASK-001", status: "completed" });
    await updateTask(s, { id: "TASK-015", status: "in_progress" });
    const edited = DARK_MODE_PRD.replace("- TASK-001: Create theme type definitions", "- TASK-001: Create theme types [files: src/types/theme.ts]")
      .replace("- TASK-015: Performance testing\n", "")
      .replace("- TASK-010: Update Profile page", "- TASK-010: Update Profile page\n- TASK-016: Update Billing page")
      .replace("### Stream-C: Page Theme Integration", "### Stream-C: Page Theming");
    const r = await importPrdMarkdown(s, edited);
    expect(r.tasks.created).toEqual(["TASK-016"]);
    expect(r.tasks.updated).toEqual(["TASK-001", "TASK-008", "TASK-009", "TASK-010"]); // title/files; Stream-C renamed
    expect(r.tasks.vanished).toEqual([{ id: "TASK-015", title: "Performance testing", streamId: "Stream-Z", status: "in_progress" }]);
    expect(r.streams.updated).toEqual(["Stream-C"]);
    const t1 = await getTask(s, "TASK-001");
    expect(t1).toMatchObject({ title: "Create theme types", status: "completed", metadata: { files: ["src/types/theme.ts"] } });
    expect((await getTask(s, "TASK-015")).status).toBe("in_progress"); // not deleted
    expect(await getStream(s, "Stream-C")).toMatchObject({ streamName: "Page Theming", totalTasks: 4 });
    expect((await listTasks(s)).totalTasks).toBe(16);
  });

  test("a task can move to another stream; dropped files are cleared", async () => {
    const s = await tempStore();
    const base = "# Initiative: X\n## Foundation Phase\n### A: a\n- T1: one [files: x.ts]\n- T2: two\n## Parallel Phase\n### B: b\n- T3: three\n";
    await importPrdMarkdown(s, base);
    const r = await importPrdMarkdown(s, base.replace("- T2: two\n", "").replace("- T1: one [files: x.ts]", "- T1: one").replace("- T3: three", "- T3: three\n- T2: two"));
    expect(r.tasks.updated.sort()).toEqual(["T1", "T2"]);
    expect((await getTask(s, "T2")).metadata.streamId).toBe("B");
    expect((await getTask(s, "T1")).metadata.files).toEqual([]);
    expect((await getStream(s, "A")).totalTasks).toBe(1);
    expect((await getStream(s, "B")).totalTasks).toBe(2);
  });

  test("a PRD that fails validation writes nothing", async () => {
    const s = await tempStore();
    const cycle = "# Initiative: X\n## Foundation Phase\n### A: a (depends on B)\n- T1: t\n## Parallel Phase\n### B: b (depends on A)\n- T2: t\n";
    const e = await thrown(() => importPrdMarkdown(s, cycle));
    expect(e.message).toBe("Circular dependency: A -> B -> A");
    expect(e.exitCode).toBe(2);
    const six = `# Initiative: X\n## Foundation Phase\n### A: a\n- T0: t\n## Parallel Phase\n${[1, 2, 3, 4, 5, 6].map((k) => `### P${k}: p\n- T${k}: t\n`).join("")}`;
    expect((await thrown(() => importPrdMarkdown(s, six))).message).toBe("Cannot create more than 5 parallel streams");
    expect((await importPrdMarkdown(s, six, { maxParallel: 6, dryRun: true })).tasks.created).toHaveLength(7);
    expect((await thrown(() => importPrdMarkdown(s, "# Initiative: X\n- T1: t\n"))).message).toBe("PRD line 2: task outside a stream");
    expect(await lastEventId(s)).toBe(0);
    expect((await listTasks(s)).totalTasks).toBe(0);
    expect(await listStreams(s)).toEqual([]);
    expect(await currentInitiative(s)).toBeNull();
  });

  test("a clash with another PRD's task or initiative's stream rolls everything back", async () => {
    const s = await tempStore();
    await importPrdMarkdown(s, DARK_MODE_PRD);
    const mark = await lastEventId(s);
    const other = "# Initiative: Other\n## Foundation Phase\n### Stream-Q: q\n- Q-1: fine\n- TASK-003: clash\n";
    const e = await thrown(() => importPrdMarkdown(s, other));
    expect(e.message).toBe(
      "PRD line 5: task TASK-003 already exists in PRD-add-dark-mode-support; task ids are unique per workspace: give it another id, or, once INIT-add-dark-mode-support is finished, archive its streams and remove their worktrees: its ids are then renamed <id>.INIT-add-dark-mode-support to make room",
    );
    expect(e.exitCode).toBe(1);
    const e2 = await thrown(() => importPrdMarkdown(s, "# Initiative: Other\n## Foundation Phase\n### Stream-A: q\n- Q-1: t\n"));
    expect(e2.message).toBe(
      "PRD line 3: stream Stream-A already belongs to initiative INIT-add-dark-mode-support; give this stream another id, or, once INIT-add-dark-mode-support is finished, archive its streams and remove their worktrees: its ids are then renamed <id>.INIT-add-dark-mode-support to make room",
    );
    expect(await lastEventId(s)).toBe(mark);
    await expect(getTask(s, "Q-1")).rejects.toThrow("Task not found: Q-1");
    expect((await currentInitiative(s))?.id).toBe("INIT-add-dark-mode-support");
  });

  test("dry run reports and rolls back", async () => {
    const s = await tempStore();
    const r = await importPrdMarkdown(s, DARK_MODE_PRD, { dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.tasks.created).toHaveLength(15);
    expect(await lastEventId(s)).toBe(0);
  });

  test("initiative ids: slug of the name, stable, hashed when long or non-Latin", () => {
    expect(initiativeIdFor("Add Dark Mode Support")).toBe("INIT-add-dark-mode-support");
    expect(initiativeIdFor("  Add dark-mode support! ")).toBe("INIT-add-dark-mode-support");
    expect(initiativeIdFor("Café déjà vu")).toBe("INIT-cafe-deja-vu");
    expect(initiativeIdFor("ダークモード")).toMatch(/^INIT-[0-9a-f]{8}$/);
    const long = initiativeIdFor("x".repeat(300));
    expect(long.length).toBeLessThanOrEqual(65);
    expect(long).not.toBe(initiativeIdFor(`${"x".repeat(299)}y`));
  });
});

describe("importPrdMarkdown: the forms a PRD is written in", () => {
  const TUTORIAL = "Foundation Phase:\n- Stream-A: Core (4 tasks)\n\nParallel Phase:\n- Stream-B: Commands (2 tasks, depends on Stream-A)\n";

  test("the tutorial outline: streams and placeholder tasks, named after the file; again: nothing duplicated, refined titles kept", async () => {
    const s = await tempStore();
    const r = await importPrdMarkdown(s, TUTORIAL, { source: "plans/Tutorial.md" });
    expect(r.initiative).toMatchObject({ id: "INIT-tutorial", name: "Tutorial", created: true });
    expect(r.tasks.placeholders).toEqual(["Stream-A-1", "Stream-A-2", "Stream-A-3", "Stream-A-4", "Stream-B-1", "Stream-B-2"]);
    expect(await getTask(s, "Stream-B-2")).toMatchObject({ title: "Commands (2 of 2)", status: "pending", metadata: { streamId: "Stream-B", dependencies: ["Stream-A"] } });
    expect((await getTask(s, "Stream-B-2")).description).toStartWith("Placeholder:");
    await updateTask(s, { id: "Stream-A-1", title: "Type definitions", status: "completed" });
    const again = await importPrdMarkdown(s, TUTORIAL, { source: "plans/Tutorial.md" });
    expect(again.tasks.created).toEqual([]);
    expect(again.tasks.unchanged).toHaveLength(6);
    expect((await listTasks(s)).totalTasks).toBe(6);
    expect(await getTask(s, "Stream-A-1")).toMatchObject({ title: "Type definitions", status: "completed" });
  });

  test("a checked box is a completed task; checking it later completes it; unchecking never reopens", async () => {
    const s = await tempStore();
    const doc = (a: string, b: string) => `# Initiative: Boxes\n## Foundation Phase\n### A: a\n- [${a}] T-1: one\n- [${b}] T-2: two\n`;
    expect((await importPrdMarkdown(s, doc("x", " "))).tasks.completed).toEqual(["T-1"]);
    expect([(await getTask(s, "T-1")).status, (await getTask(s, "T-2")).status]).toEqual(["completed", "pending"]);
    expect((await getStream(s, "A")).completedTasks).toBe(1);
    const r = await importPrdMarkdown(s, doc(" ", "x"));
    expect(r.tasks.completed).toEqual(["T-2"]);
    expect(r.tasks.updated).toEqual(["T-2"]);
    expect([(await getTask(s, "T-1")).status, (await getTask(s, "T-2")).status]).toEqual(["completed", "completed"]);
    expect((await importPrdMarkdown(s, doc("x", "x"))).tasks.unchanged).toEqual(["T-1", "T-2"]);
  });

  test("subtasks carry their parent; moving one under another task updates it", async () => {
    const s = await tempStore();
    await importPrdMarkdown(s, "# Initiative: Sub\n## Foundation Phase\n### A: a\n- T-1: one\n  - T-2: two\n- T-3: three\n");
    expect([(await getTask(s, "T-2")).parentId, (await getTask(s, "T-3")).parentId]).toEqual(["T-1", null]);
    const before = await lastEventId(s);
    const r = await importPrdMarkdown(s, "# Initiative: Sub\n## Foundation Phase\n### A: a\n- T-1: one\n- T-3: three\n  - T-2: two\n");
    expect(r.tasks.updated).toEqual(["T-2"]);
    expect((await getTask(s, "T-2")).parentId).toBe("T-3");
    expect((await eventsSince(s, before)).filter((e) => e.kind === "task").map((e) => e.entityId)).toEqual(["T-2"]);
  });
});
