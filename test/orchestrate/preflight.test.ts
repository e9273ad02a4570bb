/** The preflight's decision, pure: facts in, one line per check out. Plus the small fact readers on temp dirs. */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StreamView } from "../../src/core/streams.ts";
import {
  agentFacts,
  applicable,
  decidePreflight,
  failures,
  initCommitCommand,
  initFacts,
  preview,
  runWillRefuse,
  streamsBusyInMain,
  streamsNeedingGit,
  type PreflightFacts,
} from "../../src/orchestrate/preflight.ts";
import { newRunState, newStreamRun } from "../../src/orchestrate/state.ts";
import { tempDir } from "../helpers.ts";

const ROOT = "/home/dev/shop";
const INIT_CMD = 'git add .mcp.json .claude/commands/continue.md .claude/commands/orchestration.md .gitignore && git commit -m "orch init"';

function facts(over: Partial<PreflightFacts> = {}): PreflightFacts {
  return {
    root: ROOT,
    launcher: "headless",
    gitStreams: ["Stream-B", "Stream-C"],
    busyInMain: [],
    git: { kind: "repo", hasCommits: true, changes: [] },
    init: { mcp: "ok", continueCommand: true },
    agent: { kind: "found", path: "/usr/local/bin/claude" },
    port: { address: "127.0.0.1:9090", holder: "free" },
    ...over,
  };
}

const lines = (f: PreflightFacts) => decidePreflight(f).map((r) => `${r.ok ? (r.warning ? "⚠" : "✓") : "✖"} ${r.check}: ${r.line}`);
const failed = (f: PreflightFacts) => failures(decidePreflight(f)).map((r) => r.line);

function stream(streamId: string, streamPhase: StreamView["streamPhase"], dependencies: string[] = []): StreamView {
  return {
    streamId,
    streamName: streamId,
    streamPhase,
    totalTasks: 1,
    completedTasks: 0,
    inProgressTasks: 0,
    blockedTasks: 0,
    pendingTasks: 1,
    progressPercentage: 0,
    status: "pending",
    dependencies,
    worktreePath: null,
    branchName: null,
    files: [],
    archived: false,
    initiativeId: null,
  };
}

describe("decidePreflight", () => {
  test("all well: one ✓ line per check, in order", () => {
    expect(lines(facts())).toEqual([
      `✓ git: git repository at ${ROOT}`,
      "✓ clean: main checkout clean",
      "✓ init-files: orch init's files in place (.mcp.json with task-copilot, .claude/commands/continue.md)",
      "✓ agent-command: agent command found: /usr/local/bin/claude",
      "✓ api-port: API port 127.0.0.1:9090 free",
    ]);
  });

  test("not a git repository: refused when a parallel stream needs a worktree, saying which; fine without one", () => {
    const none = { kind: "none", reason: `not a git repository: ${ROOT} (worktrees need one: run "git init" and commit first)` } as const;
    expect(failed(facts({ git: none }))).toEqual([
      `not a git repository: ${ROOT} (worktrees need one: run "git init" and commit first); needed for the worktrees of Stream-B, Stream-C`,
    ]);
    const alone = decidePreflight(facts({ git: none, gitStreams: [] }));
    expect(alone[0]).toEqual({ check: "git", ok: true, line: "not a git repository (none needed: no parallel stream in this run)" });
    // Outside git there is no checkout to be clean.
    expect(alone.map((r) => r.check)).not.toContain("clean");
    const many = failed(facts({ git: none, gitStreams: ["P1", "P2", "P3", "P4", "P5", "P6", "P7"] }));
    expect(many[0]).toEndWith("needed for the worktrees of P1, P2, P3, P4, P5 and 2 more");
  });

  test("a repository without a commit: refused when worktrees must branch from one", () => {
    expect(failed(facts({ git: { kind: "repo", hasCommits: false, changes: [] } }))).toEqual([
      `the git repository at ${ROOT} has no commit yet: the worktrees of Stream-B, Stream-C branch from one; commit first`,
    ]);
    expect(failed(facts({ gitStreams: [], git: { kind: "repo", hasCommits: false, changes: [] } }))).toEqual([]);
  });

  test("orch init's files uncommitted: named, with the exact command that commits them", () => {
    const changes = [
      { path: ".claude/commands/continue.md", untracked: true },
      { path: ".gitignore", untracked: false },
      { path: ".claude/commands/orchestration.md", untracked: true },
      { path: ".mcp.json", untracked: true },
    ];
    expect(failed(facts({ git: { kind: "repo", hasCommits: true, changes } }))).toEqual([
      `the main checkout has uncommitted changes (.mcp.json, .claude/commands/continue.md, .claude/commands/orchestration.md, .gitignore): orch init's files; commit them so orch start can merge: ${INIT_CMD}`,
    ]);
    const one = [{ path: ".gitignore", untracked: false }];
    expect(failed(facts({ git: { kind: "repo", hasCommits: true, changes: one } }))).toEqual([
      `the main checkout has uncommitted changes (.gitignore): orch init's files; commit them so orch start can merge: git add .gitignore && git commit -m "orch init"`,
    ]);
  });

  test("other changes: at most five named, then how many more; init's files still get their command", () => {
    const changes = ["src/a.ts", "src/b.ts", "notes.txt", "src/c.ts", "src/d.ts", "src/e.ts", "src/f.ts"].map((path) => ({ path, untracked: path === "notes.txt" }));
    expect(failed(facts({ git: { kind: "repo", hasCommits: true, changes } }))).toEqual([
      "the main checkout has uncommitted changes (src/a.ts, src/b.ts, notes.txt, src/c.ts, src/d.ts and 2 more): commit or stash them first (agents commit and orch merges there)",
    ]);
    const mixed = [{ path: "src/a.ts", untracked: false }, { path: ".mcp.json", untracked: true }];
    expect(failed(facts({ git: { kind: "repo", hasCommits: true, changes: mixed } }))).toEqual([
      `the main checkout has uncommitted changes (src/a.ts, .mcp.json): commit or stash them first (agents commit and orch merges there); for orch init's files: git add .mcp.json && git commit -m "orch init"`,
    ]);
  });

  test("orch's own untracked files (generated config, worktrees) never block; tracked changes to them do", () => {
    const own = [
      { path: ".claude/orchestration/orchestration-config.json", untracked: true },
      { path: ".claude/worktrees/Stream-B/", untracked: true },
    ];
    expect(failed(facts({ git: { kind: "repo", hasCommits: true, changes: own } }))).toEqual([]);
    const tracked = [{ path: ".claude/orchestration/orchestration-config.json", untracked: false }];
    expect(failed(facts({ git: { kind: "repo", hasCommits: true, changes: tracked } }))).toEqual([
      "the main checkout has uncommitted changes (.claude/orchestration/orchestration-config.json): commit or stash them first (agents commit and orch merges there)",
    ]);
  });

  test("an earlier run's agent works in the main checkout (resume): its work in progress is not a dirty checkout", () => {
    const changes = [{ path: "src/a.ts", untracked: true }];
    const r = decidePreflight(facts({ busyInMain: ["Stream-A"], git: { kind: "repo", hasCommits: true, changes } }));
    expect(r[1]).toEqual({ check: "clean", ok: true, line: "main checkout not checked: the agent of Stream-A (earlier run) is working in it" });
  });

  test("init's files missing or wrong: run orch init; the manual launcher only warns", () => {
    expect(failed(facts({ init: { mcp: "missing", continueCommand: false } }))).toEqual([
      ".mcp.json is missing and .claude/commands/continue.md is missing: run orch init (Claude Code reaches orch and works a stream through them)",
    ]);
    expect(failed(facts({ init: { mcp: "no-server", continueCommand: true } }))).toEqual([
      ".mcp.json has no task-copilot server: run orch init (Claude Code reaches orch and works a stream through them)",
    ]);
    expect(failed(facts({ init: { mcp: "invalid", continueCommand: true } }))[0]).toStartWith(".mcp.json is not valid JSON: run orch init");
    const manual = decidePreflight(facts({ launcher: "manual", agent: null, init: { mcp: "ok", continueCommand: false } }));
    expect(failures(manual)).toEqual([]);
    expect(manual.find((r) => r.check === "init-files")).toEqual({
      check: "init-files",
      ok: true,
      warning: true,
      line: ".claude/commands/continue.md is missing: run orch init (Claude Code reaches orch and works a stream through them)",
    });
  });

  test("the agent command: on PATH, or a path that must be an executable file", () => {
    expect(failed(facts({ agent: { kind: "not-on-path", program: "claude" } }))).toEqual([
      "agent command not found on PATH: claude (install it, or choose another with --agent-cmd)",
    ]);
    expect(failed(facts({ agent: { kind: "no-such-file", path: "/opt/agent.sh" } }))).toEqual([
      "agent command not found: /opt/agent.sh (no such file; choose another with --agent-cmd)",
    ]);
    expect(failed(facts({ agent: { kind: "not-executable", path: "/opt/agent.sh" } }))).toEqual([
      "agent command is not an executable file: /opt/agent.sh (chmod +x it, or choose another with --agent-cmd)",
    ]);
  });

  test("the API port: free or our own orch is fine; another project's orch or another program is refused, naming the port", () => {
    const port = (holder: "free" | "same-orch" | "other-orch" | "other") => decidePreflight(facts({ port: { address: "127.0.0.1:9191", holder } })).at(-1)!;
    expect(port("free")).toEqual({ check: "api-port", ok: true, line: "API port 127.0.0.1:9191 free" });
    expect(port("same-orch")).toEqual({ check: "api-port", ok: true, line: "API port 127.0.0.1:9191 served by an orch on this project's database" });
    expect(port("other-orch")).toEqual({
      check: "api-port",
      ok: false,
      line: "API port 127.0.0.1:9191 is held by another project's orch (another database): stop it, or give this project another port (HTTP_API_PORT, and in .mcp.json)",
    });
    expect(port("other")).toEqual({
      check: "api-port",
      ok: false,
      line: "API port 127.0.0.1:9191 is in use by a program that is not orch: stop it, or give this project another port (HTTP_API_PORT, and in .mcp.json)",
    });
    const manual = decidePreflight(facts({ launcher: "manual", agent: null, port: { address: "127.0.0.1:9191", holder: "other" } })).at(-1)!;
    expect(manual).toMatchObject({ ok: true, warning: true });
  });

  test("every failure is its own line", () => {
    const all = failed(
      facts({
        git: { kind: "repo", hasCommits: true, changes: [{ path: ".gitignore", untracked: false }] },
        init: { mcp: "missing", continueCommand: true },
        agent: { kind: "not-on-path", program: "claude" },
        port: { address: "127.0.0.1:9090", holder: "other-orch" },
      }),
    );
    expect(all).toHaveLength(4);
    for (const l of all) expect(l).not.toContain("\n");
  });
});

describe("what applies", () => {
  test("init files and port for Claude Code agents (and the manual launcher); the agent command only when orch starts it", () => {
    expect(applicable({ launcher: "headless", program: "claude", port: 9090, portSet: false })).toEqual({ init: true, agent: true, port: true });
    expect(applicable({ launcher: "tmux", program: "/usr/local/bin/claude", port: 9090, portSet: false })).toEqual({ init: true, agent: true, port: true });
    // A simulated or scripted agent needs no .mcp.json, and uses the port only when it is given one.
    expect(applicable({ launcher: "headless", program: "/bin/orch", port: 9090, portSet: false })).toEqual({ init: false, agent: true, port: false });
    expect(applicable({ launcher: "headless", program: "/bin/orch", port: 9191, portSet: true })).toEqual({ init: false, agent: true, port: true });
    expect(applicable({ launcher: "manual", program: "claude", port: 9090, portSet: false })).toEqual({ init: true, agent: false, port: true });
    expect(applicable({ launcher: "headless", program: "claude", port: 0, portSet: true }).port).toBe(false);
  });

  test("streams that need git: every parallel one; with --stream, it and the parallel streams merged before it", () => {
    const plan = [stream("A", "foundation"), stream("B", "parallel", ["A"]), stream("C", "parallel", ["A"]), stream("D", "integration", ["B", "C"])];
    expect(streamsNeedingGit(plan)).toEqual(["B", "C"]);
    expect(streamsNeedingGit(plan, "A")).toEqual([]);
    expect(streamsNeedingGit(plan, "B")).toEqual(["B"]);
    expect(streamsNeedingGit(plan, "D")).toEqual(["B", "C"]);
    expect(streamsNeedingGit([stream("A", "foundation")])).toEqual([]);
  });

  test("an earlier run's agents in the main checkout; runs that refuse by themselves are not preflighted", () => {
    const state = newRunState({ initiativeId: "INIT-x", launcher: "headless", maxParallelStreams: 5, restartLimit: 2, now: "2026-01-01T00:00:00.000Z" });
    state.streams.A = { ...newStreamRun(), status: "running", cwd: ROOT, pid: 12 };
    state.streams.B = { ...newStreamRun(), status: "running", cwd: `${ROOT}/.claude/worktrees/B`, pid: 13 };
    state.streams.D = { ...newStreamRun(), status: "completed", cwd: ROOT };
    expect(streamsBusyInMain(state, ROOT)).toEqual(["A"]);
    expect(streamsBusyInMain(null, ROOT)).toEqual([]);
    expect(runWillRefuse({ streams: 0, resume: false, previous: null, initiativeId: null })).toBe(true);
    expect(runWillRefuse({ streams: 3, resume: true, previous: null, initiativeId: "INIT-x" })).toBe(true);
    expect(runWillRefuse({ streams: 3, resume: true, previous: state, initiativeId: "INIT-y" })).toBe(true);
    expect(runWillRefuse({ streams: 3, resume: true, previous: state, initiativeId: "INIT-x" })).toBe(false);
    expect(runWillRefuse({ streams: 3, resume: false, previous: null, initiativeId: "INIT-x" })).toBe(false);
  });

  test("the commit command quotes what a shell would split; preview", () => {
    expect(initCommitCommand([".mcp.json", "my dir/.gitignore"])).toBe(`git add .mcp.json 'my dir/.gitignore' && git commit -m "orch init"`);
    expect(preview(["a", "b"])).toBe("a, b");
    expect(preview(["1", "2", "3", "4", "5", "6"])).toBe("1, 2, 3, 4, 5 and 1 more");
  });
});

describe("fact readers", () => {
  test("init files: missing, invalid, without task-copilot, in place", () => {
    const root = tempDir();
    expect(initFacts(root)).toEqual({ mcp: "missing", continueCommand: false });
    writeFileSync(join(root, ".mcp.json"), "{ nope");
    expect(initFacts(root).mcp).toBe("invalid");
    writeFileSync(join(root, ".mcp.json"), JSON.stringify({ mcpServers: { github: {} } }));
    expect(initFacts(root).mcp).toBe("no-server");
    writeFileSync(join(root, ".mcp.json"), "null");
    expect(initFacts(root).mcp).toBe("no-server");
    writeFileSync(join(root, ".mcp.json"), JSON.stringify({ mcpServers: { "task-copilot": { command: "orch", args: ["mcp"] } } }));
    mkdirSync(join(root, ".claude/commands"), { recursive: true });
    writeFileSync(join(root, ".claude/commands/continue.md"), "x");
    expect(initFacts(root)).toEqual({ mcp: "ok", continueCommand: true });
  });

  test("agent program: PATH lookup; a path relative to the root must exist and be executable", () => {
    const root = tempDir();
    const bin = tempDir();
    writeFileSync(join(bin, "agent"), "#!/bin/sh\n");
    chmodSync(join(bin, "agent"), 0o755);
    expect(agentFacts("agent", root, bin)).toEqual({ kind: "found", path: join(bin, "agent") });
    expect(agentFacts("agent", root, "/nonexistent")).toEqual({ kind: "not-on-path", program: "agent" });
    expect(agentFacts("agent", root, undefined)).toEqual({ kind: "not-on-path", program: "agent" });
    expect(agentFacts("./run.sh", root, bin)).toEqual({ kind: "no-such-file", path: join(root, "run.sh") });
    writeFileSync(join(root, "run.sh"), "#!/bin/sh\n");
    chmodSync(join(root, "run.sh"), 0o644);
    expect(agentFacts("./run.sh", root, bin)).toEqual({ kind: "not-executable", path: join(root, "run.sh") });
    chmodSync(join(root, "run.sh"), 0o755);
    expect(agentFacts("./run.sh", root, bin)).toEqual({ kind: "found", path: join(root, "run.sh") });
    expect(agentFacts(bin, root, bin)).toEqual({ kind: "not-executable", path: bin });
  });
});
