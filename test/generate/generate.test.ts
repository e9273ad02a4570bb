import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { archiveStream, DARK_MODE_PRD, importPrdMarkdown, listStreams, updateTask } from "../../src/core/index.ts";
import { apiBaseUrl, buildConfig, configSchema } from "../../src/generate/config.ts";
import { changedByUser, forMarkdown, generateOrchestration, planSource, stamp } from "../../src/generate/orchestration.ts";
import { buildReadme } from "../../src/generate/readme.ts";
import { progressBar } from "../../src/core/progress.ts";
import { renderStatus, statusReport } from "../../src/generate/status.ts";
import { buildWorkflow, jobIds } from "../../src/generate/workflow.ts";
import { writeFiles } from "../../src/generate/writer.ts";
import { tempDir, tempStore } from "../helpers.ts";
import type { Store } from "../../src/db/client.ts";

const NOW = "2026-01-08T12:00:00.000Z";

async function darkMode() {
  const store = await tempStore();
  await importPrdMarkdown(store, DARK_MODE_PRD);
  return store;
}

const opts = (extra: Partial<Parameters<typeof generateOrchestration>[1]> = {}) => ({
  projectRoot: "/path/to/project",
  host: "127.0.0.1",
  port: 9090,
  maxParallel: 5,
  now: NOW,
  ...extra,
});

describe("orchestration-config.json", () => {
  test("the guide's structure, key for key, for the Dark Mode PRD", async () => {
    const { config, files } = await generateOrchestration(await darkMode(), opts());
    const stream = (streamId: string, streamName: string, streamPhase: string, totalTasks: number, dependencies: string[]) => ({
      streamId,
      streamName,
      streamPhase,
      totalTasks,
      completedTasks: 0,
      dependencies,
      projectRoot: "/path/to/project",
      worktreePath: null,
    });
    const expected = {
      version: "1.0",
      generatedAt: NOW,
      initiative: { id: "INIT-add-dark-mode-support", name: "Add Dark Mode Support" },
      apiBaseUrl: "http://127.0.0.1:9090",
      pollInterval: 30,
      maxParallelStreams: 5,
      streams: [
        stream("Stream-A", "Core Theme System", "foundation", 4, []),
        stream("Stream-B", "UI Component Updates", "parallel", 3, ["Stream-A"]),
        stream("Stream-C", "Page Theme Integration", "parallel", 3, ["Stream-A"]),
        stream("Stream-Z", "Testing and Documentation", "integration", 5, ["Stream-B", "Stream-C"]),
      ],
      executionPlan: { foundation: ["Stream-A"], parallel: ["Stream-B", "Stream-C"], integration: ["Stream-Z"] },
    };
    const written = JSON.parse(files.find((f) => f.path === ".claude/orchestration/orchestration-config.json")!.content);
    expect(written).toEqual(expected);
    expect(config as unknown).toEqual(expected);
    // Key order too, as the guide prints it.
    expect(Object.keys(written)).toEqual(Object.keys(expected));
    expect(Object.keys(written.streams[0])).toEqual(Object.keys(expected.streams[0]!));
    expect(configSchema.safeParse(written).success).toBe(true);
    expect(files.map((f) => [f.path, f.mode])).toEqual([
      [".claude/orchestration/orchestration-config.json", undefined],
      [".claude/orchestration/start-streams.py", 0o755],
      [".claude/orchestration/watch-status.py", 0o755],
      [".claude/orchestration/README.md", undefined],
    ]);
  });

  test("figures, max parallel and API address come from the database, flags and env", async () => {
    const store = await darkMode();
    await updateTask(store, { id: "TASK-001", status: "completed" });
    const { config } = await generateOrchestration(store, opts({ host: "::1", port: 9191, maxParallel: 3 }));
    expect(config.apiBaseUrl).toBe("http://[::1]:9191");
    expect(config.maxParallelStreams).toBe(3);
    expect(config.streams[0]).toMatchObject({ streamId: "Stream-A", completedTasks: 1, totalTasks: 4 });
    expect(apiBaseUrl("localhost", 80)).toBe("http://localhost:80");
  });

  test("an invalid graph or no streams: an error, no files", async () => {
    const store = await tempStore();
    await expect(generateOrchestration(store, opts())).rejects.toThrow("No streams to orchestrate: import a PRD first (orch prd import PRD.md)");
    await importPrdMarkdown(store, DARK_MODE_PRD);
    await expect(generateOrchestration(store, opts({ maxParallel: 1 }))).rejects.toThrow("Cannot create more than 1 parallel streams");
  });

  test("--ci github adds the workflow", async () => {
    const { files } = await generateOrchestration(await darkMode(), opts({ ci: "github" }));
    expect(files.map((f) => f.path)).toContain(".github/workflows/orchestration.yml");
  });
});

describe("GitHub workflow", () => {
  test("valid YAML, one job per stream, needs follow the graph", async () => {
    const { config } = await generateOrchestration(await darkMode(), opts());
    const wf = Bun.YAML.parse(buildWorkflow(config)) as {
      name: string;
      on: { workflow_dispatch: { inputs: { initiative_id: { required: boolean; default: string } } } };
      jobs: Record<string, { name: string; needs?: string[]; "runs-on": string; env: Record<string, string>; steps: { uses?: string; run?: string }[] }>;
    };
    expect(wf.name).toBe("Parallel Development: Add Dark Mode Support");
    expect(wf.on.workflow_dispatch.inputs.initiative_id).toMatchObject({ required: true, default: "INIT-add-dark-mode-support" });
    expect(Object.keys(wf.jobs)).toEqual(["stream-a", "stream-b", "stream-c", "stream-z"]);
    expect(Object.fromEntries(Object.entries(wf.jobs).map(([k, j]) => [k, j.needs ?? []]))).toEqual({
      "stream-a": [],
      "stream-b": ["stream-a"],
      "stream-c": ["stream-a"],
      "stream-z": ["stream-b", "stream-c"],
    });
    const b = wf.jobs["stream-b"]!;
    expect(b.name).toBe("Stream-B: UI Component Updates (parallel)");
    expect(b["runs-on"]).toBe("ubuntu-latest");
    expect(b.env.STREAM_ID).toBe("Stream-B");
    expect(b.steps.at(-1)!.run).toBe('orch start --stream "$STREAM_ID" --launcher headless');
    expect(b.env.ORCH_MACHINE).toBe("github-${{ github.run_id }}-stream-b");
    expect(b.steps.map((s) => s.uses ?? s.run)).toEqual([
      "actions/checkout@v4",
      "actions/setup-node@v4",
      'npm install -g "@orch-cli/orch@$ORCH_VERSION" @anthropic-ai/claude-code',
      'git config user.name "orch (GitHub Actions)" && git config user.email "orch@users.noreply.github.com"',
      // Imported from outside the repository (these tests' PRDs are): the job says so and fails.
      expect.stringContaining("orch: the PRD was imported from outside this repository"),
      'orch start --stream "$STREAM_ID" --launcher headless',
    ]);
  });

  test("awkward ids and names stay valid YAML and valid job ids", () => {
    const config = buildConfig({
      initiative: { id: "INIT-x", name: 'Quotes " and ${{ secrets.X }}: colons' },
      streams: [
        { streamId: "2fa.core", streamName: "Two: factor #1", streamPhase: "foundation", totalTasks: 1, completedTasks: 0, dependencies: [], worktreePath: null },
        { streamId: "2FA_core", streamName: "x", streamPhase: "parallel", totalTasks: 1, completedTasks: 0, dependencies: ["2fa.core"], worktreePath: null },
      ],
      projectRoot: "/p",
      apiBaseUrl: "http://127.0.0.1:9090",
      maxParallelStreams: 5,
      generatedAt: NOW,
    });
    const text = buildWorkflow(config);
    expect(text).not.toContain("${{ secrets.X");
    const wf = Bun.YAML.parse(text) as { name: string; jobs: Record<string, { name: string; needs?: string[] }> };
    expect(Object.keys(wf.jobs)).toEqual(["s-2fa_core", "s-2fa_core-2"]);
    for (const id of Object.keys(wf.jobs)) expect(id).toMatch(/^[A-Za-z_][A-Za-z0-9_-]*$/);
    expect(wf.jobs["s-2fa_core-2"]!.needs).toEqual(["s-2fa_core"]);
    expect(wf.jobs["s-2fa_core"]!.name).toBe("2fa.core: Two: factor #1 (foundation)");
    expect(wf.name).toBe('Parallel Development: Quotes " and $ {{ secrets.X }}: colons');
    expect(jobIds(["Stream-A", "stream-a"])).toEqual(new Map([["Stream-A", "stream-a"], ["stream-a", "stream-a-2"]]));
  });
});

describe("README and status", () => {
  test("README: the stream table, execution order and commands of this initiative", async () => {
    const { config } = await generateOrchestration(await darkMode(), opts());
    const md = buildReadme(config);
    expect(md).toStartWith("# Orchestration: Add Dark Mode Support\n");
    expect(md).toContain("| `Stream-B` | UI Component Updates | parallel | 0/3 | `Stream-A` | .claude/worktrees/Stream-B (branch stream-b) |");
    expect(md).toContain("| `Stream-Z` | Testing and Documentation | integration | 0/5 | `Stream-B`, `Stream-C` | main worktree |");
    expect(md).toContain("1. **Foundation**: `Stream-A`.");
    expect(md).toContain("2. **Parallel** (up to 5 at once): `Stream-B`, `Stream-C`.");
    expect(md).toContain("3. **Integration**: `Stream-Z`.");
    expect(md).toContain("`python3 .claude/orchestration/start-streams.py --dry-run`");
    expect(md).toContain("`python3 .claude/orchestration/watch-status.py`");
    expect(md).toContain("   - After foundation: `/continue Stream-B`, `/continue Stream-C`");
  });

  test("status: per-phase progress bars, waiting streams named", async () => {
    const store = await darkMode();
    for (const id of ["TASK-001", "TASK-002", "TASK-003", "TASK-004", "TASK-005"]) await updateTask(store, { id, status: "completed" });
    await updateTask(store, { id: "TASK-006", status: "in_progress" });
    const report = statusReport({ id: "INIT-add-dark-mode-support", name: "Add Dark Mode Support" }, await listStreams(store));
    expect(report.overall).toMatchObject({ completedTasks: 5, totalTasks: 15, progressPercentage: 33.3 });
    expect(report.phases.map((p) => [p.phase, p.completedTasks, p.totalTasks, p.status])).toEqual([
      ["foundation", 4, 4, "completed"],
      ["parallel", 1, 6, "in_progress"],
      ["integration", 0, 5, "pending"],
    ]);
    const text = renderStatus(report);
    expect(text).toContain(`Foundation   ${"█".repeat(20)} 100.0% (4/4 tasks) ✓ COMPLETE`);
    expect(text).toContain(`Parallel     ${progressBar(16.6)}  16.6% (1/6 tasks)`);
    expect(text).toContain(`  Stream-B   ${progressBar(33.3)}  33.3% (1/3 tasks)\n`);
    expect(text).toContain("  Stream-Z   ░░░░░░░░░░░░░░░░░░░░   0.0% (0/5 tasks)  ⚠ Waiting on: Stream-B, Stream-C");
    expect(progressBar(99.9)).toBe(`${"█".repeat(19)}░`);
    expect(progressBar(100)).toBe("█".repeat(20));
  });
});

describe("what the user wrote is kept", () => {
  const CONFIG = ".claude/orchestration/orchestration-config.json";
  const disk = (files: Record<string, string>) => (path: string) => files[path] ?? null;
  const written = (g: Awaited<ReturnType<typeof generateOrchestration>>, path: string) => g.files.find((f) => f.path === path)?.content;

  test("regenerating keeps every key the user set; orch's derived keys are refreshed", async () => {
    const store = await darkMode();
    const first = JSON.parse(written(await generateOrchestration(store, opts({ maxParallel: undefined })), CONFIG)!);
    const mine = {
      agentCommand: 'claude -p "/continue {streamId}"',
      launcher: "headless",
      restartLimit: 4,
      stallTimeout: 120,
      worktree: { copy: [".env"], setup: ["bun", "install"] },
      maxParallelStreams: 3,
      pollInterval: 10,
      somethingElse: { nested: [1, "two", null] },
    };
    const edited = { ...first, ...mine, generatedAt: "old", apiBaseUrl: "http://stale:1", initiative: { ...first.initiative, owner: "me" } };
    edited.streams[1] = { ...edited.streams[1], note: "watch this one" };
    await updateTask(store, { id: "TASK-001", status: "completed" });
    const g = await generateOrchestration(store, opts({ maxParallel: undefined, onDisk: disk({ [CONFIG]: JSON.stringify(edited) }) }));
    const next = JSON.parse(written(g, CONFIG)!);
    expect(next).toMatchObject(mine);
    expect(next.initiative).toEqual({ id: "INIT-add-dark-mode-support", name: "Add Dark Mode Support", owner: "me" });
    expect(next.generatedAt).toBe(NOW);
    expect(next.apiBaseUrl).toBe("http://127.0.0.1:9090");
    expect(next.streams[0].completedTasks).toBe(1);
    expect(next.streams[1].note).toBe("watch this one");
    expect(g.config.maxParallelStreams).toBe(3);
    // A flag still wins over the file.
    const flagged = await generateOrchestration(store, opts({ maxParallel: 4, onDisk: disk({ [CONFIG]: JSON.stringify(edited) }) }));
    expect(JSON.parse(written(flagged, CONFIG)!).maxParallelStreams).toBe(4);
  });

  test("an existing config that is not valid JSON (or not an object) is refused in one line; nothing is written", async () => {
    const store = await darkMode();
    await expect(generateOrchestration(store, opts({ onDisk: disk({ [CONFIG]: '{\n  "launcher": "tmux",\n  oops\n}' }) }))).rejects.toThrow(
      `${CONFIG} is not valid JSON at line 3, column 3; fix it (it was left untouched) and run orch generate again`,
    );
    await expect(generateOrchestration(store, opts({ onDisk: disk({ [CONFIG]: "[1, 2]" }) }))).rejects.toThrow(`${CONFIG} is not a JSON object`);
    await expect(generateOrchestration(store, opts({ maxParallel: undefined, onDisk: disk({ [CONFIG]: '{"maxParallelStreams": "five"}' }) }))).rejects.toThrow(
      `${CONFIG}: maxParallelStreams must be a whole number of at least 1, not "five"`,
    );
  });

  test("a generated file the user changed is kept (unless --force); orch's own, untouched, is replaced", async () => {
    const store = await darkMode();
    const g1 = await generateOrchestration(store, opts({ ci: "github" }));
    const files = Object.fromEntries(g1.files.map((f) => [f.path, f.content]));
    files[".claude/orchestration/README.md"] += "\nMy notes.\n";
    files[".claude/orchestration/start-streams.py"] = files[".claude/orchestration/start-streams.py"]!.replace("import os", "import os  # mine");
    await updateTask(store, { id: "TASK-002", status: "completed" });
    const g2 = await generateOrchestration(store, opts({ ci: "github", onDisk: disk(files) }));
    expect(g2.kept).toEqual([".claude/orchestration/start-streams.py", ".claude/orchestration/README.md"]);
    expect(g2.files.map((f) => f.path)).toEqual([CONFIG, ".claude/orchestration/watch-status.py", ".github/workflows/orchestration.yml"]);
    const g3 = await generateOrchestration(store, opts({ ci: "github", onDisk: disk(files), force: true }));
    expect(g3.kept).toEqual([]);
    expect(g3.files).toHaveLength(5);
  });

  test("stamps: what orch wrote is recognised, any edit is not; an unstamped launcher identical to orch's is orch's", () => {
    const body = "print(1)\n";
    const s = stamp("x.py", body);
    expect(s).toMatch(/^print\(1\)\n# orch generate: [0-9a-f]{16}; edit this file and orch generate keeps it\n$/);
    expect(stamp("x.md", "# T\n")).toMatch(/\n<!-- orch generate: [0-9a-f]{16}; edit this file and orch generate keeps it -->\n$/);
    const next = stamp("x.py", "print(2)\n");
    expect(changedByUser(null, next)).toBe(false);
    expect(changedByUser(s, next)).toBe(false); // orch's earlier output
    expect(changedByUser(body, stamp("x.py", body))).toBe(false); // the same text from an orch without stamps
    expect(changedByUser(s.replace("1", "3"), next)).toBe(true);
    expect(changedByUser(`${s}more\n`, next)).toBe(true);
    expect(changedByUser("print(1)\n", next)).toBe(true);
  });

  test("hostile names: the README shows them as written, the workflow stays valid YAML saying the same", async () => {
    const store = await tempStore();
    const hostile = 'A "quoted" *bold* _u_ `tick` <b>x</b> [l](http://e) | pipe # ${{ secrets.X }} \\ back \u0007 \u2028 \u0085 \u007f end';
    await importPrdMarkdown(store, "# Initiative: X\n## Foundation Phase\n### A: a\n- T-1: t\n");
    await updateTask(store, { id: "T-1", metadata: { streamId: "A", streamName: hostile, streamPhase: "foundation" } });
    const { config } = await generateOrchestration(store, opts());
    const html = Bun.markdown.html(buildReadme(forMarkdown(config)));
    const cells = [...html.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&"));
    const shown = hostile.replace(/\u0007/g, "\\u0007").replace(/\u2028/g, "\\u2028").replace(/\u0085/g, "\\u0085").replace(/\u007f/g, "\\u007f");
    expect(cells[1]).toBe(shown);
    const { files } = await generateOrchestration(store, opts({ ci: "github" }));
    const wf = Bun.YAML.parse(files.find((f) => f.path.endsWith(".yml"))!.content) as { jobs: Record<string, { name: string }> };
    expect(wf.jobs.a!.name).toBe(`A: ${shown.replace("${{", "$ {{")} (foundation)`);
  });
});

describe("archived streams", () => {
  const done = async (store: Store, ids: string[]) => {
    for (const id of ids) await updateTask(store, { id, status: "completed" });
  };

  test("a complete, archived foundation satisfies its dependents: no ⚠ Waiting on; generate still works", async () => {
    const store = await darkMode();
    await done(store, ["TASK-001", "TASK-002", "TASK-003", "TASK-004"]);
    await archiveStream(store, "Stream-A");
    const src = await planSource(store);
    expect(src.streams.map((s) => s.streamId)).toEqual(["Stream-B", "Stream-C", "Stream-Z"]);
    expect(src.archived.map((s) => s.streamId)).toEqual(["Stream-A"]);
    const report = statusReport(src.initiative, src.streams, src.archived);
    const waiting = Object.fromEntries(report.phases.flatMap((p) => p.streams.map((s) => [s.streamId, s.waitingOn])));
    expect(waiting).toEqual({ "Stream-B": [], "Stream-C": [], "Stream-Z": ["Stream-B", "Stream-C"] });
    expect(renderStatus(report)).not.toContain("Waiting on: Stream-A");
    const { config } = await generateOrchestration(store, opts());
    expect(config.streams.map((s) => s.streamId)).toEqual(["Stream-B", "Stream-C", "Stream-Z"]);
    expect(config.streams[0]!.dependencies).toEqual(["Stream-A"]);
  });

  test("an archived stream that is not complete is still waited on; archived parallel streams do not count towards the maximum", async () => {
    const store = await darkMode();
    await done(store, ["TASK-001", "TASK-002", "TASK-005", "TASK-006", "TASK-007"]);
    await archiveStream(store, "Stream-A");
    await archiveStream(store, "Stream-B");
    const src = await planSource(store);
    const report = statusReport(src.initiative, src.streams, src.archived);
    const waiting = Object.fromEntries(report.phases.flatMap((p) => p.streams.map((s) => [s.streamId, s.waitingOn])));
    expect(waiting).toEqual({ "Stream-C": ["Stream-A"], "Stream-Z": ["Stream-C"] });
    await generateOrchestration(store, opts({ maxParallel: 1 })); // does not throw
  });
});

describe("writeFiles", () => {
  test("writes every file with its mode and leaves no temp files", () => {
    const root = tempDir();
    writeFiles(root, [
      { path: "a/b/c.txt", content: "c" },
      { path: "a/run.py", content: "print(1)\n", mode: 0o755 },
    ]);
    expect(readFileSync(join(root, "a/b/c.txt"), "utf8")).toBe("c");
    expect(statSync(join(root, "a/run.py")).mode & 0o777).toBe(0o755);
    expect(readdirSync(join(root, "a")).sort()).toEqual(["b", "run.py"]);
  });

  test("a failure on any file writes none of them", () => {
    const root = tempDir();
    writeFileSync(join(root, "keep.txt"), "old");
    mkdirSync(join(root, "dir-in-the-way"));
    expect(() =>
      writeFiles(root, [
        { path: "keep.txt", content: "new" },
        { path: "dir-in-the-way", content: "x" },
      ]),
    ).toThrow("cannot write dir-in-the-way: a directory is in the way");
    expect(readFileSync(join(root, "keep.txt"), "utf8")).toBe("old");
    expect(readdirSync(root).sort()).toEqual(["dir-in-the-way", "keep.txt"]);
    expect(existsSync(join(root, "dir-in-the-way"))).toBe(true);
  });
});
