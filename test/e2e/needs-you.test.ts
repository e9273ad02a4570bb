/**
 * Needs you, with the real Claude Code CLI as the agent (stand-in model on loopback): hooks drive
 * the session's status, a tool outside the allow-list becomes an inbox question through orch's
 * permission tool, a person's answer (allow, deny with a reason) or a policy rule decides it, and
 * the agent sees the answer.
 */
import { hookSocketPath } from "../../src/agents/hook-socket.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CLAUDE_LATEST, useTempDirs } from "../agents/claude-cli.ts";
import { continuedStream, stepList, turnOf as turnOfBody, type FakeModel, type Step, type Turn } from "../agents/fake-model.ts";
import { realProject } from "../agents/real-project.ts";
import { orchBin, tempDir, until } from "../helpers.ts";
import { hasTmux } from "../tmux.ts";
import { startInteractiveClaude, waitForApiAgent } from "../agents/interactive.ts";
import { openStore } from "../../src/db/client.ts";
import { openTestStore } from "../backend.ts";
import { listAgents } from "../../src/core/agents.ts";
import { listInbox } from "../../src/core/inbox.ts";
import { eventsSince } from "../../src/core/events.ts";

const PRD = `# Initiative: Zod extras

## Foundation Phase
### Stream-A: Shared helpers
- TASK-001: Add a shared helper [files: src/extras/shared.ts]

## Parallel Phase
### Stream-B: Checks
- TASK-002: Add a check [files: src/extras/check.ts]
`;

const mcp = (name: string) => `mcp__task-copilot__${name}`;
const bash = (command: string): Step => ({ tool: "Bash", input: { command, description: "run it" } });

const doTask = (turn: Turn, id: string, file: string): Step[] => [
  { tool: mcp("task_update"), input: { id, status: "in_progress", assignedAgent: "me" } },
  { tool: "Write", input: { file_path: `${turn.cwd}/${file}`, content: `// ${id}\nexport const done = true;\n` } },
  bash(`git add -- ${file}`),
  bash(`git commit -q -m "${id}"`),
  { tool: mcp("task_update"), input: { id, status: "completed", notes: `wrote ${file}` } },
];

/** Stream-B's agent asks for four commands outside its allow-list, then does its task. */
const agentScript = stepList((turn: Turn) => {
  const streamId = continuedStream(turn);
  if (streamId === "Stream-A") return [{ tool: mcp("task_list"), input: { streamId } }, ...doTask(turn, "TASK-001", "src/extras/shared.ts")];
  if (streamId !== "Stream-B") return [];
  return [
    { tool: mcp("task_list"), input: { streamId } },
    bash("node -e \"console.log('ran-after-allow')\""),
    bash("node -e \"console.log('should-not-run')\""),
    bash("git push origin main"),
    bash("node -p 6*7"),
    ...doTask(turn, "TASK-002", "src/extras/check.ts"),
  ];
});

useTempDirs(tempDir);
const models: FakeModel[] = [];
afterAll(() => {
  for (const m of models) m.stop();
});

/** The tool_result the agent got for the Bash call whose command contains `needle`. */
function resultFor(model: FakeModel, needle: string): { content: string; isError: boolean } | null {
  for (const r of [...model.requests].reverse()) {
    const msgs: any[] = r.body.messages ?? [];
    const call = msgs.flatMap((m) => (m.role === "assistant" && Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === "tool_use" && String(b.input?.command ?? "").includes(needle));
    if (!call) continue;
    const res = msgs.flatMap((m) => (m.role === "user" && Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === "tool_result" && b.tool_use_id === call.id);
    if (res) return { content: typeof res.content === "string" ? res.content : JSON.stringify(res.content), isError: res.is_error === true };
  }
  return null;
}

describe("needs you: the real Claude Code CLI asks orch, a person or a policy answers", () => {
  test(`Claude Code ${CLAUDE_LATEST} headless: questions in the inbox, allow / deny / policy, statuses from hooks`, async () => {
    const p = await realProject({ orchBin: orchBin(), claudeVersion: CLAUDE_LATEST, prd: PRD, script: agentScript });
    models.push(p.model);
    const configFile = join(p.root, ".claude/orchestration/orchestration-config.json");
    const config = JSON.parse(await Bun.file(configFile).text());
    writeFileSync(configFile, JSON.stringify({ ...config, policy: { allow: ["Bash(node -p:*)"], deny: ["Bash(git push:*)"] } }, null, 2));

    const run = Bun.spawn([orchBin(), "start", "--launcher", "headless"], { cwd: p.root, env: p.env, stdout: "pipe", stderr: "pipe" });
    const store = await openTestStore(p.env.ORCH_DB!);
    try {
      const first = await until("the first question", async () => (await listInbox(store)).find((e) => e.question.includes("ran-after-allow")), 90_000);
      expect(first).toMatchObject({ kind: "permission", source: "prompt_tool", streamId: "Stream-B", toolName: "Bash", status: "pending" });
      // While it waits, the monitor says so under the stream and in its INBOX.
      const watch = await p.orch(["watch", "--once", "--no-color"], { COLUMNS: "140" });
      expect(watch.stdout).toMatch(/└─ .*⏸ waiting for permission: Bash\(node -e/);
      expect(watch.stdout).toContain("INBOX");
      const agentsNow = JSON.parse((await p.orch(["agents", "--json"])).stdout).agents;
      const live = agentsNow.find((a: { streamId: string }) => a.streamId === "Stream-B");
      expect(live).toMatchObject({ status: "waiting_permission", launcher: "headless" });
      // The session's orch mcp takes its hooks' events on a socket named after Claude Code's pid.
      expect(existsSync(hookSocketPath(p.env.ORCH_DB!, live.pid, p.env.HOME)!)).toBe(true);
      const allow = await p.orch(["allow", String(first.id)]);
      expect(allow.code).toBe(0);
      const second = await until("the second question", async () => (await listInbox(store)).find((e) => e.question.includes("should-not-run")), 30_000);
      const deny = await p.orch(["deny", String(second.id), "--reason", "not in this run"]);
      expect(deny.code).toBe(0);
      const [stdout, stderr, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited]);
      expect({ code, stderr }).toMatchObject({ code: 0 });
      expect(stdout).toContain("complete");
    } finally {
      run.kill();
    }

    expect(resultFor(p.model, "ran-after-allow")?.content).toContain("ran-after-allow");
    const denied = resultFor(p.model, "should-not-run")!;
    expect(denied.content).toContain("not in this run");
    expect(resultFor(p.model, "git push")?.content).toContain("orch policy denies");
    expect(resultFor(p.model, "node -p")?.content).toContain("42");

    const all = await listInbox(store, { all: true });
    const by = (needle: string) => all.find((e) => e.question.includes(needle))!;
    expect(by("ran-after-allow")).toMatchObject({ status: "allowed", answeredHow: "person" });
    expect(by("should-not-run")).toMatchObject({ status: "denied", answeredHow: "person", reason: "not in this run" });
    expect(by("git push")).toMatchObject({ status: "denied", answeredHow: "policy", answeredBy: "policy" });
    expect(by("node -p")).toMatchObject({ status: "allowed", answeredHow: "policy" });

    const agent = (await listAgents(store, { all: true })).find((a) => a.streamId === "Stream-B")!;
    expect(agent).toMatchObject({ streamId: "Stream-B", status: "exited", launcher: "headless" });
    // working → waiting → working → exited, as the hooks and the inbox reported it (the change
    // events SSE carries).
    const statuses = (await eventsSince(store, 0, 100_000))
      .filter((e) => e.kind === "agent" && e.entityId === agent.sessionId)
      .map((e) => (e.payload as { status: string }).status)
      .filter((s, k, list) => s !== list[k - 1]);
    const i = statuses.indexOf("waiting_permission");
    expect(i).toBeGreaterThan(0);
    expect(statuses.slice(0, i)).toContain("working");
    expect(statuses.slice(i)).toContain("working");
    expect(statuses.at(-1)).toBe("exited");
    await store.close();
  }, 180_000);

  test.skipIf(!hasTmux)(`Claude Code ${CLAUDE_LATEST} interactive in tmux: a permission prompt shows as waiting_permission in /api/agents, and an answer through orch unblocks it`, async () => {
    let asked = 0;
    const script = stepList((turn: Turn) => (turn.prompt.includes("check the build") ? [bash("node -e \"console.log('interactive-ok')\"")] : []));
    const p = await realProject({
      orchBin: orchBin(),
      claudeVersion: CLAUDE_LATEST,
      prd: PRD,
      script: (turn) => {
        const step = script(turn);
        if ("tool" in step) asked = Date.now();
        return step;
      },
    });
    models.push(p.model);
    const term = startInteractiveClaude(p, "check the build", { ORCH_STREAM_ID: "Stream-A" });
    const store = await openTestStore(p.env.ORCH_DB!);
    const serve = Bun.spawn([orchBin(), "serve"], { cwd: p.root, env: p.env, stdout: "ignore", stderr: "ignore" });
    try {
      const waiting = await waitForApiAgent(`http://127.0.0.1:${p.env.HTTP_API_PORT}`, (a) => a.status === "waiting_permission", 60_000);
      if (!waiting) throw new Error("no session waiting for permission in /api/agents");
      // How soon is the benchmark's (npm run bench -- needs-you); here it is only recorded.
      console.error(`needs-you: waiting_permission in /api/agents ${Date.now() - asked} ms after the model asked for the tool`);
      expect(waiting).toMatchObject({ streamId: "Stream-A", tool: expect.stringContaining("interactive-ok") });
      const entry = (await listInbox(store)).find((e) => e.question.includes("interactive-ok"))!;
      expect(entry).toMatchObject({ source: "hook", status: "pending", sessionId: waiting.sessionId });
      expect((await p.orch(["allow", String(entry.id)])).code).toBe(0);
      await until("the command's output in the next request", () => resultFor(p.model, "interactive-ok")?.content.includes("interactive-ok"), 30_000);
      await until("the session working again", async () => (await listAgents(store)).find((a) => a.sessionId === waiting.sessionId && a.status !== "waiting_permission"), 10_000);
    } catch (err) {
      console.error(term.capture());
      throw err;
    } finally {
      term.kill();
      serve.kill();
      await store.close();
    }
  }, 120_000);

  test(`Claude Code ${CLAUDE_LATEST} headless: a stream at its budget is paused and asked about, the others go on; orch budget raise resumes it`, async () => {
    // Stream-B's agent reads a lot before its task: its session costs more than Stream-A's.
    const script = stepList((turn: Turn) => {
      const streamId = continuedStream(turn);
      if (streamId === "Stream-A") return [{ tool: mcp("task_list"), input: { streamId } }, ...doTask(turn, "TASK-001", "src/extras/shared.ts")];
      if (streamId !== "Stream-B") return [];
      return [{ tool: mcp("task_list"), input: { streamId } }, ...Array.from({ length: 24 }, () => bash("git status --short")), ...doTask(turn, "TASK-002", "src/extras/check.ts")];
    });
    const p = await realProject({ orchBin: orchBin(), claudeVersion: CLAUDE_LATEST, prd: PRD, script });
    models.push(p.model);
    const run = Bun.spawn([orchBin(), "start", "--launcher", "headless", "--budget-stream-usd", "0.15"], { cwd: p.root, env: p.env, stdout: "pipe", stderr: "pipe" });
    const store = await openTestStore(p.env.ORCH_DB!);
    try {
      const asked = await until("the budget question", async () => (await listInbox(store)).find((e) => e.kind === "budget"), 120_000);
      expect(asked).toMatchObject({ streamId: "Stream-B", status: "pending" });
      expect(asked.question).toContain("orch budget raise Stream-B");
      const watch = await p.orch(["watch", "--once", "--no-color"], { COLUMNS: "120" });
      expect(watch.stdout).toContain("⏸ PAUSED: budget");
      const budget = JSON.parse((await p.orch(["budget", "--json"])).stdout);
      expect(JSON.stringify(budget)).toContain("Stream-B");
      // Stream-A finished meanwhile: only the paused stream waits.
      expect(JSON.parse((await p.orch(["task", "get", "TASK-001", "--json"])).stdout).status).toBe("completed");
      const raise = await p.orch(["budget", "raise", "Stream-B", "1"]);
      expect(raise.code).toBe(0);
      const [stdout, stderr, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited]);
      expect({ code, stderr }).toMatchObject({ code: 0 });
      expect(stdout).toMatch(/⏸ Stream-B reached its budget \(\$0\.\d\d of \$0\.15\)/);
      expect(stdout).toContain("▶ Stream-B: budget raised");
      expect(stdout).toContain("✓ All 2 streams complete.");
      expect(JSON.parse((await p.orch(["task", "get", "TASK-002", "--json"])).stdout).status).toBe("completed");
      expect((await listInbox(store, { all: true })).find((e) => e.id === asked.id)).toMatchObject({ status: "allowed", answeredHow: "person" });
      // Claude Code's own cap (--max-budget-usd) ended the first session; orch started a second.
      const sessions = new Set(p.model.requests.filter((r) => continuedStream(turnOfBody(r.body)) === "Stream-B").map((r) => JSON.stringify(r.body.messages?.[0])));
      expect(sessions.size).toBeGreaterThanOrEqual(1);
      expect(stdout).toContain("▶ Stream-B (parallel) started again");
    } finally {
      run.kill();
      await store.close();
    }
  }, 240_000);
});
