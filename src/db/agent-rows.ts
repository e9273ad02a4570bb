/**
 * The agents table and its change events in plain SQL over bun:sqlite: a Claude Code hook writes
 * here on every tool call and cannot afford loading the query builder (see agents/hook-fast.ts,
 * the SQLite-only fast path). The core records the same rows through the store (core/agents.ts),
 * from the same pure step (core/agent-status.ts nextAgentRow). Callers hold the write transaction.
 */
import type { Database } from "bun:sqlite";
import type { AgentRow } from "./schema.ts";
import { compactAfterInsert } from "./event-log.ts";
import { machineId } from "../sys/machine.ts";

const COLUMNS: readonly [keyof AgentRow, string][] = [
  ["sessionId", "session_id"],
  ["streamId", "stream_id"],
  ["pid", "pid"],
  ["host", "host"],
  ["launcher", "launcher"],
  ["status", "status"],
  ["tool", "tool"],
  ["lastMessage", "last_message"],
  ["pendingQuestion", "pending_question"],
  ["cwd", "cwd"],
  ["transcriptPath", "transcript_path"],
  ["inputTokens", "input_tokens"],
  ["outputTokens", "output_tokens"],
  ["cacheReadTokens", "cache_read_tokens"],
  ["cacheCreationTokens", "cache_creation_tokens"],
  ["costUsd", "cost_usd"],
  ["startedAt", "started_at"],
  ["updatedAt", "updated_at"],
  ["endedAt", "ended_at"],
];

const SELECT = `SELECT ${COLUMNS.map(([k, c]) => `${c} AS "${k}"`).join(", ")} FROM agents WHERE session_id = ?`;
const UPSERT = `INSERT INTO agents (${COLUMNS.map(([, c]) => c).join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})
  ON CONFLICT(session_id) DO UPDATE SET ${COLUMNS.slice(1).map(([, c]) => `${c} = excluded.${c}`).join(", ")}`;

export function readAgentRow(sqlite: Database, sessionId: string): AgentRow | null {
  return (sqlite.query(SELECT).get(sessionId) as AgentRow | null) ?? null;
}

/** Store the row and, when `event` is given, the `agent` change event SSE carries. */
export function writeAgentRow(sqlite: Database, row: AgentRow, event: { op: "create" | "update"; payload: unknown } | null): void {
  sqlite.query(UPSERT).run(...(COLUMNS.map(([k]) => row[k]) as (string | number | null)[]));
  if (!event) return;
  const r = sqlite.query("INSERT INTO events (kind, entity_id, op, payload) VALUES ('agent', ?, ?, ?)").run(row.sessionId, event.op, JSON.stringify(event.payload));
  compactAfterInsert(sqlite, Number(r.lastInsertRowid));
}

/** The live stream whose worktree holds `cwd`, the deepest first; null for the main checkout. */
export function streamIdForDirectory(sqlite: Database, cwd: string): string | null {
  const rows = sqlite
    .query("SELECT id, worktree_path AS path FROM streams WHERE archived = 0 AND worktree_path IS NOT NULL AND (worktree_host IS NULL OR worktree_host = ?)")
    .all(machineId()) as { id: string; path: string }[];
  return deepestWorktree(rows, cwd);
}

/** Of the streams' worktrees, the deepest that holds `cwd` (the core's lookup uses it too). */
export function deepestWorktree(rows: readonly { id: string; path: string | null }[], cwd: string): string | null {
  const hit = rows
    .filter((r): r is { id: string; path: string } => r.path !== null && (cwd === r.path || cwd.startsWith(`${r.path}/`)))
    .sort((a, b) => b.path.length - a.path.length)[0];
  return hit?.id ?? null;
}
