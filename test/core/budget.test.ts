/** Budgets: the pure sums and decisions (core/budget.ts) and their database side (budget-store.ts). */
import { describe, expect, test } from "bun:test";
import { budgetQuestion, budgetView, launchCapUsd, pauseDecision, streamBudget, PAUSE_INITIATIVE, PAUSE_STREAM, type Spend, type StreamBudgetState } from "../../src/core/budget.ts";
import { askForRaise, loadBudgetView, pendingBudgetQuestions, raiseBudget, setPaused, spendByStream } from "../../src/core/budget-store.ts";
import { openAgentSession, setSessionFigures } from "../../src/core/agent-sessions.ts";
import { recordAgentChange, recordAgentUsage } from "../../src/core/agents.ts";
import { createTask } from "../../src/core/index.ts";
import { getQuestion } from "../../src/core/inbox.ts";
import { tempStore, rejects } from "../helpers.ts";

const spend = (entries: Record<string, [number, number]>) => new Map<string, Spend>(Object.entries(entries).map(([k, [c, t]]) => [k, { costUsd: c, tokens: t }]));
const states = (entries: Record<string, Partial<StreamBudgetState>>) =>
  new Map<string, StreamBudgetState>(Object.entries(entries).map(([k, v]) => [k, { raisedUsd: 0, raisedTokens: 0, pausedReason: null, ...v }]));

describe("budget sums", () => {
  test("a stream's limit is the configured one plus its raises; reached at the limit, in dollars or tokens", () => {
    const v = budgetView(["A", "B", "C"], { streamUsd: 5, streamTokens: 1000 }, states({ B: { raisedUsd: 2.5 } }), spend({ A: [5, 10], B: [5, 10], C: [0.1, 1000] }));
    expect(v.streams.map((s) => [s.streamId, s.limitUsd, s.remainingUsd, s.reached])).toEqual([
      ["A", 5, 0, "usd"],
      ["B", 7.5, 2.5, null],
      ["C", 5, 4.9, "tokens"],
    ]);
    expect(v.limited).toBe(true);
    expect(v.initiative).toMatchObject({ spentUsd: 10.1, limitUsd: null, reached: null });
  });

  test("no limits: nothing is reached, remaining is null, nothing capped", () => {
    const v = budgetView(["A"], {}, new Map(), spend({ A: [100, 1e9] }));
    expect(v.limited).toBe(false);
    expect(v.streams[0]).toMatchObject({ limitUsd: null, limitTokens: null, remainingUsd: null, reached: null });
    expect(launchCapUsd(v, "A")).toBeNull();
  });

  test("the initiative's limit grows with every raise; floating sums at the limit count as reached", () => {
    const v = budgetView(["A", "B"], { initiativeUsd: 0.3 }, states({ A: { raisedUsd: 0.1 } }), spend({ A: [0.1, 0], B: [0.2, 0] }));
    expect(v.initiative.limitUsd).toBeCloseTo(0.4);
    expect(v.initiative.reached).toBeNull();
    const at = budgetView(["A", "B"], { initiativeUsd: 0.3 }, new Map(), spend({ A: [0.1, 0], B: [0.2, 0] }));
    expect(at.initiative.reached).toBe("usd");
  });

  test("a launch's cap is the smaller of the stream's and the initiative's remainder", () => {
    const v = budgetView(["A", "B"], { streamUsd: 5, initiativeUsd: 6 }, new Map(), spend({ A: [1, 0], B: [3, 0] }));
    expect(launchCapUsd(v, "A")).toBe(2);
    expect(launchCapUsd(budgetView(["A"], { streamUsd: 5 }, new Map(), spend({ A: [1, 0] })), "A")).toBe(4);
    expect(launchCapUsd(budgetView(["A"], { initiativeUsd: 5 }, new Map(), spend({ A: [1, 0] })), "A")).toBe(4);
  });
});

describe("pause decisions", () => {
  const under = streamBudget("A", { streamUsd: 5 }, undefined, { costUsd: 1, tokens: 0 });
  const over = streamBudget("A", { streamUsd: 5 }, undefined, { costUsd: 5.2, tokens: 0 });
  const free = budgetView([], {}, new Map(), new Map()).initiative;
  const spent = budgetView(["A"], { initiativeUsd: 1 }, new Map(), spend({ A: [1, 0] })).initiative;

  test("reached, or stopped at Claude Code's cap → paused for the stream; a stream pause stays until raised", () => {
    expect(pauseDecision(over, free, false)).toEqual({ pause: PAUSE_STREAM });
    expect(pauseDecision(under, free, true)).toEqual({ pause: PAUSE_STREAM });
    expect(pauseDecision(under, free, false)).toBeNull();
    expect(pauseDecision({ ...under, pausedReason: PAUSE_STREAM }, free, false)).toBeNull();
  });

  test("the initiative reached pauses every stream; room again resumes those it paused", () => {
    expect(pauseDecision(under, spent, false)).toEqual({ pause: PAUSE_INITIATIVE });
    expect(pauseDecision({ ...under, pausedReason: PAUSE_INITIATIVE }, spent, false)).toBeNull();
    expect(pauseDecision({ ...under, pausedReason: PAUSE_INITIATIVE }, free, false)).toEqual({ resume: true });
  });

  test("the inbox question names what was reached and the command that raises it", () => {
    expect(budgetQuestion("Stream-B", streamBudget("Stream-B", { streamUsd: 5 }, undefined, { costUsd: 5, tokens: 0 }))).toBe(
      "Stream-B reached its budget ($5.00 of $5.00): raise it? orch budget raise Stream-B USD",
    );
    expect(budgetQuestion("Stream-B", streamBudget("Stream-B", { streamTokens: 2_000_000 }, undefined, { costUsd: 1, tokens: 2_000_113 }))).toBe(
      "Stream-B reached its token budget (2,000,113 of 2,000,000 tokens): raise it? orch budget raise Stream-B USD --tokens N",
    );
  });
});

describe("budgets in the database", () => {
  async function store() {
    const s = await tempStore();
    for (const id of ["Stream-A", "Stream-B"]) await createTask(s, { title: "t", metadata: { streamId: id } });
    return s;
  }

  test("spend = headless sessions + interactive sessions not already counted there (matched on session_id)", async () => {
    const s = await store();
    const launch = await openAgentSession(s, { streamId: "Stream-A", initiativeId: null, launch: 1 });
    const figures = { outcome: "success", turns: 3, inputTokens: 100, outputTokens: 50, cacheReadTokens: 9999, cacheCreationTokens: 10 };
    await setSessionFigures(s, launch, { ...figures, sessionId: "sess-headless", costUsd: 1.25 });
    const ctx = (sessionId: string, streamId: string) => ({ sessionId, streamId, cwd: null, transcriptPath: null, pid: null, launcher: null });
    // The headless session reported by its hooks too: counted once.
    await recordAgentChange(s, ctx("sess-headless", "Stream-A"), null);
    await recordAgentUsage(s, "sess-headless", { inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheCreationTokens: 10, costUsd: 1.25 });
    await recordAgentChange(s, ctx("sess-tmux", "Stream-A"), null);
    await recordAgentUsage(s, "sess-tmux", { inputTokens: 1000, outputTokens: 10, cacheReadTokens: 5, cacheCreationTokens: 0, costUsd: 0.5 });
    await recordAgentChange(s, ctx("sess-b", "Stream-B"), null);
    await recordAgentUsage(s, "sess-b", { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0, costUsd: null });
    expect(Object.fromEntries(await spendByStream(s))).toEqual({ "Stream-A": { costUsd: 1.75, tokens: 160 + 1010 }, "Stream-B": { costUsd: 0, tokens: 2 } });
  });

  test("a raise adds to the stream, clears its pause and answers its budget question; asking twice asks once", async () => {
    const s = await store();
    const ids = ["Stream-A", "Stream-B"];
    const limits = { streamUsd: 1 };
    await setPaused(s, "Stream-B", PAUSE_STREAM);
    const q = await askForRaise(s, "Stream-B", "Stream-B reached its budget");
    expect((await askForRaise(s, "Stream-B", "again")).id).toBe(q.id);
    expect((await loadBudgetView(s, ids, limits)).streams[1]).toMatchObject({ pausedReason: PAUSE_STREAM, limitUsd: 1 });
    const after = await raiseBudget(s, { streamId: "Stream-B", usd: 2.5, tokens: 0, by: "ada" }, ids, limits);
    expect(after.streams[1]).toMatchObject({ pausedReason: null, raisedUsd: 2.5, limitUsd: 3.5 });
    expect(await getQuestion(s, q.id)).toMatchObject({ kind: "budget", status: "allowed", answeredBy: "ada", answeredHow: "person", reason: "raised by $2.50" });
    expect(await pendingBudgetQuestions(s, "Stream-B")).toEqual([]);
    await raiseBudget(s, { streamId: "Stream-B", usd: 0, tokens: 500, by: "ada" }, ids, { ...limits, streamTokens: 10 });
    expect((await loadBudgetView(s, ids, { streamTokens: 10 })).streams[1]).toMatchObject({ raisedUsd: 2.5, raisedTokens: 500, limitTokens: 510 });
    expect((await rejects(() => raiseBudget(s, { streamId: "Stream-X", usd: 1, tokens: 0, by: "ada" }, ids, limits))).message).toBe("Stream not found: Stream-X");
  });

  test("a raise that gives the initiative room again resumes the streams it paused and answers its question", async () => {
    const s = await store();
    const ids = ["Stream-A", "Stream-B"];
    const limits = { initiativeUsd: 1 };
    const launch = await openAgentSession(s, { streamId: "Stream-A", initiativeId: null, launch: 1 });
    await setSessionFigures(s, launch, { sessionId: "x", outcome: "success", turns: 1, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, costUsd: 1 });
    for (const id of ids) await setPaused(s, id, PAUSE_INITIATIVE);
    const q = await askForRaise(s, null, "The initiative reached its budget");
    await raiseBudget(s, { streamId: "Stream-A", usd: 1, tokens: 0, by: "ada" }, ids, limits);
    expect((await loadBudgetView(s, ids, limits)).streams.map((x) => x.pausedReason)).toEqual([null, null]);
    expect((await getQuestion(s, q.id))?.status).toBe("allowed");
  });
});
