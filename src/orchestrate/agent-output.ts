/**
 * Reading a headless Claude Code session's event stream (`--output-format stream-json
 * --verbose`, one JSON object a line), pure: lines in, what orch cares about out — the session
 * id, each permission denial as it happens (tool and input), and the final result's cost and
 * tokens. `claude -p` exits 0 even when every tool was denied, so this is the only trace of a
 * denial. Lines that are not JSON, or events of kinds orch does not know, are passed over.
 */

export interface Denial {
  toolName: string;
  toolUseId: string;
  input: unknown;
}

export interface SessionResult {
  sessionId: string | null;
  subtype: string | null;
  isError: boolean;
  turns: number | null;
  costUsd: number | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  denials: Denial[];
}

export type AgentEvent =
  | { kind: "session"; sessionId: string }
  | { kind: "denial"; denial: Denial }
  | { kind: "result"; result: SessionResult };

import { oneLine } from "../text/neutralise.ts";

/** A line longer than this (a huge tool result) is skipped rather than buffered without bound. */
const MAX_LINE = 4 * 1024 * 1024;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

export interface AgentOutputReader {
  /** Feed a chunk of stdout; returns the events its complete lines hold. */
  push(chunk: string): AgentEvent[];
  /** The stream ended: whatever the last unterminated line holds. */
  end(): AgentEvent[];
}

export function agentOutputReader(): AgentOutputReader {
  let partial = "";
  let skipping = false;
  let sessionSeen = false;
  const inputs = new Map<string, { name: string; input: unknown }>();
  const denied = new Set<string>();

  const denial = (toolUseId: string, toolName?: string | null, input?: unknown): AgentEvent[] => {
    if (!toolUseId || denied.has(toolUseId)) return [];
    denied.add(toolUseId);
    const known = inputs.get(toolUseId);
    return [{ kind: "denial", denial: { toolName: toolName ?? known?.name ?? "?", toolUseId, input: input ?? known?.input ?? null } }];
  };

  function line(text: string): AgentEvent[] {
    let e: unknown;
    try {
      e = JSON.parse(text);
    } catch {
      return [];
    }
    if (!isObject(e)) return [];
    const out: AgentEvent[] = [];
    const sessionId = str(e.session_id);
    if (sessionId && !sessionSeen) {
      sessionSeen = true;
      out.push({ kind: "session", sessionId });
    }
    const content = isObject(e.message) && Array.isArray(e.message.content) ? e.message.content : [];
    if (e.type === "assistant")
      for (const b of content) if (isObject(b) && b.type === "tool_use" && str(b.id)) inputs.set(b.id as string, { name: str(b.name) ?? "?", input: b.input });
    // Newer clients say so at once; older ones only mark the tool result, or list it at the end.
    if (e.type === "system" && e.subtype === "permission_denied") out.push(...denial(str(e.tool_use_id) ?? "", str(e.tool_name)));
    if (e.type === "user" && Array.isArray(e.tool_result_meta))
      for (const m of e.tool_result_meta)
        if (isObject(m) && isObject(m.permission_decision) && m.permission_decision.decision === "reject") out.push(...denial(str(m.id) ?? ""));
    if (e.type === "result") out.push(...resultEvents(e, denial));
    return out;
  }

  return {
    push(chunk) {
      const out: AgentEvent[] = [];
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const p of parts) {
        if (skipping) skipping = false;
        else out.push(...line(p));
      }
      if (partial.length > MAX_LINE) {
        partial = "";
        skipping = true;
      }
      return out;
    },
    end() {
      const rest = skipping ? "" : partial;
      partial = "";
      return rest.trim() ? line(rest) : [];
    },
  };
}

function resultEvents(e: Json, denial: (id: string, name?: string | null, input?: unknown) => AgentEvent[]): AgentEvent[] {
  const out: AgentEvent[] = [];
  const denials: Denial[] = [];
  for (const d of Array.isArray(e.permission_denials) ? e.permission_denials : []) {
    if (!isObject(d)) continue;
    const item = { toolName: str(d.tool_name) ?? "?", toolUseId: str(d.tool_use_id) ?? "", input: d.tool_input ?? null };
    denials.push(item);
    out.push(...denial(item.toolUseId, item.toolName, item.input));
  }
  const usage = isObject(e.usage) ? e.usage : {};
  const tokens = (k: string) => num(usage[k]) ?? 0;
  out.push({
    kind: "result",
    result: {
      sessionId: str(e.session_id),
      subtype: str(e.subtype),
      isError: e.is_error === true,
      turns: num(e.num_turns),
      costUsd: num(e.total_cost_usd),
      inputTokens: tokens("input_tokens"),
      outputTokens: tokens("output_tokens"),
      cacheReadTokens: tokens("cache_read_input_tokens"),
      cacheCreationTokens: tokens("cache_creation_input_tokens"),
      denials,
    },
  });
  return out;
}

/** One line for a person: `Bash: curl -s http://…`, `Write: /path/file.ts`, `mcp__x__y: {"id":…}`. */
export function describeDenial(d: Denial, max = 160): string {
  const input = isObject(d.input) ? d.input : {};
  const detail = str(input.command) ?? str(input.file_path) ?? str(input.path) ?? str(input.url) ?? (d.input === null ? "" : JSON.stringify(d.input));
  const text = oneLine(detail ? `${d.toolName}: ${detail}` : d.toolName);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * What to allow, in Claude Code's rule syntax, for a denied call: `Bash(npm test:*)` for a
 * command (its first two words), the server for an MCP tool, the tool name otherwise.
 */
export function ruleFor(d: Denial): string {
  if (d.toolName.startsWith("mcp__")) return d.toolName.split("__").slice(0, 2).join("__");
  const input = isObject(d.input) ? d.input : {};
  const command = str(input.command);
  if (d.toolName === "Bash" && command) return oneLine(`Bash(${command.trim().split(/\s+/).slice(0, 2).join(" ")}:*)`);
  return oneLine(d.toolName);
}
