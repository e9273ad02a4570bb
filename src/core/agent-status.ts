/**
 * What a Claude Code hook says about its session, decided without I/O: the payload (validated
 * here, the boundary) → the session's new status, tool, message and question, and the row. Event names and
 * fields as Claude Code 2.1 sends them; an event orch does not know changes nothing but the clock.
 */
import type { AgentRow, AgentStatus } from "../db/schema.ts";
import { toolLabel } from "./policy.ts";

const MAX_TEXT = 2000;

export interface HookPayload {
  session_id: string;
  hook_event_name: string;
  cwd?: string;
  transcript_path?: string;
  tool_name?: string;
  tool_input?: unknown;
  tool_use_id?: string;
  message?: string;
  notification_type?: string;
  last_assistant_message?: string;
  reason?: string;
  error?: unknown;
}

const SESSION_ID = /^[A-Za-z0-9._:-]{1,200}$/;
/** Optional string fields and their length caps (texts that are clipped later have none). */
const STRINGS: readonly [keyof HookPayload, number][] = [
  ["cwd", 4096],
  ["transcript_path", 4096],
  ["tool_name", 200],
  ["tool_use_id", 200],
  ["notification_type", 100],
  ["message", Infinity],
  ["last_assistant_message", Infinity],
  ["reason", Infinity],
];

/**
 * The boundary check of a hook payload, by hand rather than with zod: a hook runs on every tool
 * call and loading zod alone would cost more than the rest of the hook. Returns the payload or
 * the one line saying what is wrong.
 */
export function readHookPayload(data: unknown): HookPayload | string {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return "payload is not a JSON object";
  const d = data as Record<string, unknown>;
  if (typeof d.session_id !== "string" || !SESSION_ID.test(d.session_id)) return "session_id: must be 1-200 letters, digits, '.', '_', ':' or '-'";
  if (typeof d.hook_event_name !== "string" || d.hook_event_name.length === 0 || d.hook_event_name.length > 100) return "hook_event_name: must be a string of 1-100 characters";
  for (const [key, max] of STRINGS) {
    const v = d[key];
    if (v !== undefined && (typeof v !== "string" || v.length > max)) return `${key}: must be a string${max < Infinity ? ` of at most ${max} characters` : ""}`;
  }
  return d as unknown as HookPayload;
}

export interface AgentChange {
  status: AgentStatus;
  /** undefined: unchanged; null: cleared. */
  tool?: string | null;
  lastMessage?: string | null;
  pendingQuestion?: string | null;
  ended?: boolean;
}

const clip = (s: string | undefined): string | undefined => (s === undefined ? undefined : s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s);

function labelOf(p: HookPayload): string | null {
  return p.tool_name ? toolLabel({ toolName: p.tool_name, input: p.tool_input, cwd: p.cwd }) : null;
}

/** The session's state after this hook event; null when the event says nothing about it. */
export function agentChange(p: HookPayload): AgentChange | null {
  switch (p.hook_event_name) {
    case "SessionStart":
      return { status: "starting", tool: null, pendingQuestion: null };
    case "UserPromptSubmit":
      return { status: "working", tool: null, pendingQuestion: null };
    case "PreToolUse":
      return { status: "working", tool: labelOf(p), pendingQuestion: null };
    case "PostToolUse":
    case "PostToolUseFailure":
      return { status: "working", tool: null, pendingQuestion: null };
    case "PermissionRequest":
      return { status: "waiting_permission", tool: labelOf(p), pendingQuestion: `permission: ${labelOf(p) ?? "a tool"}` };
    case "Notification":
      return notificationChange(p);
    case "Stop":
      return { status: "idle", tool: null, pendingQuestion: null, lastMessage: clip(p.last_assistant_message) ?? undefined };
    case "StopFailure":
      return { status: "error", tool: null, lastMessage: clip(errorText(p)) ?? undefined };
    case "SessionEnd":
      return { status: "exited", tool: null, pendingQuestion: null, ended: true };
    default:
      return null;
  }
}

function notificationChange(p: HookPayload): AgentChange | null {
  const message = clip(p.message);
  switch (p.notification_type) {
    case "permission_prompt":
      return { status: "waiting_permission", pendingQuestion: message ?? "permission" };
    case "idle_prompt":
    case "elicitation_dialog":
      return { status: "waiting_input", tool: null, pendingQuestion: message ?? "waiting for input" };
    default:
      return null;
  }
}

function errorText(p: HookPayload): string | undefined {
  if (typeof p.error === "string") return p.error;
  if (p.error && typeof p.error === "object") {
    const m = (p.error as { message?: unknown }).message;
    if (typeof m === "string") return m;
  }
  return p.reason ?? p.last_assistant_message;
}

/** A status a person must act on. */
export const WAITING: readonly AgentStatus[] = ["waiting_permission", "waiting_input"];

export interface HookContext {
  sessionId: string;
  /** From ORCH_STREAM_ID, else found from the working directory. */
  streamId: string | null;
  cwd: string | null;
  transcriptPath: string | null;
  pid: number | null;
  /** The machine the hook runs on (sys/machine.ts): the pid, cwd and transcript are that machine's. */
  host?: string | null;
  launcher: string | null;
}

/** The session's row after a hook, and whether the change is worth an event (status, tool, question). */
export function nextAgentRow(prior: AgentRow | null, ctx: HookContext, reported: AgentChange | null, now: string): { row: AgentRow; moved: boolean } {
  // A session already ended stays ended: a late hook from it must not revive it.
  const change = prior?.status === "exited" && !reported?.ended ? null : reported;
  const row: AgentRow = {
    sessionId: ctx.sessionId,
    streamId: ctx.streamId ?? prior?.streamId ?? null,
    pid: ctx.pid ?? prior?.pid ?? null,
    host: ctx.host ?? prior?.host ?? null,
    launcher: ctx.launcher ?? prior?.launcher ?? null,
    status: change?.status ?? prior?.status ?? "starting",
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
  const moved = !prior || prior.status !== row.status || prior.tool !== row.tool || prior.pendingQuestion !== row.pendingQuestion;
  return { row, moved };
}

/** What SSE carries for an agent: the row without the transcript path. */
export function agentEvent(row: AgentRow): Omit<AgentRow, "transcriptPath"> {
  const { transcriptPath: _t, ...rest } = row;
  return rest;
}
