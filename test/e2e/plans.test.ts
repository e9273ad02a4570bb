/** PRD import → generate → launchers, and init, through the compiled binary. */
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DARK_MODE_PRD } from "../../src/core/index.ts";
import { orchBin, runOrch, tempDir } from "../helpers.ts";

/** The real interpreter (not a pyenv shim, which needs bash on PATH). */
const PYTHON = (() => {
  const shim = Bun.which("python3");
  if (!shim) return null;
  const p = Bun.spawnSync([shim, "-c", "import sys; print(sys.executable)"], { stdout: "pipe", stderr: "ignore" });
  return p.exitCode === 0 ? p.stdout.toString().trim() || null : null;
})();

/** A project: a git repository (so the project root is its top level) and its own database. */
function project() {
  const root = realpathSync(tempDir("orch-plans-"));
  const git = Bun.spawnSync(["git", "init", "-q", root], { stdout: "ignore", stderr: "pipe" });
  if (git.exitCode !== 0) throw new Error(git.stderr.toString());
  const env = { ORCH_DB: join(tempDir(), "tasks.db") };
  const run = (args: string[], cwd = root) => runOrch(args, { env, cwd });
  return { root, env, run };
}

const read = (root: string, path: string) => readFileSync(join(root, path), "utf8");

describe("orch prd import + orch generate: the guide's Dark Mode PRD end to end", () => {
  test("import, generate --ci github, then every file's contents", async () => {
    const { root, run } = project();
    writeFileSync(join(root, "PRD.md"), DARK_MODE_PRD);

    const imp = await run(["prd", "import", "PRD.md"]);
    expect(imp).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        'Imported "Add Dark Mode Support" as INIT-add-dark-mode-support (PRD-add-dark-mode-support)',
        "  4 streams (4 new), 15 tasks (15 new)",
        "  Foundation:  Stream-A",
        "  Parallel:    Stream-B, Stream-C",
        "  Integration: Stream-Z",
        "Next: orch generate",
        "",
      ].join("\n"),
    });
    const prds = JSON.parse((await run(["prd", "list", "--json"])).stdout);
    expect(prds).toMatchObject({ totalPrds: 1, prds: [{ id: "PRD-add-dark-mode-support", taskCount: 15 }] });

    // From a subdirectory: files still land at the project root.
    mkdirSync(join(root, "src"));
    const gen = await run(["generate", "--ci", "github"], join(root, "src"));
    expect(gen.code).toBe(0);
    expect(gen.stdout).toBe(
      [
        "✓ Generated orchestration configuration",
        "",
        "Files created:",
        "  .claude/orchestration/orchestration-config.json",
        "  .claude/orchestration/start-streams.py",
        "  .claude/orchestration/watch-status.py",
        "  .claude/orchestration/README.md",
        "  .github/workflows/orchestration.yml",
        "",
        "Next steps:",
        "1. Review configuration: orch generate config",
        "2. Start monitoring: python3 .claude/orchestration/watch-status.py",
        "3. Execute streams:",
        "   - Foundation: /continue Stream-A",
        "   - After foundation: /continue Stream-B, /continue Stream-C",
        "   - After parallel: /continue Stream-Z",
        "",
      ].join("\n"),
    );

    const config = JSON.parse(read(root, ".claude/orchestration/orchestration-config.json"));
    const stream = (streamId: string, streamName: string, streamPhase: string, totalTasks: number, dependencies: string[]) => ({
      streamId, streamName, streamPhase, totalTasks, completedTasks: 0, dependencies, projectRoot: root, worktreePath: null,
    });
    expect(config).toEqual({
      version: "1.0",
      generatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
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
    });
    expect(Object.keys(config)).toEqual(["version", "generatedAt", "initiative", "apiBaseUrl", "pollInterval", "maxParallelStreams", "streams", "executionPlan"]);

    const readme = read(root, ".claude/orchestration/README.md");
    expect(readme).toStartWith("# Orchestration: Add Dark Mode Support\n");
    expect(readme).toContain("| `Stream-A` | Core Theme System | foundation | 0/4 | none | main worktree |");

    for (const py of ["start-streams.py", "watch-status.py"]) {
      const path = join(root, ".claude/orchestration", py);
      expect(statSync(path).mode & 0o111).not.toBe(0);
      expect(readFileSync(path, "utf8")).toStartWith("#!/usr/bin/env python3\n");
    }

    const wf = Bun.YAML.parse(read(root, ".github/workflows/orchestration.yml")) as { jobs: Record<string, { needs?: string[]; env: { STREAM_ID: string } }> };
    expect(Object.entries(wf.jobs).map(([id, j]) => [id, j.env.STREAM_ID, j.needs ?? []])).toEqual([
      ["stream-a", "Stream-A", []],
      ["stream-b", "Stream-B", ["stream-a"]],
      ["stream-c", "Stream-C", ["stream-a"]],
      ["stream-z", "Stream-Z", ["stream-b", "stream-c"]],
    ]);

    // /orchestration config and status.
    const cfg = await run(["generate", "config", "--json"]);
    expect(JSON.parse(cfg.stdout)).toEqual(config);
    const cfgText = await run(["generate", "config"]);
    expect(cfgText.stdout).toContain("Stream-Z  Testing and Documentation  integration  5      Stream-B, Stream-C");
    expect(cfgText.stdout).not.toContain("have changed");
    await run(["task", "update", "TASK-001", "--status", "completed"]);
    await run(["task", "update", "TASK-002", "--status", "in_progress"]);
    const status = await run(["generate", "status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("Overall      █░░░░░░░░░░░░░░░░░░░   6.6% (1/15 tasks)");
    expect(status.stdout).toContain("Foundation   █████░░░░░░░░░░░░░░░  25.0% (1/4 tasks)");
    expect(status.stdout).toContain("  Stream-B   ░░░░░░░░░░░░░░░░░░░░   0.0% (0/3 tasks)  ⚠ Waiting on: Stream-A");
    const sj = JSON.parse((await run(["generate", "status", "--json"])).stdout);
    expect(sj.phases.map((p: { phase: string; progressPercentage: number }) => [p.phase, p.progressPercentage])).toEqual([
      ["foundation", 25],
      ["parallel", 0],
      ["integration", 0],
    ]);

    // The same action spelled out: `orch generate generate`.
    const again = await run(["generate", "generate", "--json"]);
    expect(JSON.parse(again.stdout).files).toHaveLength(4);
  });

  test("re-importing an edited PRD through the CLI: updated, added, vanished reported", async () => {
    const { root, run } = project();
    writeFileSync(join(root, "PRD.md"), DARK_MODE_PRD);
    await run(["prd", "import", "PRD.md"]);
    writeFileSync(
      join(root, "PRD.md"),
      DARK_MODE_PRD.replace("TASK-002: Implement theme provider", "TASK-002: Implement the theme provider")
        .replace("- TASK-014: Update user guide\n", "")
        .replace("- TASK-015: Performance testing", "- TASK-015: Performance testing\n- TASK-016: Accessibility audit"),
    );
    const r = await run(["prd", "import", "PRD.md"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  4 streams (4 unchanged), 15 tasks (1 new, 1 updated, 13 unchanged)\n");
    expect(r.stdout).toContain("⚠ 1 task(s) no longer in the PRD, kept as they are: TASK-014\n");
    const tasks = JSON.parse((await run(["task", "list", "--json"])).stdout);
    expect(tasks.totalTasks).toBe(16);
  });
});

describe("failures write nothing", () => {
  test("a PRD parse error names its line, exit 2, database untouched", async () => {
    const { root, run } = project();
    // The Stream-B heading turned into prose: its first task (line 12) now has no stream.
    const bad = DARK_MODE_PRD.replace("### Stream-B: UI Component Updates", "Stream B: UI Component Updates");
    writeFileSync(join(root, "bad.md"), bad);
    expect(await run(["prd", "import", "bad.md"])).toEqual({ code: 2, stdout: "", stderr: "orch: PRD line 12: task outside a stream\n" });
    expect(JSON.parse((await run(["stream", "list", "--json"])).stdout)).toEqual({ streams: [], totalStreams: 0 });
    expect(await run(["prd", "import", "missing.md"])).toEqual({ code: 2, stdout: "", stderr: "orch: cannot read PRD missing.md: no such file\n" });
    expect((await run(["prd", "import", "x.md", "--max-parallel", "0"])).stderr).toBe(
      'orch: flag --max-parallel must be a whole number from 1 to 100000, not "0"\n',
    );
  });

  test("validation messages from the binary; a failed import leaves no trace", async () => {
    const { root, run } = project();
    const cases: [string, string][] = [
      ["# Initiative: X\n## Parallel Phase\n### B: b\n- T1: t\n", "At least one foundation stream required"],
      ["# Initiative: X\n## Foundation Phase\n### A: a (depends on B)\n- T1: t\n## Parallel Phase\n### B: b\n- T2: t\n", "Circular dependency: A -> B -> A"],
      ["# Initiative: X\n## Foundation Phase\n### A: a\n- T1: t\n## Parallel Phase\n### B: b (depends on Stream-X)\n- T2: t\n", "Unknown dependency: B depends on Stream-X, which does not exist"],
    ];
    for (const [text, message] of cases) {
      writeFileSync(join(root, "p.md"), text);
      expect(await run(["prd", "import", "p.md"])).toEqual({ code: 2, stdout: "", stderr: `orch: ${message}\n` });
    }
    expect(JSON.parse((await run(["task", "list", "--json"])).stdout).totalTasks).toBe(0);
  });

  test("generate refuses an invalid graph or an empty plan and writes no file", async () => {
    const { root, run } = project();
    const none = await run(["generate"]);
    expect(none).toEqual({ code: 1, stdout: "", stderr: "orch: No streams to orchestrate: import a PRD first (orch prd import PRD.md)\n" });
    const six = `# Initiative: Wide\n## Foundation Phase\n### A: a\n- T0: t\n## Parallel Phase\n${[1, 2, 3, 4, 5, 6].map((k) => `### P${k}: p\n- T${k}: t\n`).join("")}`;
    writeFileSync(join(root, "six.md"), six);
    expect((await run(["prd", "import", "six.md"])).stderr).toBe("orch: Cannot create more than 5 parallel streams\n");
    expect((await run(["prd", "import", "six.md", "--max-parallel", "6"])).code).toBe(0);
    expect(await run(["generate", "--ci", "github"])).toEqual({ code: 2, stdout: "", stderr: "orch: Cannot create more than 5 parallel streams\n" });
    expect(existsSync(join(root, ".claude"))).toBe(false);
    expect(existsSync(join(root, ".github"))).toBe(false);
    expect((await run(["generate", "--ci", "gitlab"])).stderr).toBe('orch: flag --ci must be "github", not "gitlab"\n');
    const ok = await run(["generate", "--max-parallel", "6", "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(read(root, ".claude/orchestration/orchestration-config.json")).maxParallelStreams).toBe(6);
    expect((await run(["generate", "config", "--json"], tempDir())).stderr).toMatch(/^orch: no \.claude\/orchestration\/orchestration-config\.json in .*: run orch generate first\n$/);
  });
});

describe.skipIf(!PYTHON)("the Python launchers exec orch", () => {
  /** A stand-in `orch` that reports its arguments and working directory, then exits 3. */
  function fakeOrch(): string {
    const dir = tempDir("orch-fake-");
    const path = join(dir, "orch");
    writeFileSync(path, `#!${PYTHON}\nimport json, os, sys\nprint(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}))\nsys.exit(3)\n`);
    chmodSync(path, 0o755);
    return dir;
  }

  async function python(script: string, args: string[], opts: { cwd: string; env: Record<string, string> }) {
    const p = Bun.spawn([PYTHON!, script, ...args], { cwd: opts.cwd, env: opts.env, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr };
  }

  async function generated() {
    const { root, run } = project();
    writeFileSync(join(root, "PRD.md"), DARK_MODE_PRD);
    await run(["prd", "import", "PRD.md"]);
    expect((await run(["generate"])).code).toBe(0);
    return root;
  }

  test("arguments pass through unchanged, from the project root, and orch's exit code comes back", async () => {
    const root = await generated();
    const orchDir = fakeOrch();
    const env = { PATH: `${orchDir}:${dirname(PYTHON!)}:/usr/bin:/bin` };
    const dir = join(root, ".claude/orchestration");
    const start = await python("start-streams.py", ["--dry-run", "--stream", "Stream B", "--", "$HOME"], { cwd: dir, env });
    expect(start.code).toBe(3);
    expect(JSON.parse(start.stdout)).toEqual({ argv: ["start", "--dry-run", "--stream", "Stream B", "--", "$HOME"], cwd: root });
    const watch = await python(join(dir, "watch-status.py"), ["--refresh", "10"], { cwd: tempDir(), env });
    expect(JSON.parse(watch.stdout)).toEqual({ argv: ["watch", "--refresh", "10"], cwd: root });
    // ORCH_BIN wins over PATH.
    const viaEnv = await python("watch-status.py", ["--no-color"], { cwd: dir, env: { PATH: `${dirname(PYTHON!)}:/usr/bin:/bin`, ORCH_BIN: join(orchDir, "orch") } });
    expect(JSON.parse(viaEnv.stdout).argv).toEqual(["watch", "--no-color"]);
  });

  test("without orch on PATH: a clear message and exit 127", async () => {
    const root = await generated();
    const env = { PATH: dirname(PYTHON!) };
    if (Bun.which("orch", { PATH: env.PATH })) return; // an installed orch sits next to python here
    const r = await python(join(root, ".claude/orchestration/start-streams.py"), ["--dry-run"], { cwd: root, env });
    expect(r).toEqual({
      code: 127,
      stdout: "",
      stderr:
        "start-streams.py: cannot find the orch executable on PATH.\n  Install orch (see its README), or set ORCH_BIN=/path/to/orch, then run this again.\n",
    });
    const bad = await python(join(root, ".claude/orchestration/watch-status.py"), [], { cwd: root, env: { ...env, ORCH_BIN: "/nonexistent/orch" } });
    expect(bad).toEqual({ code: 127, stdout: "", stderr: "watch-status.py: ORCH_BIN=/nonexistent/orch is not an executable file\n" });
  });

  test("against the real binary", async () => {
    const root = await generated();
    const bin = orchBin();
    const binDir = tempDir("orch-real-");
    Bun.spawnSync(["ln", "-s", bin, join(binDir, "orch")]);
    const env = { PATH: `${binDir}:${dirname(PYTHON!)}:/usr/bin:/bin`, ORCH_DB: join(tempDir(), "t.db") };
    for (const [script, sub] of [["watch-status.py", "watch"], ["start-streams.py", "start"]] as const) {
      const r = await python(join(root, ".claude/orchestration", script), ["--help"], { cwd: root, env });
      // orch answered (its help, or its "not available in this build" line while the command is unbuilt).
      expect(`${r.stdout}${r.stderr}`).toContain(`orch ${sub}`);
      expect(r.stderr).not.toContain("cannot find");
    }
  });
});

describe("orch init", () => {
  test("merges task-copilot, writes the slash commands, ignores worktrees; idempotent", async () => {
    const { root, run } = project();
    const other = { mcpServers: { github: { command: "gh-mcp", args: [] } }, extra: true };
    writeFileSync(join(root, ".mcp.json"), JSON.stringify(other, null, 4));
    writeFileSync(join(root, ".gitignore"), "node_modules/\n");
    const r = await run(["init"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(
      [
        "✓ .mcp.json: updated (task-copilot: orch mcp, API on 127.0.0.1:9090)",
        "✓ .claude/settings.local.json: created (Claude Code hooks → orch hook (live agent status, permission questions))",
        "✓ .claude/commands/continue.md: created",
        "✓ .claude/commands/orchestration.md: created",
        "✓ .gitignore: updated (added .claude/worktrees/, .claude/orchestration/logs/, .claude/orchestration/orchestration-state.json, .claude/settings.local.json)",
      ].join("\n"),
    );
    expect(JSON.parse(read(root, ".mcp.json"))).toEqual({
      mcpServers: {
        github: { command: "gh-mcp", args: [] },
        "task-copilot": { command: "orch", args: ["mcp"], env: { HTTP_API_PORT: "9090", HTTP_API_HOST: "127.0.0.1" } },
      },
      extra: true,
    });
    expect(read(root, ".claude/commands/continue.md")).toContain("orch continue $ARGUMENTS");
    expect(read(root, ".claude/commands/orchestration.md")).toContain("orch generate $ARGUMENTS");
    const ignored = Bun.spawnSync(["git", "check-ignore", "-q", ".claude/worktrees/Stream-B/file.ts"], { cwd: root });
    expect(ignored.exitCode).toBe(0);
    // orch's hooks, in the settings file git ignores; orch's own MCP server needs no second yes.
    const local = JSON.parse(read(root, ".claude/settings.local.json"));
    expect(local.enabledMcpjsonServers).toEqual(["task-copilot"]);
    expect(Object.keys(local.hooks)).toEqual(["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest", "Notification", "Stop", "StopFailure", "SessionEnd"]);
    expect(Bun.spawnSync(["git", "check-ignore", "-q", ".claude/settings.local.json"], { cwd: root }).exitCode).toBe(0);

    const snapshot = [".mcp.json", ".gitignore", ".claude/commands/continue.md"].map((p) => read(root, p));
    const again = await run(["init", "--json"]);
    expect(JSON.parse(again.stdout).files.map((f: { status: string }) => f.status)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]);
    expect([".mcp.json", ".gitignore", ".claude/commands/continue.md"].map((p) => read(root, p))).toEqual(snapshot);
  });

  test("the environment's API port and host go into a new entry", async () => {
    const { root, env } = project();
    const r = await runOrch(["init"], { cwd: root, env: { ...env, HTTP_API_PORT: "9191", HTTP_API_HOST: "localhost" } });
    expect(r.code).toBe(0);
    expect(JSON.parse(read(root, ".mcp.json")).mcpServers["task-copilot"].env).toEqual({ HTTP_API_PORT: "9191", HTTP_API_HOST: "localhost" });
  });

  test("an invalid .mcp.json is refused, untouched, and nothing else is written", async () => {
    const { root, run } = project();
    const broken = '{\n  "mcpServers": {\n    "github": { "command": "gh-mcp", }\n  }\n}\n';
    writeFileSync(join(root, ".mcp.json"), broken);
    expect(await run(["init"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "orch: .mcp.json is not valid JSON at line 3, column 38; fix it (it was left untouched) and run orch init again\n",
    });
    expect(read(root, ".mcp.json")).toBe(broken);
    expect(existsSync(join(root, ".claude"))).toBe(false);
    expect(existsSync(join(root, ".gitignore"))).toBe(false);
  });

  test("a slash command you changed is kept unless --force", async () => {
    const { root, run } = project();
    mkdirSync(join(root, ".claude/commands"), { recursive: true });
    writeFileSync(join(root, ".claude/commands/continue.md"), "my own\n");
    const r = await run(["init"]);
    expect(r.stdout).toContain("! .claude/commands/continue.md: kept (yours differs; --force replaces it)\n");
    expect(read(root, ".claude/commands/continue.md")).toBe("my own\n");
    const f = await run(["init", "--force"]);
    expect(f.stdout).toContain("✓ .claude/commands/continue.md: updated\n");
    expect(read(root, ".claude/commands/continue.md")).toContain("orch continue $ARGUMENTS");
  });
});
