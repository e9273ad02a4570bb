/**
 * Agent sessions as Claude Code's hooks report them: one row per `session_id`, upserted by each
 * hook call, with an `agent` change event for SSE. Hooks are one signal among several: reading
 * marks a session whose pid is gone `exited`, and one that stopped reporting `stale`.
 */
import { and, desc, eq, ne, sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { agents, streams, type AgentRow, type AgentStatus } from "../db/schema.ts";
import { pidAlive } from "../sys/process.ts";
import type { AgentChange } from "./agent-status.ts";
import { recordEvent } from "./events.ts";

export interface HookContext {
  sessionId: string;
  /** From ORCH_STREAM_ID, else found from the working directory. */
  streamId: string | null;
  cwd: string | null;
  transcriptPath: string | null;
  pid: number | null;
  launcher: string | null;
}

export interface AgentView extends AgentRow {
  /** No hook for longer than the stale time while the session was neither ended nor waiting. */
  stale: boolean;
}

/** The stream whose worktree holds `cwd`, or null (the main checkout, or not orch's). */
export function streamForDirectory(store: Store, cwd: string): string | null {
  const rows = store.db.select({ id: streams.id, path: streams.worktreePath }).from(streams).where(and(eq(streams.archived, false), sql`${streams.worktreePath} IS NOT NULL`)).all();
  const hit = rows.filter((r) => r.path && (cwd === r.path || cwd.startsWith(`${r.path}/`))).sort((a, b) => b.path!.length - a.path!.length)[0];
  return hit?.id ?? null;
}

/** Apply one hook's change; returns the row as stored. */
export function recordAgentChange(store: Store, ctx: HookContext, change: AgentChange | null): AgentRow {
  return store.tx((db) => {
    const now = store.now();
    const prior = db.select().from(agents).where(eq(agents.sessionId, ctx.sessionId)).get();
    const next: AgentRow = {
      sessionId: ctx.sessionId,
      streamId: ctx.streamId ?? prior?.streamId ?? null,
      pid: ctx.pid ?? prior?.pid ?? null,
      launcher: ctx.launcher ?? prior?.launcher ?? null,
      // A session already ended stays ended: a late hook from it must not revive it.
      status: prior?.status === "exited" && !change?.ended ? "exited" : (change?.status ?? prior?.status ?? "starting"),
      tool: change?.tool !== undefined ? change.tool : (prior?.tool ?? null),
      lastMessage: change?.lastMessage !== undefined ? change.lastMessage : (prior?.lastMessage ?? null),
      pendingQuestion: change?.pendingQuestion !== undefined ? change.pendingQuestion : (prior?.pendingQuestion ?? null),
      cwd: ctx.cwd ?? prior?.cwd ?? null,
      transcriptPath: ctx.transcriptPath ?? prior?.transcriptPath ?? null,
      inputTokens: prior?.inputTokens ?? 0,
      outputTokens: prior?.outputTokens ?? 0,
      cacheReadTokens: prior?.cacheReadTokens ?? 0,
      cacheCreationTokens: prior?.cacheCreationTokens ?? 0,
      costUsd: prior?.costUsd ?? null,
      startedAt: prior?.startedAt ?? now,
      updatedAt: now,
      endedAt: change?.ended ? now : (prior?.endedAt ?? null),
    };
    db.insert(agents).values(next).onConflictDoUpdate({ target: agents.sessionId, set: next }).run();
    const moved = !prior || prior.status !== next.status || prior.tool !== next.tool || prior.pendingQuestion !== next.pendingQuestion;
    if (moved) recordEvent(db, "agent", ctx.sessionId, prior ? "update" : "create", agentEvent(next));
    return next;
  });
}

/** What SSE carries for an agent: the row without the transcript path. */
export function agentEvent(row: AgentRow) {
  const { transcriptPath: _t, ...rest } = row;
  return rest;
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
