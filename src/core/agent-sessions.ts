/**
 * Agent sessions: one row per agent `orch start` launched — the Claude Code session it became,
 * its cost and tokens, the permissions it was denied — summed per stream and initiative for
 * `/api/streams` (`usage`), `stream_get`, `orch start --status` and the monitor.
 */
import { and, eq, gt, sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { jsonArrayLength } from "../db/dialect.ts";
import { agentSessions, type AgentSessionRow } from "../db/schema.ts";
import { recordEvent } from "./events.ts";

export interface DeniedCall {
  toolName: string;
  /** The command, path or input, one line, bounded. */
  detail: string;
  /** The allow rule that would let it through (Claude Code's syntax). */
  rule: string;
}

export interface SessionFigures {
  sessionId: string | null;
  outcome: string | null;
  costUsd: number | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  turns: number | null;
}

export interface Usage {
  /** Agent launches recorded. */
  sessions: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  turns: number;
  /** Permission denials across the sessions. */
  denials: number;
  /** The most recent one, for an alert: `Bash: npm publish (allow it with Bash(npm publish:*))`. */
  lastDenial: string | null;
}

/** A stored list stays small whatever an agent does. */
const MAX_DENIALS = 50;

export const EMPTY_USAGE: Usage = Object.freeze({ sessions: 0, costUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, turns: 0, denials: 0, lastDenial: null });

export function openAgentSession(store: Store, o: { streamId: string; initiativeId: string | null; launch: number }): Promise<number> {
  return store.tx(async (db) => {
    const row = (await db.insert(agentSessions).values({ ...o, startedAt: store.now() }).returning())[0]!;
    await recordEvent(db, "agent_session", o.streamId, "create", row);
    return row.id;
  });
}

async function update(store: Store, id: number, set: (row: AgentSessionRow) => Partial<AgentSessionRow> | null): Promise<void> {
  await store.tx(async (db) => {
    const row = (await db.select().from(agentSessions).where(eq(agentSessions.id, id)))[0];
    if (!row) return;
    const values = set(row);
    if (!values) return;
    const next = (await db.update(agentSessions).set(values).where(eq(agentSessions.id, id)).returning())[0]!;
    await recordEvent(db, "agent_session", next.streamId, "update", next);
  });
}

export const setSessionId = (store: Store, id: number, sessionId: string) =>
  update(store, id, (r) => (r.sessionId === sessionId ? null : { sessionId }));

/** Past the cap a denial is still alerted by the run, just not stored. */
export const addDenial = (store: Store, id: number, d: DeniedCall) =>
  update(store, id, (r) => (r.denials.length >= MAX_DENIALS ? null : { denials: [...r.denials, d] }));

export const setSessionFigures = (store: Store, id: number, f: SessionFigures) =>
  update(store, id, (r) => ({ ...f, sessionId: f.sessionId ?? r.sessionId }));

export const closeAgentSession = (store: Store, id: number, exitCode: number | null) =>
  update(store, id, (r) => (r.endedAt ? null : { endedAt: store.now(), exitCode }));

export async function listAgentSessions(store: Store, streamId: string): Promise<AgentSessionRow[]> {
  return await store.db.select().from(agentSessions).where(eq(agentSessions.streamId, streamId)).orderBy(agentSessions.id);
}

/** Usage per stream id, summed in SQL (one indexed pass, bounded by the number of streams). */
export async function usageByStream(store: Store, streamIds?: readonly string[]): Promise<Map<string, Usage>> {
  const rows = await store.db
    .select({
      streamId: agentSessions.streamId,
      sessions: sql<number>`count(*)`.mapWith(Number),
      costUsd: sql<number>`coalesce(sum(${agentSessions.costUsd}), 0)`.mapWith(Number),
      inputTokens: sql<number>`sum(${agentSessions.inputTokens})`.mapWith(Number),
      outputTokens: sql<number>`sum(${agentSessions.outputTokens})`.mapWith(Number),
      cacheReadTokens: sql<number>`sum(${agentSessions.cacheReadTokens})`.mapWith(Number),
      cacheCreationTokens: sql<number>`sum(${agentSessions.cacheCreationTokens})`.mapWith(Number),
      turns: sql<number>`coalesce(sum(${agentSessions.turns}), 0)`.mapWith(Number),
      denials: sql<number>`sum(${jsonArrayLength(agentSessions.denials)})`.mapWith(Number),
    })
    .from(agentSessions)
    .where(streamIds?.length === 1 ? eq(agentSessions.streamId, streamIds[0]!) : undefined)
    .groupBy(agentSessions.streamId);
  const wanted = streamIds ? new Set(streamIds) : null;
  const last = await lastDenials(store, streamIds);
  const out = new Map<string, Usage>();
  for (const { streamId, ...u } of rows)
    if (!wanted || wanted.has(streamId)) out.set(streamId, { ...u, costUsd: roundUsd(u.costUsd), lastDenial: last.get(streamId) ?? null });
  return out;
}

/** Each stream's latest denial as one line (sessions with denials only: few rows). */
async function lastDenials(store: Store, streamIds?: readonly string[]): Promise<Map<string, string>> {
  const rows = await store.db
    .select({ streamId: agentSessions.streamId, denials: agentSessions.denials })
    .from(agentSessions)
    .where(
      and(
        gt(jsonArrayLength(agentSessions.denials), 0),
        streamIds?.length === 1 ? eq(agentSessions.streamId, streamIds[0]!) : undefined,
      ),
    )
    .orderBy(agentSessions.id);
  const out = new Map<string, string>();
  for (const r of rows) {
    const d = r.denials.at(-1);
    if (d) out.set(r.streamId, `${d.detail} (allow it with ${d.rule})`);
  }
  return out;
}

const FIGURES = ["sessions", "costUsd", "inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens", "turns", "denials"] as const;

export function sumUsage(list: Iterable<Usage>): Usage {
  const total: Usage = { ...EMPTY_USAGE };
  for (const u of list) {
    for (const k of FIGURES) total[k] += u[k];
    total.lastDenial = u.lastDenial ?? total.lastDenial;
  }
  total.costUsd = roundUsd(total.costUsd);
  return total;
}

const roundUsd = (v: number) => Math.round(v * 1e6) / 1e6;

/** Streams as the API, the CLI's JSON and MCP show them: each with its agents' `usage`. */
export async function withUsage<T extends { streamId: string }>(store: Store, list: T[]): Promise<(T & { usage: Usage })[]> {
  const usage = await usageByStream(store, list.length === 1 ? [list[0]!.streamId] : undefined);
  return list.map((s) => ({ ...s, usage: usage.get(s.streamId) ?? { ...EMPTY_USAGE } }));
}

/** `Cost: $0.2784 (4 agent sessions, 9,600 input / 640 output tokens, 32,000 cache reads; 0 denials)` */
export function costLine(u: Usage): string {
  const n = (v: number) => v.toLocaleString("en-US");
  return `Cost: $${u.costUsd.toFixed(4)} (${u.sessions} agent session${u.sessions === 1 ? "" : "s"}, ${n(u.inputTokens)} input / ${n(u.outputTokens)} output tokens, ${n(u.cacheReadTokens)} cache reads; ${u.denials} denial${u.denials === 1 ? "" : "s"})`;
}
