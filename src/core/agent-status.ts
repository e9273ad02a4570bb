/**
 * What a Claude Code hook says about its session, decided without I/O: the payload (validated
 * here, the boundary) → the session's new status, tool, message and question. Event names and
 * fields as Claude Code 2.1 sends them; an event orch does not know changes nothing but the clock.
 */
import { z } from "zod";
import type { AgentStatus } from "../db/schema.ts";
import { toolLabel } from "./policy.ts";

const MAX_TEXT = 2000;

export const hookPayloadSchema = z
  .object({
    session_id: z.string().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, "must be letters, digits, '.', '_', ':' or '-'"),
    hook_event_name: z.string().min(1).max(100),
    cwd: z.string().max(4096).optional(),
    transcript_path: z.string().max(4096).optional(),
    tool_name: z.string().max(200).optional(),
    tool_input: z.unknown().optional(),
    tool_use_id: z.string().max(200).optional(),
    prompt: z.string().optional(),
    message: z.string().optional(),
    notification_type: z.string().max(100).optional(),
    last_assistant_message: z.string().optional(),
    reason: z.string().max(MAX_TEXT).optional(),
    error: z.unknown().optional(),
    source: z.string().max(100).optional(),
    permission_suggestions: z.unknown().optional(),
  })
  .loose();

export type HookPayload = z.infer<typeof hookPayloadSchema>;

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
