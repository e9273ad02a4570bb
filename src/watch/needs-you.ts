/**
 * How an agent session's status and an inbox question read, shared by `orch agents`, `orch inbox`
 * and the monitor so every face says the same thing. Pure: no I/O, no clock (`now` comes in).
 * The text here quotes what agents wrote; callers neutralise it at the edge (oneLine).
 */

/** The fields of an agent session a face needs (core's AgentView, or the API's JSON of it). */
export interface AgentStatusFields {
  sessionId: string;
  status: string;
  tool: string | null;
  pendingQuestion: string | null;
  lastMessage?: string | null;
  stale?: boolean;
  updatedAt: string;
}

export const STATUS_SYMBOL: Record<string, string> = {
  starting: "◌",
  working: "▶",
  waiting_permission: "⏸",
  waiting_input: "⏸",
  idle: "…",
  error: "✖",
  exited: "■",
};

export const symbolFor = (status: string): string => STATUS_SYMBOL[status] ?? "?";

/** Claude Code session ids are UUIDs: the first block names one well enough on a screen. */
export const shortSession = (id: string): string => (id.length > 8 ? id.slice(0, 8) : id);

/** "12s", "4m", "1h05m", "3d" since `iso`. */
export function ageText(iso: string, now: number): string {
  const secs = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(secs)) return "?";
  if (secs < 60) return `${secs}s`;
  const mins = Math.floor(secs / 60);
  if (mins < 60) return `${mins}m`;
  const hours = Math.floor(mins / 60);
  if (hours < 48) return `${hours}h${String(mins % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d`;
}

/** The words after the symbol: `waiting for permission: Bash(npm publish)`, `working: Edit(src/a.ts)`. */
export function statusText(a: AgentStatusFields): string {
  const what = (() => {
    switch (a.status) {
      case "working":
        return a.tool ? `working: ${a.tool}` : "working";
      case "waiting_permission": {
        // The tool names the call exactly; a Notification's question is Claude Code's prose.
        const q = a.tool ?? a.pendingQuestion;
        return q ? `waiting for permission: ${q}` : "waiting for permission";
      }
      case "waiting_input":
        return a.pendingQuestion ? `waiting for input: ${a.pendingQuestion}` : "waiting for input";
      case "error":
        return a.lastMessage ? `error: ${a.lastMessage}` : "error";
      default:
        return a.status;
    }
  })();
  return a.stale ? `${what} (stale)` : what;
}

/** `▶ working: Edit(src/a.ts)`. */
export const statusLine = (a: AgentStatusFields): string => `${symbolFor(a.status)} ${statusText(a)}`;

/** 1234 → "1.2k", 2_500_000 → "2.5M". */
export function compactCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}
