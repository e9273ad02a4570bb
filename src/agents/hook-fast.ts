/**
 * The hook's common case, kept to the cost of one process start: a tool, prompt or notification
 * event from a session of a project orch knows. Plain bun:sqlite and the shared statements of
 * db/agent-rows.ts — no zod, no query builder, no git. Everything else (a permission request, the
 * end of a turn with its spend, a database to migrate, anything wrong) goes to the full handler.
 *
 * SQLite only: this is the one place outside db/ that opens the database file itself, for
 * start-up speed. A database this path cannot use as a SQLite file (ORCH_DB not a file path)
 * goes to the full handler, which records through the store like every other face.
 */
import { Database } from "bun:sqlite";
import { dirname, join } from "node:path";
import { agentChange, agentEvent, nextAgentRow, readHookPayload, type HookContext, type HookPayload } from "../core/agent-status.ts";
import { readAgentRow, streamIdForDirectory, writeAgentRow } from "../db/agent-rows.ts";
import { LATEST_SCHEMA_VERSION } from "../db/migrations/latest.ts";
import { callerPid } from "../sys/caller.ts";
import { machineId } from "../sys/machine.ts";
import type { Env, HookResult } from "./hook-log.ts";
import { databasePathFor } from "./hook-db.ts";
import { FULL_EVENTS } from "./hook-socket.ts";


/**
 * The database when its schema is this orch's; null sends the call to the full handler (which
 * migrates an older one, and says what is wrong with one it cannot open).
 */
function openCurrent(path: string): Database | null {
  const sqlite = new Database(path, { readwrite: true, create: false });
  try {
    // As every orch connection: WAL with NORMAL sync (durable at checkpoints, no fsync per commit).
    sqlite.run("PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL");
    // An empty file, or a database from before orch tracked its schema, has no migrations table.
    const tracked = sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__orch_migrations'").get();
    const row = tracked ? (sqlite.query("SELECT max(version) AS v FROM __orch_migrations").get() as { v: number | null } | null) : null;
    if (row?.v === LATEST_SCHEMA_VERSION) return sqlite;
  } catch (err) {
    sqlite.close();
    throw err;
  }
  sqlite.close();
  return null;
}

/**
 * One small write, without orch's writers' flock queue (write-lock.ts): loading bun:ffi for it
 * would cost the hook more than the write, and SQLite's busy timeout covers a short wait.
 */
export function recordHookEvent(sqlite: Database, p: HookPayload, env: Env, pid: number | null): void {
  sqlite.run("BEGIN IMMEDIATE");
  try {
    const prior = readAgentRow(sqlite, p.session_id);
    // A session's stream is known from its first hook on: look it up only until then.
    const streamId = env.ORCH_STREAM_ID || prior?.streamId || (p.cwd ? streamIdForDirectory(sqlite, p.cwd) : null);
    const { row, moved } = nextAgentRow(prior, hookContext(p, env, pid, streamId), agentChange(p), new Date().toISOString());
    writeAgentRow(sqlite, row, moved ? { op: prior ? "update" : "create", payload: agentEvent(row) } : null);
    sqlite.run("COMMIT");
  } catch (err) {
    if (sqlite.inTransaction) sqlite.run("ROLLBACK");
    throw err;
  }
}

/** What a hook says about its session besides its change (shared with the hook socket's server). */
export function hookContext(p: HookPayload, env: Env, pid: number | null, streamId: string | null): HookContext {
  const isStart = p.hook_event_name === "SessionStart";
  return {
    sessionId: p.session_id,
    streamId,
    cwd: p.cwd ?? null,
    transcriptPath: p.transcript_path ?? null,
    pid,
    host: machineId(),
    launcher: isStart ? (env.ORCH_LAUNCHER ?? (env.ORCH_STREAM_ID ? "manual" : null)) : null,
  };
}

async function isMissing(path: string): Promise<boolean> {
  try {
    await Bun.file(path).stat();
    return false;
  } catch (err) {
    return (err as { code?: unknown })?.code === "ENOENT";
  }
}

async function full(raw: string, env: Env): Promise<HookResult> {
  const { handleHook } = await import("./hook.ts");
  return handleHook(raw, env);
}

export async function handleHookFast(raw: string, env: Env = process.env): Promise<HookResult> {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return full(raw, env);
  }
  const p = readHookPayload(data);
  if (typeof p === "string" || FULL_EVENTS.has(p.hook_event_name)) return full(raw, env);
  const path = await databasePathFor(p.cwd ?? process.cwd(), env);
  if (path === null) return full(raw, env);
  // Found once, at the start: the process walk costs a few reads.
  const pid = p.hook_event_name === "SessionStart" ? await callerPid() : null;
  const logFile = join(dirname(path), "hooks.log");
  let sqlite: Database | null;
  try {
    sqlite = openCurrent(path);
    if (sqlite) {
      try {
        recordHookEvent(sqlite, p, env, pid);
      } finally {
        sqlite.close();
      }
    }
  } catch (err) {
    // No database there (the project has not used orch yet): nothing to record, nothing to say.
    if (await isMissing(path)) return { stdout: "" };
    // Locked past the busy timeout, unreadable, not a database: the event is lost, the agent goes on.
    return { stdout: "", problem: notRecorded(p, path, err), logFile };
  }
  return sqlite ? { stdout: "" } : full(raw, env);
}

/** The hook-log line for an event that could not be stored. */
export function notRecorded(p: HookPayload, path: string, err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? `${e.code}: ` : "";
  return `${p.hook_event_name} of ${p.session_id} not recorded in ${path}: ${code}${typeof e?.message === "string" ? e.message : String(err)}`;
}
