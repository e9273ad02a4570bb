/**
 * `orch hook`: one Claude Code hook call → the session's record, and for PermissionRequest the
 * answer (a policy rule's, or a person's through the inbox). It must never break the agent: any
 * problem is a line in the hook log and an empty answer, which Claude Code reads as "carry on".
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { resolveDbPath, readEnv } from "../config.ts";
import { openStore, type Store } from "../db/client.ts";
import { isPostgresUrl, redactUrl } from "../db/pg-url.ts";
import { agentChange, readHookPayload, type HookPayload } from "../core/agent-status.ts";
import { recordAgentChange, recordAgentUsage, streamForDirectory } from "../core/agents.ts";
import { readTranscriptUsage } from "../core/transcript.ts";
import { askPermission } from "../core/inbox.ts";
import { mainTopLevelFromFs } from "../git/fs-root.ts";
import { readNeedsYouSettings } from "../orchestrate/config.ts";
import { callerPid } from "../sys/caller.ts";
import { machineId } from "../sys/machine.ts";
import { notRecorded } from "./hook-fast.ts";

import type { Env, HookResult } from "./hook-log.ts";

export function parsePayload(raw: string): HookPayload | string {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return "payload is not JSON";
  }
  const r = readHookPayload(data);
  return typeof r === "string" ? `payload rejected: ${r}` : r;
}

/**
 * The database this session's project uses (`shown`: how messages name it); null when orch was
 * never used there. The hook log stays on this machine: beside a SQLite file, or where the
 * project's default database would be when the database is a shared server.
 */
async function databaseFor(p: HookPayload, env: Env): Promise<{ path: string; shown: string; root: string | null; logFile: string } | null> {
  const cwd = p.cwd ?? process.cwd();
  const root = await mainTopLevelFromFs(cwd);
  const orchEnv = readEnv(env);
  const loc = resolveDbPath({ env: orchEnv, cwd, root: root ?? cwd });
  if (isPostgresUrl(loc.path)) {
    const local = resolveDbPath({ env: { ...orchEnv, ORCH_DB: undefined }, cwd, root: root ?? cwd });
    mkdirSync(dirname(local.path), { recursive: true });
    return { path: loc.path, shown: redactUrl(loc.path), root, logFile: join(dirname(local.path), "hooks.log") };
  }
  return existsSync(loc.path) ? { path: loc.path, shown: loc.path, root, logFile: join(dirname(loc.path), "hooks.log") } : null;
}

export async function handleHook(raw: string, env: Env = process.env): Promise<HookResult> {
  const payload = parsePayload(raw);
  if (typeof payload === "string") {
    return { stdout: "", problem: payload, logFile: await hookLogHere(env) };
  }
  const db = await databaseFor(payload, env);
  if (!db) return { stdout: "" };
  const logFile = db.logFile;
  try {
    const store = await openStore(db.path);
    try {
      return { ...(await record(store, payload, env, db.root)), logFile };
    } finally {
      await store.close();
    }
  } catch (err) {
    // A database that cannot be opened or migrated, a broken config, a lock held too long: the
    // agent goes on (for a permission request, Claude Code asks in its own way).
    return { stdout: "", problem: notRecorded(payload, db.shown, err), logFile };
  }
}

/** The hook log of the project in the working directory, if orch was used there. */
export async function hookLogHere(env: Env = process.env): Promise<string | undefined> {
  try {
    const here = await databaseFor({ session_id: "-", hook_event_name: "-", cwd: process.cwd() }, env);
    return here?.logFile;
  } catch {
    return undefined;
  }
}

async function record(store: Store, p: HookPayload, env: Env, root: string | null): Promise<HookResult> {
  const streamId = env.ORCH_STREAM_ID || (p.cwd ? await streamForDirectory(store, p.cwd) : null);
  const isStart = p.hook_event_name === "SessionStart";
  await recordAgentChange(
    store,
    {
      sessionId: p.session_id,
      streamId,
      cwd: p.cwd ?? null,
      transcriptPath: p.transcript_path ?? null,
      // Found once, at the start: the process walk costs a few reads.
      pid: isStart ? await callerPid() : null,
      host: machineId(),
      launcher: isStart ? (env.ORCH_LAUNCHER ?? (env.ORCH_STREAM_ID ? "manual" : null)) : null,
    },
    // A permission request only waits once it is a question (askPermission says so); one a
    // policy rule answers at once never leaves the session waiting.
    p.hook_event_name === "PermissionRequest" ? { status: "working" } : agentChange(p),
  );
  if (p.hook_event_name === "Stop" || p.hook_event_name === "SessionEnd") return { stdout: "", problem: await recordSpend(store, p, env) };
  if (p.hook_event_name !== "PermissionRequest" || !p.tool_name) return { stdout: "" };
  const settings = readNeedsYouSettings(root ?? p.cwd ?? process.cwd());
  const answer = await askPermission(store, {
    call: { toolName: p.tool_name, input: p.tool_input ?? {}, cwd: p.cwd, root: root ?? undefined },
    source: "hook",
    sessionId: p.session_id,
    streamId,
    toolUseId: p.tool_use_id ?? null,
    policy: settings.policy,
    timeoutMs: settings.questionTimeoutMs,
  });
  const decision = answer.behavior === "allow" ? { behavior: "allow" } : { behavior: "deny", message: answer.message };
  return { stdout: JSON.stringify({ hookSpecificOutput: { hookEventName: "PermissionRequest", decision } }) };
}

/**
 * An interactive session's spend so far, from its transcript, at the end of each turn. Headless
 * launches are left out: their result event is the figure orch counts, and a second one here
 * could be counted before the run has matched the session to its launch.
 */
async function recordSpend(store: Store, p: HookPayload, env: Env): Promise<string | undefined> {
  if (!p.transcript_path || env.ORCH_LAUNCHER === "headless") return undefined;
  try {
    const u = readTranscriptUsage(p.transcript_path);
    const { inputTokens, outputTokens, cacheReadTokens, cacheCreationTokens, costUsd } = u;
    await recordAgentUsage(store, p.session_id, { inputTokens, outputTokens, cacheReadTokens, cacheCreationTokens, costUsd });
    if (u.truncated || u.skippedLines) return `transcript of ${p.session_id} only partly counted (${u.truncated ? "larger than the cap" : `${u.skippedLines} over-long line(s)`})`;
  } catch (err) {
    return `spend of ${p.session_id} not read: ${(err as Error).message}`;
  }
  return undefined;
}
