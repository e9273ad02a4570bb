/**
 * Agent sessions as Claude Code's hooks report them: one row per `session_id`, upserted by each
 * hook call, with an `agent` change event for SSE. Hooks are one signal among several: reading
 * marks a session whose pid is gone `exited`, and one that stopped reporting `stale`.
 */
import { and, desc, eq, isNotNull, ne } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { agents, type AgentRow, type AgentStatus } from "../db/schema.ts";
import { pidAlive } from "../sys/process.ts";
import { agentEvent, nextAgentRow, type AgentChange, type HookContext } from "./agent-status.ts";
import { readAgentRow, streamIdForDirectory, writeAgentRow } from "../db/agent-rows.ts";

export { agentEvent, type HookContext };
import { recordEvent } from "./events.ts";

export interface AgentView extends AgentRow {
  /** No hook for longer than the stale time while the session was neither ended nor waiting. */
  stale: boolean;
}

/** The stream whose worktree holds `cwd`, or null (the main checkout, or not orch's). */
export function streamForDirectory(store: Store, cwd: string): string | null {
  return streamIdForDirectory(store.sqlite, cwd);
}

/** Apply one hook's change; returns the row as stored. */
export function recordAgentChange(store: Store, ctx: HookContext, change: AgentChange | null): AgentRow {
  return store.tx(() => {
    const prior = readAgentRow(store.sqlite, ctx.sessionId);
    const { row, moved } = nextAgentRow(prior, ctx, change, store.now());
    writeAgentRow(store.sqlite, row, moved ? { op: prior ? "update" : "create", payload: agentEvent(row) } : null);
    return row;
  });
}

/** Set a session's status (an inbox question answered, a pid found gone). */
export function setAgentStatus(store: Store, sessionId: string, status: AgentStatus, patch: Partial<Pick<AgentRow, "tool" | "pendingQuestion">> = {}): void {
  store.tx((db) => {
    const prior = db.select().from(agents).where(eq(agents.sessionId, sessionId)).get();
    if (!prior || prior.status === "exited") return;
    const next = { ...prior, ...patch, status, updatedAt: store.now(), endedAt: status === "exited" ? store.now() : prior.endedAt };
    db.update(agents).set(next).where(eq(agents.sessionId, sessionId)).run();
    recordEvent(db, "agent", sessionId, "update", agentEvent(next));
  });
}

/** Tokens and the cost estimate Claude Code reported for a session (its transcript or result). */
export function recordAgentUsage(store: Store, sessionId: string, usage: Pick<AgentRow, "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheCreationTokens" | "costUsd">): void {
  store.tx((db) => {
    db.update(agents).set(usage).where(eq(agents.sessionId, sessionId)).run();
  });
}

/** The session a stream's agent is running, newest first (for questions that carry no session id). */
export function liveAgentForStream(store: Store, streamId: string): AgentRow | null {
  return store.db.select().from(agents).where(and(eq(agents.streamId, streamId), ne(agents.status, "exited"))).orderBy(desc(agents.updatedAt)).limit(1).get() ?? null;
}

export const DEFAULT_STALE_MS = 10 * 60_000;
const QUIET: readonly AgentStatus[] = ["exited", "waiting_permission", "waiting_input", "idle", "error"];

/**
 * Sessions, newest first: live ones (and with `all`, ended ones too), bounded. A session whose
 * pid is gone is marked exited here, so every face agrees.
 */
export function listAgents(store: Store, opts: { all?: boolean; streamId?: string; limit?: number; staleMs?: number } = {}): AgentView[] {
  const where = and(
    opts.all ? undefined : ne(agents.status, "exited"),
    opts.streamId ? eq(agents.streamId, opts.streamId) : undefined,
  );
  const rows = store.db.select().from(agents).where(where).orderBy(desc(agents.updatedAt)).limit(Math.min(opts.limit ?? 200, 1000)).all();
  const gone = rows.filter((r) => r.status !== "exited" && r.pid !== null && !pidAlive(r.pid));
  for (const r of gone) setAgentStatus(store, r.sessionId, "exited", { tool: null, pendingQuestion: null });
  const goneIds = new Set(gone.map((r) => r.sessionId));
  const staleBefore = Date.now() - (opts.staleMs ?? DEFAULT_STALE_MS);
  return rows
    .map((r): AgentRow => (goneIds.has(r.sessionId) ? { ...r, status: "exited", tool: null, pendingQuestion: null } : r))
    .filter((r) => opts.all || r.status !== "exited")
    .map((r) => ({ ...r, stale: !QUIET.includes(r.status) && Date.parse(r.updatedAt) < staleBefore }));
}

/** Latest live session per stream, for the monitor's line under each stream. */
export function agentsByStream(store: Store, streamIds: readonly string[]): Map<string, AgentView> {
  const out = new Map<string, AgentView>();
  if (!streamIds.length) return out;
  for (const a of listAgents(store, { limit: 1000 })) {
    if (a.streamId && streamIds.includes(a.streamId) && !out.has(a.streamId)) out.set(a.streamId, a);
  }
  return out;
}

export function getAgent(store: Store, sessionId: string): AgentRow | null {
  return store.db.select().from(agents).where(eq(agents.sessionId, sessionId)).get() ?? null;
}

/**
 * The transcript path the stream's most recent session reported in its hooks (or null). Agent-written:
 * check it before reading it (orchestrate/stream-log.ts).
 */
export function latestTranscriptPath(store: Store, streamId: string): string | null {
  const row = store.db
    .select({ path: agents.transcriptPath })
    .from(agents)
    .where(and(eq(agents.streamId, streamId), isNotNull(agents.transcriptPath)))
    .orderBy(desc(agents.updatedAt))
    .limit(1)
    .get();
  return row?.path ?? null;
}
