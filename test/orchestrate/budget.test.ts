/** The run's side of budgets: the launch cap, the flags, the scheduler's pauses, the budget step and permission alerts. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withBudgetCap } from "../../src/orchestrate/agent-command.ts";
import { budgetStep } from "../../src/orchestrate/budget-step.ts";
import { resolveBudget, usdAmount } from "../../src/orchestrate/config.ts";
import { say, type RunNote } from "../../src/orchestrate/messages.ts";
import { permissionAlerts, permissionNotes } from "../../src/orchestrate/permission-alerts.ts";
import { decide } from "../../src/orchestrate/plan.ts";
import { newRunState, newStreamRun, type RunState } from "../../src/orchestrate/state.ts";
import { openAgentSession, setSessionFigures } from "../../src/core/agent-sessions.ts";
import { pendingBudgetQuestions, raiseBudget } from "../../src/core/budget-store.ts";
import { createTask, listStreams } from "../../src/core/index.ts";
import { openQuestion } from "../../src/core/inbox.ts";
import { CONFIG_FILE } from "../../src/paths.ts";
import { rejects, tempDir, tempStore } from "../helpers.ts";

describe("--max-budget-usd on headless launches", () => {
  const argv = ["claude", "-p", "/continue S", "--output-format", "stream-json"];
  test("appended for claude in print mode when a dollar budget applies, never rounded up", () => {
    expect(withBudgetCap(argv, 2.5)).toEqual([...argv, "--max-budget-usd", "2.5"]);
    expect(withBudgetCap(["/usr/local/bin/claude", "--print", "x"], 1.23456)).toEqual(["/usr/local/bin/claude", "--print", "x", "--max-budget-usd", "1.2345"]);
  });
  test("left alone: no budget, another program, an interactive session, a cap the template sets", () => {
    expect(withBudgetCap(argv, null)).toEqual(argv);
    expect(withBudgetCap(["orch", "agent-sim", "-p"], 2)).toEqual(["orch", "agent-sim", "-p"]);
    expect(withBudgetCap(["claude", "/continue S"], 2)).toEqual(["claude", "/continue S"]);
    expect(withBudgetCap([...argv, "--max-budget-usd", "1"], 2)).toEqual([...argv, "--max-budget-usd", "1"]);
  });
});

describe("budget flags", () => {
  test("dollars: positive, cents at most; anything else is a usage error (exit 2)", async () => {
    expect(usdAmount("flag --budget-usd", "5")).toBe(5);
    expect(usdAmount("flag --budget-usd", "2.50")).toBe(2.5);
    expect(usdAmount("USD", "0", { allowZero: true })).toBe(0);
    for (const bad of ["0", "-1", "abc", "1e3", "1.234", "", "2000000"]) {
      const err = await rejects(() => usdAmount("flag --budget-usd", bad));
      expect(err.exitCode).toBe(2);
      expect(err.message).toBe(`flag --budget-usd must be a positive amount of US dollars up to 1000000 (like 5 or 2.50), not "${bad}"`);
    }
  });
  test("flags override the config file's budget, the rest of it stays", () => {
    const root = tempDir();
    mkdirSync(join(root, CONFIG_FILE, ".."), { recursive: true });
    writeFileSync(join(root, CONFIG_FILE), JSON.stringify({ budget: { streamUsd: 5, initiativeUsd: 20, streamTokens: 1000 } }));
    expect(resolveBudget(root, {})).toEqual({ streamUsd: 5, initiativeUsd: 20, streamTokens: 1000 });
    expect(resolveBudget(root, { streamUsd: "1.5" })).toEqual({ streamUsd: 1.5, initiativeUsd: 20, streamTokens: 1000 });
    expect(resolveBudget(tempDir(), { initiativeUsd: "3" })).toEqual({ initiativeUsd: 3 });
  });
});

describe("the scheduler and paused streams", () => {
  test("a paused stream is not launched and is listed as waiting; the run is not finished", async () => {
    const streams = await listStreamsOf(["Stream-A"]);
    const state = runState(["Stream-A"]);
    const d = decide(streams, state, { maxParallel: 5, paused: new Set(["Stream-A"]) });
    expect(d).toMatchObject({ launch: [], paused: ["Stream-A"], finished: false, running: 0 });
    expect(decide(streams, state, { maxParallel: 5 }).launch).toEqual(["Stream-A"]);
  });
});

async function listStreamsOf(ids: string[]) {
  const s = await tempStore();
  for (const id of ids) await createTask(s, { title: "t", metadata: { streamId: id, streamPhase: "foundation" } as Record<string, unknown> });
  return listStreams(s);
}

function runState(ids: string[]): RunState {
  const st = newRunState({ initiativeId: null, launcher: "headless", maxParallelStreams: 5, restartLimit: 2, now: "2026-01-01T00:00:00.000Z" });
  for (const id of ids) st.streams[id] = newStreamRun();
  return st;
}

describe("the budget step", () => {
  async function setup() {
    const store = await tempStore();
    for (const id of ["Stream-A", "Stream-B"]) await createTask(store, { title: "t", metadata: { streamId: id } });
    const notes: RunNote[] = [];
    const state = runState(["Stream-A", "Stream-B"]);
    const spend = async (streamId: string, costUsd: number) => {
      const id = await openAgentSession(store, { streamId, initiativeId: null, launch: 1 });
      await setSessionFigures(store, id, { sessionId: `s-${id}`, outcome: "success", turns: 1, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, costUsd });
    };
    return { store, notes, state, spend, streams: () => listStreams(store) };
  }

  test("reached → paused, said once, asked once in the inbox; raised → resumed on the next check", async () => {
    const { store, notes, state, spend, streams } = await setup();
    const step = budgetStep(store, { streamUsd: 1 }, (n) => notes.push(n));
    expect([...await step.check(await streams(), state, null)]).toEqual([]);
    expect(step.capFor("Stream-B")).toBe(1);
    await spend("Stream-B", 1.2);
    expect([...await step.check(await streams(), state, null)]).toEqual(["Stream-B"]);
    expect([...await step.check(await streams(), state, null)]).toEqual(["Stream-B"]);
    const q = await pendingBudgetQuestions(store, "Stream-B");
    expect(q.map((x) => x.question)).toEqual(["Stream-B reached its budget ($1.20 of $1.00): raise it? orch budget raise Stream-B USD"]);
    expect(notes).toEqual([{ kind: "budget-reached", streamId: "Stream-B", spent: "$1.20 of $1.00", command: "orch budget raise Stream-B USD", inboxId: q[0]!.id, agentRunning: false }]);
    expect(say(notes[0]!)).toEqual({
      lines: [`⏸ Stream-B reached its budget ($1.20 of $1.00): Stream-B launches nothing more until it is raised — orch budget raise Stream-B USD (inbox ${q[0]!.id})`],
      webhook: "⏸ Stream-B paused: budget reached ($1.20 of $1.00) — orch budget raise Stream-B USD",
    });
    await raiseBudget(store, { streamId: "Stream-B", usd: 1, tokens: 0, by: "ada" }, ["Stream-A", "Stream-B"], { streamUsd: 1 });
    expect([...await step.check(await streams(), state, null)]).toEqual([]);
    expect(notes.at(-1)).toEqual({ kind: "budget-resumed", streamId: "Stream-B", left: "$0.80" });
    expect(step.capFor("Stream-B")).toBe(0.8);
  });

  test("stopped at Claude Code's cap a cent short: paused all the same; without any budget the cap means nothing here", async () => {
    const { store, notes, state, spend, streams } = await setup();
    const step = budgetStep(store, { streamUsd: 1 }, (n) => notes.push(n));
    await spend("Stream-A", 0.99);
    step.capHit("Stream-A");
    expect([...await step.check(await streams(), state, null)]).toEqual(["Stream-A"]);
    const unlimited = budgetStep(await tempStore(), {}, () => {});
    unlimited.capHit("Stream-A");
    expect([...await unlimited.check(await streams(), state, null)]).toEqual([]);
  });

  test("the initiative reached pauses every stream with one question; a raise anywhere resumes them all", async () => {
    const { store, notes, state, spend, streams } = await setup();
    const limits = { initiativeUsd: 2 };
    const step = budgetStep(store, limits, (n) => notes.push(n));
    await spend("Stream-A", 2);
    expect([...await step.check(await streams(), state, null)].sort()).toEqual(["Stream-A", "Stream-B"]);
    expect(notes.map((n) => n.kind)).toEqual(["budget-reached"]);
    expect(await pendingBudgetQuestions(store, null)).toHaveLength(1);
    await raiseBudget(store, { streamId: "Stream-B", usd: 1, tokens: 0, by: "ada" }, ["Stream-A", "Stream-B"], limits);
    expect([...await step.check(await streams(), state, null)]).toEqual([]);
    expect(notes.filter((n) => n.kind === "budget-resumed").length).toBe(2);
  });

  test("streams with no work left in the run are neither paused nor asked about", async () => {
    const { store, notes, state, spend, streams } = await setup();
    state.streams["Stream-B"]!.status = "merged";
    await spend("Stream-B", 5);
    const step = budgetStep(store, { streamUsd: 1 }, (n) => notes.push(n));
    expect([...await step.check(await streams(), state, null)]).toEqual([]);
    expect(notes).toEqual([]);
  });
});

describe("permission alerts", () => {
  test("new pending permission questions are said once, with the commands that answer them", async () => {
    const store = await tempStore();
    const notes: RunNote[] = [];
    const alerts = permissionAlerts(store, (n) => notes.push(n));
    const ask = (question: string, streamId: string | null) =>
      openQuestion(store, { kind: "permission", source: "hook", sessionId: "s1", streamId, toolName: "Bash", toolInput: { command: "npm publish" }, question, timeoutMs: 60_000 });
    const q = await ask("Bash(npm publish)", "Stream-B");
    await openQuestion(store, { kind: "budget", source: "budget", sessionId: null, streamId: "Stream-B", question: "raise?", timeoutMs: 60_000 });
    await alerts.poll();
    await alerts.poll();
    expect(notes).toEqual([{ kind: "permission-asked", streamId: "Stream-B", agent: "s1", tool: "Bash(npm publish)", inboxId: q.id }]);
    expect(say(notes[0]!)).toEqual({
      lines: [`⏸ Stream-B waits for permission: Bash(npm publish) — orch allow ${q.id} / orch deny ${q.id}`],
      webhook: `⏸ Stream-B waits for permission: Bash(npm publish) — orch allow ${q.id} / orch deny ${q.id}`,
    });
    const q2 = await ask("Write(/etc/passwd)", null);
    await alerts.poll();
    expect(notes.length).toBe(2);
    expect(say(notes[1]!).lines).toEqual([`⏸ s1 waits for permission: Write(/etc/passwd) — orch allow ${q2.id} / orch deny ${q2.id}`]);
  });

  test("answered or expired questions are not alerted", () => {
    const base = { kind: "permission", source: "hook", sessionId: null, streamId: "S", agent: null, toolName: "Bash", toolInput: null, toolUseId: null, question: "q", answeredBy: null, answeredHow: null, reason: null, always: false, createdAt: "", answeredAt: null } as const;
    const rows = [
      { ...base, id: 1, status: "pending" as const, expiresAt: "2100-01-01T00:00:00.000Z" },
      { ...base, id: 2, status: "allowed" as const, expiresAt: "2100-01-01T00:00:00.000Z" },
      { ...base, id: 3, status: "pending" as const, expiresAt: "2000-01-01T00:00:00.000Z" },
    ];
    expect(permissionNotes(rows, Date.now()).map((n) => (n as { inboxId: number }).inboxId)).toEqual([1]);
  });
});
