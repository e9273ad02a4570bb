/**
 * Agent sessions as Claude Code's hooks report them: one row per `session_id`, upserted by each
 * hook call, with an `agent` change event for SSE. Hooks are one signal among several: reading
 * marks a session whose pid is gone `exited`, and one that stopped reporting `stale`.
 */
import { and, desc, eq, isNotNull, isNull, ne, or } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { agents, inbox, streams, type AgentRow, type AgentStatus } from "../db/schema.ts";
import { isThisMachine, machineId } from "../sys/machine.ts";
import { pidAlive } from "../sys/process.ts";
import { agentEvent, nextAgentRow, type AgentChange, type HookContext } from "./agent-status.ts";
import { deepestWorktree } from "../db/agent-rows.ts";

export { agentEvent, type HookContext };
import { recordEvent } from "./events.ts";

export interface AgentView extends AgentRow {
  /** No hook for longer than the stale time while the session was neither ended nor waiting. */
  stale: boolean;
}

/** The stream whose worktree holds `cwd`, or null (the main checkout, or not orch's). */
export async function streamForDirectory(store: Store, cwd: string): Promise<string | null> {
  const rows = await store.db
    .select({ id: streams.id, path: streams.worktreePath })
    .from(streams)
    .where(and(eq(streams.archived, false), isNotNull(streams.worktreePath), or(isNull(streams.worktreeHost), eq(streams.worktreeHost, machineId()))));
  return deepestWorktree(rows, cwd);
}

/**
 * Apply one hook's change; returns the row as stored. `streamOf` names the session's stream when
 * the context has none and the session had none before (looked up once, at its first hook).
 */
export function recordAgentChange(store: Store, ctx: HookContext, change: AgentChange | null, streamOf?: () => Promise<string | null>): Promise<AgentRow> {
  return store.tx(async (db) => {
    const prior = (await db.select().from(agents).where(eq(agents.sessionId, ctx.sessionId)))[0] ?? null;
    const streamId = ctx.streamId ?? prior?.streamId ?? (streamOf ? await streamOf() : null);
    const next = nextAgentRow(prior, { ...ctx, streamId }, change, store.now());
    const { row, moved } = await stillAsking(db, prior, next, change);
    const { sessionId: _key, ...rest } = row;
    await db.insert(agents).values(row).onConflictDoUpdate({ target: agents.sessionId, set: rest });
    if (moved) await recordEvent(db, "agent", row.sessionId, prior ? "update" : "create", agentEvent(row));
    return row;
  });
}

/**
 * A hook event that reaches orch after the session's permission question was asked — its
 * PreToolUse for the very call being asked about, or its first event creating the row — must
 * not make the session look at work while the question waits (hooks are relayed, and can land
 * late). Anything else (the answer, the tool's result, its end) moves it on as usual.
 */
async function stillAsking(db: Db, prior: AgentRow | null, next: { row: AgentRow; moved: boolean }, change: AgentChange | null): Promise<{ row: AgentRow; moved: boolean }> {
  if (next.row.status !== "working" && next.row.status !== "starting") return next;
  const asking = (
    await db
      .select({ question: inbox.question })
      .from(inbox)
      .where(and(eq(inbox.sessionId, next.row.sessionId), eq(inbox.status, "pending"), eq(inbox.kind, "permission")))
      .limit(1)
  )[0];
  if (!asking || !(prior === null || (change?.tool != null && change.tool === asking.question))) return next;
  const row: AgentRow = { ...next.row, status: "waiting_permission", tool: asking.question, pendingQuestion: `permission: ${asking.question}` };
  const moved = !prior || prior.status !== row.status || prior.tool !== row.tool || prior.pendingQuestion !== row.pendingQuestion;
  return { row, moved };
}

/** Set a session's status (an inbox question answered, a pid found gone). */
export async function setAgentStatus(store: Store, sessionId: string, status: AgentStatus, patch: Partial<Pick<AgentRow, "tool" | "pendingQuestion">> = {}): Promise<void> {
  await store.tx(async (db) => {
    const prior = (await db.select().from(agents).where(eq(agents.sessionId, sessionId)))[0];
    if (!prior || prior.status === "exited") return;
    const next = { ...prior, ...patch, status, updatedAt: store.now(), endedAt: status === "exited" ? store.now() : prior.endedAt };
    await db.update(agents).set(next).where(eq(agents.sessionId, sessionId));
    await recordEvent(db, "agent", sessionId, "update", agentEvent(next));
  });
}

/** Tokens and the cost estimate Claude Code reported for a session (its transcript or result). */
export async function recordAgentUsage(store: Store, sessionId: string, usage: Pick<AgentRow, "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheCreationTokens" | "costUsd">): Promise<void> {
  await store.tx(async (db) => {
    await db.update(agents).set(usage).where(eq(agents.sessionId, sessionId));
  });
}

/** The session a stream's agent is running, newest first (for questions that carry no session id). */
export async function liveAgentForStream(store: Store, streamId: string): Promise<AgentRow | null> {
  return (await store.db.select().from(agents).where(and(eq(agents.streamId, streamId), ne(agents.status, "exited"))).orderBy(desc(agents.updatedAt)).limit(1))[0] ?? null;
}

export const DEFAULT_STALE_MS = 10 * 60_000;
const QUIET: readonly AgentStatus[] = ["exited", "waiting_permission", "waiting_input", "idle", "error"];

/**
 * Sessions, newest first: live ones (and with `all`, ended ones too), bounded. A session whose
 * pid is gone is marked exited here, so every face agrees.
 */
export async function listAgents(store: Store, opts: { all?: boolean; streamId?: string; limit?: number; staleMs?: number } = {}): Promise<AgentView[]> {
  const where = and(
    opts.all ? undefined : ne(agents.status, "exited"),
    opts.streamId ? eq(agents.streamId, opts.streamId) : undefined,
  );
  const rows = await store.db.select().from(agents).where(where).orderBy(desc(agents.updatedAt)).limit(Math.min(opts.limit ?? 200, 1000));
  // Only this machine's pids can be asked about; another machine's sessions end by their own hooks.
  const gone = rows.filter((r) => r.status !== "exited" && r.pid !== null && isThisMachine(r.host) && !pidAlive(r.pid));
  for (const r of gone) await setAgentStatus(store, r.sessionId, "exited", { tool: null, pendingQuestion: null });
  const goneIds = new Set(gone.map((r) => r.sessionId));
  const staleBefore = Date.now() - (opts.staleMs ?? DEFAULT_STALE_MS);
  return rows
    .map((r): AgentRow => (goneIds.has(r.sessionId) ? { ...r, status: "exited", tool: null, pendingQuestion: null } : r))
    .filter((r) => opts.all || r.status !== "exited")
    .map((r) => ({ ...r, stale: !QUIET.includes(r.status) && Date.parse(r.updatedAt) < staleBefore }));
}

/** Latest live session per stream, for the monitor's line under each stream. */
export async function agentsByStream(store: Store, streamIds: readonly string[]): Promise<Map<string, AgentView>> {
  const out = new Map<string, AgentView>();
  if (!streamIds.length) return out;
  for (const a of await listAgents(store, { limit: 1000 })) {
    if (a.streamId && streamIds.includes(a.streamId) && !out.has(a.streamId)) out.set(a.streamId, a);
  }
  return out;
}

export async function getAgent(store: Store, sessionId: string): Promise<AgentRow | null> {
  return (await store.db.select().from(agents).where(eq(agents.sessionId, sessionId)))[0] ?? null;
}

/**
 * The transcript path the stream's most recent session reported in its hooks (or null). Agent-written:
 * check it before reading it (orchestrate/stream-log.ts).
 */
export async function latestTranscriptPath(store: Store, streamId: string): Promise<string | null> {
  const row = (await store.db
    .select({ path: agents.transcriptPath })
    .from(agents)
    .where(and(eq(agents.streamId, streamId), isNotNull(agents.transcriptPath)))
    .orderBy(desc(agents.updatedAt))
    .limit(1))[0];
  return row?.path ?? null;
}
