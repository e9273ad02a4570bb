/**
 * An agent's log for people, pure: the JSON lines of a Claude Code transcript (the JSONL file its
 * hooks name) or of a headless session's `--output-format stream-json --verbose` output in, short
 * one-line texts out — what the assistant said, each tool call with a short summary of its input
 * (the Bash command, the file path), tool calls that failed, what the user typed, the final
 * result with its cost. Both formats carry the same `assistant` / `user` / `result` / `system`
 * entries. Never raw content: every text is derived, one line, without control characters or
 * escape sequences, and at most MAX_LOG_TEXT characters. Lines that are not JSON (a line cut by
 * the window the caller read, one still being written) and kinds orch does not know are passed over.
 */

export type LogKind = "text" | "tool" | "result" | "error" | "user";

export interface LogLine {
  /** When it was written (transcripts have it; stream-json does not). */
  at: string | null;
  kind: LogKind;
  text: string;
}

export const MAX_LOG_TEXT = 500;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Terminal escape sequences: CSI (`ESC [ … m`, also the 8-bit 0x9b), OSC (`ESC ] … BEL|ST`), DCS/PM/APC/SOS strings, and two-byte escapes. */
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]?|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[P^_X][^\u001b]*(?:\u001b\\)?|[ -/]*[0-~]?)|\u009b[0-?]*[ -/]*[@-~]?/g;
/** Every other control character, and the invisible ones that reorder or break text (bidi overrides, line separators). */
const INVISIBLE = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\u061c\ufeff]/g;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** One line for a person: escape sequences and control characters gone, white space collapsed, at most `max` characters. */
export function logText(s: string, max = MAX_LOG_TEXT): string {
  const flat = s.replace(ESCAPES, "").replace(INVISIBLE, "").replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  let cut = max - 1;
  const c = flat.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--; // never half a surrogate pair
  return `${flat.slice(0, cut)}…`;
}

/** What a tool call was about, in a few words: the command, the file, the pattern, the URL. */
export function toolSummary(name: string, input: unknown): string {
  const i = isObject(input) ? input : {};
  const first =
    str(i.command) ?? str(i.file_path) ?? str(i.notebook_path) ?? str(i.pattern) ?? str(i.path) ?? str(i.url) ?? str(i.query) ?? str(i.description) ?? str(i.skill) ?? str(i.prompt);
  if (first !== null) return first;
  if (Array.isArray(i.todos)) return `${i.todos.length} todo${i.todos.length === 1 ? "" : "s"}`;
  if (input === null || input === undefined || (isObject(input) && !Object.keys(input).length)) return "";
  const json = JSON.stringify(input);
  return json.length > 200 ? `${json.slice(0, 199)}…` : json;
}

/** A tool result's text: a string, or the text blocks of a list. */
function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b) => (isObject(b) && b.type === "text" ? (str(b.text) ?? "") : ""))
    .filter(Boolean)
    .join(" ");
}

/** A slash command as Claude Code records it (`<command-name>/continue</command-name>…<command-args>Stream-B</command-args>`) → `/continue Stream-B`. */
function userText(text: string): string {
  const name = /<command-name>([^<]*)<\/command-name>/.exec(text)?.[1];
  if (name === undefined) return text;
  const args = /<command-args>([^<]*)<\/command-args>/.exec(text)?.[1] ?? "";
  return `${name} ${args}`;
}

function money(usd: number): string {
  return usd < 0.01 && usd > 0 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** Reads JSON lines in order; remembers tool names by call id so a failed result can name its tool. */
export function agentLogParser() {
  const tools = new Map<string, string>();
  const remember = (id: string, name: string) => {
    tools.set(id, name);
    if (tools.size > 2000) tools.delete(tools.keys().next().value!); // bounded, whatever the session did
  };

  return function entry(line: string): LogLine[] {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) return [];
    let e: unknown;
    try {
      e = JSON.parse(trimmed);
    } catch {
      return [];
    }
    if (!isObject(e) || e.isSidechain === true || e.isMeta === true) return [];
    const ts = str(e.timestamp);
    const at = ts && ts.length <= 40 && ISO.test(ts) ? ts : null;
    const out: LogLine[] = [];
    const push = (kind: LogKind, text: string) => {
      const t = logText(text);
      if (t) out.push({ at, kind, text: t });
    };
    const message = isObject(e.message) ? e.message : null;
    const content = message?.content;

    if (e.type === "assistant" && message) {
      const apiError = e.isApiErrorMessage === true || typeof e.error === "string";
      if (typeof content === "string") push(apiError ? "error" : "text", content);
      for (const b of Array.isArray(content) ? content : []) {
        if (!isObject(b)) continue;
        if (b.type === "text") push(apiError ? "error" : "text", str(b.text) ?? "");
        else if (b.type === "tool_use") {
          const name = logText(str(b.name) ?? "tool", 100) || "tool";
          if (str(b.id)) remember(b.id as string, name);
          const summary = logText(toolSummary(name, b.input));
          push("tool", summary ? `${name}: ${summary}` : name);
        }
      }
    } else if (e.type === "user" && message) {
      if (typeof content === "string") push("user", userText(content));
      for (const b of Array.isArray(content) ? content : []) {
        if (!isObject(b)) continue;
        if (b.type === "text") push("user", userText(str(b.text) ?? ""));
        else if (b.type === "tool_result" && b.is_error === true) {
          const name = tools.get(str(b.tool_use_id) ?? "") ?? "tool";
          const why = resultText(b.content);
          push("error", why ? `${name} failed: ${why}` : `${name} failed`);
        }
      }
    } else if (e.type === "result") {
      const subtype = str(e.subtype);
      const failed = e.is_error === true || (subtype !== null && subtype !== "success");
      const parts = [failed ? `Stopped${subtype && subtype !== "success" ? ` (${subtype})` : " with an error"}` : "Finished"];
      const turns = num(e.num_turns);
      if (turns !== null) parts.push(`${turns} turn${turns === 1 ? "" : "s"}`);
      const cost = num(e.total_cost_usd);
      if (cost !== null) parts.push(money(cost));
      const denials = Array.isArray(e.permission_denials) ? e.permission_denials.length : 0;
      if (denials) parts.push(`${denials} tool call${denials === 1 ? "" : "s"} denied`);
      const said = str(e.result);
      push(failed ? "error" : "result", `${parts.join(" · ")}${said ? ` — ${said}` : ""}`);
    } else if (e.type === "system") {
      if (e.subtype === "permission_denied") push("error", `Denied: ${str(e.tool_name) ?? "a tool call"}`);
      else if (e.level === "error" || e.subtype === "api_error") {
        const err = e.error;
        const why = str(e.content) ?? (isObject(err) ? (str(err.message) ?? "") : (str(err) ?? ""));
        push("error", why || "API error");
      }
    }
    return out;
  };
}

/**
 * The log lines of `text` (JSON lines, oldest first). `cutStart`: the text begins mid-file, so its
 * first line is a piece of one and is dropped.
 */
export function agentLogLines(text: string, opts: { cutStart?: boolean } = {}): LogLine[] {
  const parse = agentLogParser();
  const lines = text.split("\n");
  if (opts.cutStart) lines.shift();
  return lines.flatMap(parse);
}
