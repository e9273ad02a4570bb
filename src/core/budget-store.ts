/**
 * Budgets in the database: each stream's spend (headless launches' agent sessions, plus
 * interactive sessions' hook-reported usage not already counted there), its raises and pause
 * (stream_budgets), and the "raise the budget?" inbox entries. Decisions are budget.ts's.
 */
import { and, eq, isNotNull, isNull, notInArray, sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { agentSessions, agents, inbox, streamBudgets, type InboxRow, type StreamBudgetRow } from "../db/schema.ts";
import { notFound, usageError } from "../errors.ts";
import { budgetTokens, budgetView, type BudgetLimits, type BudgetView, type Spend, type StreamBudgetState } from "./budget.ts";
import { usageByStream } from "./agent-sessions.ts";
import { recordEvent } from "./events.ts";
import { answerQuestion, openQuestion } from "./inbox.ts";
import { findStreamRow } from "./streams.ts";

/** A budget question waits for a person as long as it takes: it is answered by a raise. */
const BUDGET_QUESTION_TTL_MS = 365 * 24 * 3600_000;

/** Spend per stream: headless sessions plus interactive ones the headless rows do not hold. */
export async function spendByStream(store: Store): Promise<Map<string, Spend>> {
  const out = new Map<string, Spend>();
  const add = (id: string, s: Spend) => {
    const prior = out.get(id) ?? { costUsd: 0, tokens: 0 };
    out.set(id, { costUsd: prior.costUsd + s.costUsd, tokens: prior.tokens + s.tokens });
  };
  for (const [id, u] of await usageByStream(store)) add(id, { costUsd: u.costUsd, tokens: budgetTokens(u) });
  const interactive = await store.db
    .select({
      streamId: agents.streamId,
      costUsd: sql<number>`coalesce(sum(${agents.costUsd}), 0)`.mapWith(Number),
      inputTokens: sql<number>`coalesce(sum(${agents.inputTokens}), 0)`.mapWith(Number),
      outputTokens: sql<number>`coalesce(sum(${agents.outputTokens}), 0)`.mapWith(Number),
      cacheCreationTokens: sql<number>`coalesce(sum(${agents.cacheCreationTokens}), 0)`.mapWith(Number),
    })
    .from(agents)
    .where(
      and(
        isNotNull(agents.streamId),
        notInArray(agents.sessionId, store.db.select({ id: agentSessions.sessionId }).from(agentSessions).where(isNotNull(agentSessions.sessionId))),
      ),
    )
    .groupBy(agents.streamId);
  for (const r of interactive) add(r.streamId!, { costUsd: r.costUsd, tokens: budgetTokens(r) });
  return out;
}

export async function budgetStates(store: Store): Promise<Map<string, StreamBudgetState>> {
  const rows = await store.db.select().from(streamBudgets);
  return new Map(rows.map((r) => [r.streamId, { raisedUsd: r.raisedUsd, raisedTokens: r.raisedTokens, pausedReason: r.pausedReason }]));
}

/** The budget of these streams and of the initiative they make up, as stored now. */
export async function loadBudgetView(store: Store, streamIds: readonly string[], limits: BudgetLimits): Promise<BudgetView> {
  const wanted = new Set(streamIds);
  const only = <V>(m: Map<string, V>) => new Map([...m].filter(([id]) => wanted.has(id)));
  return budgetView(streamIds, limits, only(await budgetStates(store)), only(await spendByStream(store)));
}

function upsert(store: Store, streamId: string, change: (prior: StreamBudgetRow | undefined) => Omit<StreamBudgetRow, "streamId" | "updatedAt">): Promise<StreamBudgetRow> {
  return store.tx(async (db) => {
    const prior = (await db.select().from(streamBudgets).where(eq(streamBudgets.streamId, streamId)))[0];
    const next: StreamBudgetRow = { streamId, ...change(prior), updatedAt: store.now() };
    await db.insert(streamBudgets).values(next).onConflictDoUpdate({ target: streamBudgets.streamId, set: next });
    await recordEvent(db, "budget", streamId, prior ? "update" : "create", next);
    return next;
  });
}

/** Mark a stream paused (the reason says what clears it); the stored raises stay. */
export function setPaused(store: Store, streamId: string, reason: string | null): Promise<StreamBudgetRow> {
  return upsert(store, streamId, (p) => ({
    raisedUsd: p?.raisedUsd ?? 0,
    raisedTokens: p?.raisedTokens ?? 0,
    pausedReason: reason,
    pausedAt: reason ? store.now() : null,
  }));
}

/** The pending "raise the budget?" entry of a stream (null: the initiative's), if any. */
export async function pendingBudgetQuestions(store: Store, streamId: string | null): Promise<InboxRow[]> {
  return await store.db
    .select()
    .from(inbox)
    .where(and(eq(inbox.kind, "budget"), eq(inbox.status, "pending"), streamId === null ? isNull(inbox.streamId) : eq(inbox.streamId, streamId)));
}

/** Ask a person to raise the budget, once: an entry already waiting is not asked again. */
export async function askForRaise(store: Store, streamId: string | null, question: string): Promise<InboxRow> {
  return (
    (await pendingBudgetQuestions(store, streamId))[0] ??
    await openQuestion(store, { kind: "budget", source: "budget", sessionId: null, streamId, agent: "orch", question, timeoutMs: BUDGET_QUESTION_TTL_MS })
  );
}

export interface Raise {
  streamId: string;
  usd: number;
  tokens: number;
  /** Who raised it (recorded on the inbox entries it answers). */
  by: string;
}

/**
 * Add to a stream's budget and clear its pause; answer its pending budget question. When the
 * initiative has room again (judged with `limits`), streams paused for the initiative resume and
 * the initiative's question is answered too. Returns the stream's budget as it now stands.
 */
export async function raiseBudget(store: Store, r: Raise, streamIds: readonly string[], limits: BudgetLimits): Promise<BudgetView> {
  if (!(r.usd >= 0 && r.tokens >= 0 && r.usd + r.tokens > 0)) throw usageError("a raise must add dollars or tokens");
  if (!(await findStreamRow(store.db, r.streamId, true))) throw notFound(`Stream not found: ${r.streamId}`);
  await upsert(store, r.streamId, (p) => ({
    raisedUsd: Math.round(((p?.raisedUsd ?? 0) + r.usd) * 1e6) / 1e6,
    raisedTokens: (p?.raisedTokens ?? 0) + r.tokens,
    pausedReason: null,
    pausedAt: null,
  }));
  const reason = `raised by ${[r.usd ? `$${r.usd.toFixed(2)}` : "", r.tokens ? `${r.tokens} tokens` : ""].filter(Boolean).join(" and ")}`;
  for (const q of await pendingBudgetQuestions(store, r.streamId)) await answerQuestion(store, q.id, { decision: "allow", by: r.by, how: "person", reason, raise: true });
  const ids = streamIds.includes(r.streamId) ? streamIds : [...streamIds, r.streamId];
  const view = await loadBudgetView(store, ids, limits);
  if (!view.initiative.reached) {
    for (const s of view.streams) if (s.pausedReason === "initiative-budget") await setPaused(store, s.streamId, null);
    for (const q of await pendingBudgetQuestions(store, null)) await answerQuestion(store, q.id, { decision: "allow", by: r.by, how: "person", reason: `${r.streamId} ${reason}`, raise: true });
  }
  return loadBudgetView(store, ids, limits);
}
