import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createTask, updateTask } from "../../src/core/index.ts";
import type { Store } from "../../src/db/client.ts";
import { parseCopyList, parseSetupCommand, resolveWorktreeSetup } from "../../src/workspace/config.ts";
import {
  worktreeCleanupSchema,
  worktreeCleanupTool,
  worktreeCreateSchema,
  worktreeCreateTool,
  worktreeListTool,
  worktreeMergeSchema,
  worktreeMergeTool,
} from "../../src/workspace/mcp-handlers.ts";
import { continueStream, pickNextTask, renderResume } from "../../src/workspace/resume.ts";
import { mergeStream } from "../../src/workspace/stream-worktrees.ts";
import { commit, gitStatus, sh, tempRepo, write } from "../git/repo-helpers.ts";
import { rejects, tempStore } from "../helpers.ts";
import { connect } from "../mcp/helpers.ts";

/** The guide's Dark Mode initiative, trimmed. */
async function guideStreams(store: Store) {
  const add = (id: string, title: string, streamId: string, streamName: string, streamPhase: "foundation" | "parallel" | "integration", dependencies: string[], files: string[] = []) =>
    createTask(store, { id, title, metadata: { streamId, streamName, streamPhase, dependencies, files } });
  await add("TASK-001", "Create theme type definitions", "Stream-A", "Core Theme System", "foundation", [], ["src/types/theme.ts"]);
  await add("TASK-002", "Implement theme provider", "Stream-A", "Core Theme System", "foundation", [], ["src/types/theme.ts", "src/services/theme-provider.ts"]);
  await add("TASK-003", "Add theme storage service", "Stream-A", "Core Theme System", "foundation", []);
  await add("TASK-004", "Create theme switching API", "Stream-A", "Core Theme System", "foundation", []);
  await add("TASK-005", "Update Button component", "Stream-B", "UI Component Updates", "parallel", ["Stream-A"], ["src/components/Button.tsx"]);
  await add("TASK-008", "Update Dashboard page", "Stream-C", "Page Theme Integration", "parallel", ["Stream-A"]);
  await add("TASK-011", "E2E theme switching tests", "Stream-Z", "Testing and Documentation", "integration", ["Stream-B", "Stream-C"]);
}

describe("continue", () => {
  test("foundation: context in the main worktree, as the guide prints it", async () => {
    const root = tempRepo();
    const store = await tempStore();
    await guideStreams(store);
    await updateTask(store, { id: "TASK-001", status: "completed" });
    const ctx = await continueStream(store, { streamId: "Stream-A", cwd: root });
    expect(ctx).toMatchObject({
      currentFocus: "Implement theme provider",
      nextTask: { id: "TASK-002" },
      files: ["src/types/theme.ts", "src/services/theme-provider.ts"],
      worktree: null,
      workingDirectory: root,
    });
    expect(renderResume(ctx)).toBe(
      [
        "Resuming Stream-A: Core Theme System",
        "Current focus: Implement theme provider",
        "Next task: TASK-002",
        "Progress: 25.0% (1/4 tasks)",
        "",
        "Loading files:",
        "  - src/types/theme.ts",
        "  - src/services/theme-provider.ts",
        "",
        "Dependencies: None (foundation stream)",
        "",
        `Working directory: ${root}`,
        "",
      ].join("\n"),
    );
  });

  test("parallel: refused until dependencies complete, then its worktree is created, then reused", async () => {
    const root = tempRepo();
    const store = await tempStore();
    await guideStreams(store);
    await updateTask(store, { id: "TASK-001", status: "completed" });
    await updateTask(store, { id: "TASK-002", status: "completed" });
    await updateTask(store, { id: "TASK-003", status: "completed" });
    const e = await rejects(continueStream(store, { streamId: "Stream-B", cwd: root }));
    expect(e.message).toBe("Stream cannot start - dependencies incomplete: Stream-A (75.0%)");
    expect(e.exitCode).toBe(1);
    expect(existsSync(join(root, ".claude"))).toBe(false);
    expect((await rejects(continueStream(store, { streamId: "Stream-X", cwd: root }))).message).toBe("Stream not found: Stream-X");

    await updateTask(store, { id: "TASK-004", status: "completed" });
    let creating = "";
    const ctx = await continueStream(store, { streamId: "Stream-B", cwd: root, onCreating: (id) => (creating = id) });
    expect(creating).toBe("Stream-B");
    const path = join(root, ".claude", "worktrees", "Stream-B");
    expect(ctx).toMatchObject({ workingDirectory: path, worktree: { created: true, branchName: "stream-b" }, nextTask: { id: "TASK-005" } });
    expect(ctx.dependencies).toEqual([{ streamId: "Stream-A", streamName: "Core Theme System", status: "completed", progressPercentage: 100, complete: true }]);
    const text = renderResume(ctx);
    expect(text).toStartWith("✓ Worktree created: .claude/worktrees/Stream-B\n✓ Branch created: stream-b (from main)\n\nResuming Stream-B: UI Component Updates\nCurrent focus: Update Button component\nNext task: TASK-005\n");
    expect(text).toContain("Dependencies:\n  ✓ Stream-A: Core Theme System (100.0%)\n");
    expect(gitStatus(root)).toBe("");

    const again = await continueStream(store, { streamId: "Stream-B", cwd: root });
    expect(again.worktree).toMatchObject({ reused: true });
    expect(renderResume(again)).toStartWith("✓ Worktree ready: .claude/worktrees/Stream-B (branch stream-b)\n");
  });

  test("integration: lists the completed parallel streams and whether each branch is merged", async () => {
    const root = tempRepo();
    const store = await tempStore();
    await guideStreams(store);
    for (const id of ["TASK-001", "TASK-002", "TASK-003", "TASK-004"]) await updateTask(store, { id, status: "completed" });
    const b = (await continueStream(store, { streamId: "Stream-B", cwd: root })).workingDirectory;
    const c = (await continueStream(store, { streamId: "Stream-C", cwd: root })).workingDirectory;
    commit(b, { "src/components/Button.tsx": "b" }, "button");
    commit(c, { "src/pages/Dashboard.tsx": "c" }, "dashboard");
    await updateTask(store, { id: "TASK-005", status: "completed" });
    expect((await rejects(continueStream(store, { streamId: "Stream-Z", cwd: root }))).message).toBe(
      "Stream cannot start - dependencies incomplete: Stream-C (0.0%)",
    );
    await updateTask(store, { id: "TASK-008", status: "completed" });
    expect((await mergeStream(store, { streamId: "Stream-B", cwd: root })).status).toBe("merged");

    const ctx = await continueStream(store, { streamId: "Stream-Z", cwd: root });
    expect(ctx.worktree).toBeNull();
    expect(ctx.workingDirectory).toBe(root);
    expect(ctx.parallelStreams?.map((p) => [p.streamId, p.complete, p.branchName, p.merged])).toEqual([
      ["Stream-B", true, "stream-b", true],
      ["Stream-C", true, "stream-c", false],
    ]);
    const text = renderResume(ctx);
    expect(text).toContain(
      "Parallel streams completed:\n  ✓ Stream-B: UI Component Updates (merged)\n  ✓ Stream-C: Page Theme Integration (branch stream-c not merged yet: orch worktree merge Stream-C)\n\nReady for integration work.\n",
    );
  });

  test("pickNextTask: in progress first, then the first pending; none when all done", () => {
    const t = (id: string, status: "pending" | "in_progress" | "completed" | "blocked") => ({ id, status }) as never;
    expect(pickNextTask([t("1", "completed"), t("2", "pending"), t("3", "in_progress")])).toMatchObject({ id: "3" });
    expect(pickNextTask([t("1", "blocked"), t("2", "pending")])).toMatchObject({ id: "2" });
    expect(pickNextTask([t("1", "completed")])).toBeNull();
  });
});

describe("worktree config", () => {
  test("setup as whitespace-split argv or JSON array; no shell; copy paths stay inside", () => {
    expect(parseSetupCommand("bun  install --frozen-lockfile")).toEqual(["bun", "install", "--frozen-lockfile"]);
    expect(parseSetupCommand('["sh","-c","echo a b"]')).toEqual(["sh", "-c", "echo a b"]);
    expect(parseSetupCommand("  ")).toBeNull();
    expect(() => parseSetupCommand("[1,2")).toThrow(/not a valid JSON array/);
    expect(parseCopyList([".env", "./.env", "config/local.json"])).toEqual([".env", "config/local.json"]);
    expect(() => parseCopyList(["../secrets"])).toThrow('cannot copy "../secrets": must stay inside the project');
    expect(() => parseCopyList(["/etc/passwd"])).toThrow('cannot copy "/etc/passwd": must be a relative path');
    expect(() => parseCopyList([".git/config"])).toThrow(/must stay inside/);
  });

  test("orchestration-config.json's worktree section, flags win, .mcp.json and Claude Code's settings always", () => {
    const root = tempRepo();
    const always = [".mcp.json", ".claude/settings.json", ".claude/settings.local.json"];
    expect(resolveWorktreeSetup(root)).toEqual({ copy: always, setup: null });
    write(root, ".claude/orchestration/orchestration-config.json", JSON.stringify({ version: "1.0", worktree: { copy: [".env"], setup: "bun install" } }));
    expect(resolveWorktreeSetup(root)).toEqual({ copy: [...always, ".env"], setup: ["bun", "install"] });
    expect(resolveWorktreeSetup(root, { copy: [".env.local"], setup: "" })).toEqual({ copy: [...always, ".env.local"], setup: null });
    write(root, ".claude/orchestration/orchestration-config.json", JSON.stringify({ worktree: { copy: ["../x"] } }));
    expect(() => resolveWorktreeSetup(root)).toThrow(/orchestration-config.json: worktree: copy.0: must stay inside/);
    write(root, ".claude/orchestration/orchestration-config.json", "{ nope");
    expect(() => resolveWorktreeSetup(root)).toThrow(/is not valid JSON/);
  });
});

describe("MCP tool handlers", () => {
  test("schemas validate arguments (traversal ids refused)", () => {
    expect(worktreeCreateSchema.safeParse({ streamId: "../../etc" }).success).toBe(false);
    expect(worktreeCreateSchema.safeParse({ streamId: "Stream-B", baseBranch: "main" }).success).toBe(true);
    expect(worktreeMergeSchema.safeParse({ streamId: "Stream-B", into: "a b" }).success).toBe(false);
    expect(worktreeCleanupSchema.safeParse({ streamId: "Stream-B", force: "yes" }).success).toBe(false);
  });

  test("served over MCP: create, then a conflicting merge is isError and main is untouched", async () => {
    const root = tempRepo();
    const store = await tempStore();
    await createTask(store, { id: "T1", title: "t", metadata: { streamId: "Stream-B", streamPhase: "parallel" } });
    const s = await connect(store, { cwd: root });
    const names = (await s.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["worktree_create", "worktree_list", "worktree_merge", "worktree_cleanup"]));
    const created = await s.ok("worktree_create", { streamId: "Stream-B" });
    expect(created.branchName).toBe("stream-b");
    commit(created.worktreePath, { "src/shared.ts": "stream\n" }, "stream");
    commit(root, { "src/shared.ts": "main\n" }, "main");
    const head = sh(root, "rev-parse", "HEAD");
    expect(await s.fail("worktree_merge", { streamId: "Stream-B" })).toContain("would conflict in src/shared.ts");
    expect(sh(root, "rev-parse", "HEAD")).toBe(head);
    expect(gitStatus(root)).toBe("");
    expect(await s.fail("worktree_create", { streamId: "../../etc" })).toContain("id must start with");
    expect(await s.fail("worktree_list", { extra: 1 })).toContain("extra");
  });

  test("create → list → merge (conflict is an error naming the files) → cleanup, all JSON-able", async () => {
    const root = tempRepo();
    const store = await tempStore();
    await createTask(store, { id: "T1", title: "t", metadata: { streamId: "Stream-B", streamPhase: "parallel" } });
    write(root, ".claude/orchestration/orchestration-config.json", JSON.stringify({ worktree: { setup: ["sh", "-c", "echo ran > .setup-ran"] } }));
    commit(root, { ".gitignore": ".setup-ran\n.claude/orchestration/\n" }, "ignore");

    const created = await worktreeCreateTool(store, { streamId: "Stream-B" }, { cwd: root });
    expect(created).toMatchObject({ created: true, setup: { command: ["sh", "-c", "echo ran > .setup-ran"], exitCode: 0 } });
    expect(readFileSync(join(created.worktreePath, ".setup-ran"), "utf8")).toBe("ran\n");
    const listed = await worktreeListTool(store, {}, { cwd: root });
    expect(JSON.parse(JSON.stringify(listed))).toMatchObject({ totalWorktrees: 1, worktrees: [{ streamId: "Stream-B", state: "ok", dirty: false, ahead: 0, behind: 0 }] });

    commit(created.worktreePath, { "src/shared.ts": "stream\n" }, "stream");
    commit(root, { "src/shared.ts": "main\n" }, "main");
    const e = await rejects(() => worktreeMergeTool(store, { streamId: "Stream-B" }, { cwd: root }));
    expect(e.message).toBe("merging stream-b into main would conflict in src/shared.ts; nothing was changed (the conflict is recorded on Stream-B)");
    expect(gitStatus(root)).toBe("");

    const refused = await rejects(() => worktreeCleanupTool(store, { streamId: "Stream-B" }, { cwd: root }));
    expect(refused.message).toContain("1 commit not merged into main");
    const cleaned = await worktreeCleanupTool(store, { streamId: "Stream-B", force: true }, { cwd: root });
    // The setup's ignored output is content found only in the worktree: saved too, and said.
    expect(cleaned).toMatchObject({
      removed: true,
      branchDeleted: true,
      saved: { includesUncommitted: true, items: ["1 ignored file whose content is only there (.setup-ran)", expect.stringMatching(/^1 commit not merged into main \([0-9a-f]{7} stream\)$/)] },
    });
    expect(sh(root, "show", `${cleaned.saved!.ref}:src/shared.ts`)).toBe("stream\n");
  });
});
