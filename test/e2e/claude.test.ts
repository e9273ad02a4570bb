/**
 * The whole flow with the real Claude Code CLI as the agent: a real repository nobody here wrote
 * (zod's published source), `orch init` → commit → `orch prd import` → `orch start --launcher
 * headless` with the default agent command. The model is a scripted stand-in on loopback, so
 * Claude Code's own permissions, slash commands, MCP loading and tool deferral are what is tested.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLAUDE_LATEST, CLAUDE_OLDER, useTempDirs } from "../agents/claude-cli.ts";
import { turnOf, type FakeModel } from "../agents/fake-model.ts";
import { realProject, type RealProject } from "../agents/real-project.ts";
import { streamAgent, type Misbehaviour, type PlannedTask } from "../agents/stream-agent.ts";
import { orchBin, tempDir } from "../helpers.ts";

const PRD = `# Initiative: Zod extras

## Foundation Phase
### Stream-A: Shared helpers
- TASK-001: Add a shared helper [files: src/extras/shared.ts]

## Parallel Phase
### Stream-B: Checks
- TASK-002: Add a check [files: src/extras/check.ts]
- TASK-003: Add another check [files: src/extras/check2.ts]
### Stream-C: Formats
- TASK-004: Add a format [files: src/extras/format.ts]

## Integration Phase
### Stream-Z: Wire it up
- TASK-005: Export the extras [files: src/extras/index.ts]
`;

const PLAN: Record<string, PlannedTask[]> = {
  "Stream-A": [{ id: "TASK-001", file: "src/extras/shared.ts" }],
  "Stream-B": [
    { id: "TASK-002", file: "src/extras/check.ts" },
    { id: "TASK-003", file: "src/extras/check2.ts" },
  ],
  "Stream-C": [{ id: "TASK-004", file: "src/extras/format.ts" }],
  "Stream-Z": [{ id: "TASK-005", file: "src/extras/index.ts" }],
};

useTempDirs(tempDir);
const models: FakeModel[] = [];
afterAll(() => {
  for (const m of models) m.stop();
});

async function project(version: string, misbehave: Record<string, Misbehaviour> = {}): Promise<RealProject> {
  const p = await realProject({ orchBin: orchBin(), claudeVersion: version, prd: PRD, script: streamAgent(PLAN, misbehave) });
  models.push(p.model);
  return p;
}

const tasksOf = async (p: RealProject) => JSON.parse((await p.orch(["task", "list", "--json"])).stdout).tasks as { id: string; status: string }[];

describe("the real Claude Code CLI as the agent (stand-in model on loopback)", () => {
  test(`Claude Code ${CLAUDE_LATEST} (MCP tools deferred behind ToolSearch): every stream merged, every task complete, every file on main; misbehaving agents change nothing of that`, async () => {
    // Stream-B marks each task done before committing it; Stream-C stages with `git add -A`.
    const p = await project(CLAUDE_LATEST, { "Stream-B": { doneBeforeCommit: true }, "Stream-C": { addAll: true } });
    const dry = await p.orch(["start", "--launcher", "headless", "--dry-run"]);
    const checks = dry.stdout.slice(dry.stdout.indexOf("Preflight:\n")).trim().split("\n").slice(1);
    expect(checks.length).toBeGreaterThan(3);
    for (const c of checks) expect(c).toStartWith("  ✓ ");
    const r = await p.orch(["start", "--launcher", "headless"]);
    if (r.code !== 0) console.error(r.stdout, r.stderr);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("denied");
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("✓ All 4 streams complete.");
    expect(r.stdout).toContain("⇄ Stream-B merged into main");
    expect(r.stdout).toContain("⇄ Stream-C merged into main");

    expect((await tasksOf(p)).map((t) => t.status)).toEqual(Array(5).fill("completed"));
    for (const t of Object.values(PLAN).flat()) expect(p.git("show", `main:${t.file}`)).toContain(t.id);
    for (const b of ["stream-b", "stream-c"]) expect(p.git("log", "--oneline", `main..refs/heads/${b}`)).toBe("");
    // Nothing orch placed in a worktree entered an agent's commit (Stream-C's `git add -A`).
    const added = p.git("log", "--format=", "--name-only", "main~4..main").split("\n").filter(Boolean);
    expect(added.filter((f) => f.startsWith(".claude/") || f === ".mcp.json")).toEqual([]);
    // Nothing but what `orch generate` wrote for the user (the guide's scripts, theirs to commit).
    expect(p.git("status", "--porcelain")).toBe("?? .claude/orchestration/\n");

    // The client really deferred orch's tools, and loaded them through ToolSearch.
    const first = turnOf(p.model.requests.find((q) => q.body.tools?.length)!.body);
    expect(first.deferred.has("mcp__task-copilot__task_update")).toBe(true);
    expect(p.model.requests.some((q) => turnOf(q.body).calls.some((c) => c.name === "ToolSearch"))).toBe(true);

    // Cost per stream, from each session's result event: API, stream_get's source and --status.
    const streams = JSON.parse((await p.orch(["stream", "list", "--json"])).stdout).streams as { streamId: string; usage: any }[];
    for (const s of streams) expect(s.usage).toMatchObject({ sessions: 1, denials: 0 });
    for (const s of streams) expect(s.usage.costUsd).toBeGreaterThan(0);
    for (const s of streams) expect(s.usage.inputTokens).toBeGreaterThan(0);
    const status = await p.orch(["start", "--status"]);
    expect(status.stdout).toMatch(/Cost: \$\d+\.\d+ \(4 agent sessions/);
    // The monitor (no API on the port: it reads the database) shows each stream's cost.
    const watch = await p.orch(["watch", "--once", "--no-color"], { COLUMNS: "100" });
    expect(watch.stdout.match(/✓ COMPLETE \$\d+\.\d\d/g)).toHaveLength(4);
  }, 180_000);

  test(`Claude Code ${CLAUDE_OLDER}: an agent denied a tool (by orch's policy, through its permission tool) is alerted with the tool and input, and not restarted blindly`, async () => {
    const p = await project(CLAUDE_OLDER, { "Stream-A": { deniedCommand: "npm publish --access public" } });
    // Outside the allow-list the headless agent asks orch; this project's policy says no.
    const configFile = join(p.root, ".claude/orchestration/orchestration-config.json");
    const config = JSON.parse(readFileSync(configFile, "utf8"));
    writeFileSync(configFile, JSON.stringify({ ...config, policy: { deny: ["Bash(npm publish:*)"] } }));
    const hookLines: string[] = [];
    const hook = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async (req) => (hookLines.push(((await req.json()) as { text: string }).text), new Response("ok")) });
    const r = await p.orch(["start", "--launcher", "headless"], { ORCHESTRATION_WEBHOOK_URL: `http://127.0.0.1:${hook.port}/` });
    hook.stop(true);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("⚠ Stream-A: Claude Code denied Bash: npm publish --access public (allow it with Bash(npm publish:*))");
    expect(r.stdout).toContain("✖ Stream-A failed: its agent was denied 1 tool call(s) and completed no task; not restarting it blindly.");
    expect(r.stdout).not.toContain("restarting (1/");
    const state = JSON.parse(readFileSync(join(p.root, ".claude/orchestration/orchestration-state.json"), "utf8"));
    expect(state.streams["Stream-A"]).toMatchObject({ status: "failed", launches: 1, denials: 1 });
    const a = JSON.parse((await p.orch(["stream", "get", "Stream-A", "--json"])).stdout);
    expect(a.usage).toMatchObject({ sessions: 1, denials: 1 });
    expect(hookLines).toContain("⚠ Stream-A: permission denied — Bash: npm publish --access public");
    const watch = await p.orch(["watch", "--once", "--no-color"], { COLUMNS: "120" });
    expect(watch.stdout).toContain("⚠ Stream-A: Claude Code denied Bash: npm publish --access public (allow it with Bash(npm publish:*))");
    expect(hookLines).toContain("✖ Stream-A failed: permission denials, no progress");
    expect(existsSync(join(p.root, ".claude/worktrees/Stream-B"))).toBe(false);
  }, 90_000);
});
