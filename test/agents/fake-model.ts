/**
 * A scripted stand-in for the Anthropic Messages API on loopback, so the real Claude Code CLI can
 * be the agent in tests (`ANTHROPIC_BASE_URL=http://127.0.0.1:PORT`). It keeps no session state:
 * Claude Code sends the whole conversation each time, so the script's next step is read from the
 * history (how many tool calls were made, what their results said). Every request is recorded,
 * which is how tests see what the real client sent — its tools, the expanded prompt, tool results
 * and denials.
 */

export interface ToolUse {
  id: string;
  name: string;
  input: Record<string, unknown>;
}
export interface ToolResult {
  toolUseId: string;
  content: string;
  isError: boolean;
}

/** One request of the main loop, as the script sees it. */
export interface Turn {
  /** Every tool this request offers by name (not the deferred ones). */
  tools: Set<string>;
  /** Tools named in the system prompt as deferred behind ToolSearch. */
  deferred: Set<string>;
  /** The session's working directory, from the system prompt. */
  cwd: string;
  /** The user's first message, all text blocks joined (the expanded slash command). */
  prompt: string;
  /** The assistant's earlier tool calls, oldest first, and their results by tool_use id. */
  calls: ToolUse[];
  results: Map<string, ToolResult>;
}

export type Step =
  | { tool: string; input: Record<string, unknown>; delayMs?: number }
  | { text: string; delayMs?: number };

/** What to do next in this conversation: a tool call, or a final text (end_turn). */
export type Script = (turn: Turn) => Step;

export interface RecordedRequest {
  at: number;
  bytes: number;
  body: any;
}

export interface FakeModel {
  url: string;
  requests: RecordedRequest[];
  stop(): void;
}

const USAGE = { input_tokens: 1200, output_tokens: 80, cache_creation_input_tokens: 300, cache_read_input_tokens: 4000 };

export function startFakeModel(script: Script): FakeModel {
  const requests: RecordedRequest[] = [];
  let n = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST" || !url.pathname.startsWith("/v1/messages")) return new Response("ok");
      const text = await req.text();
      const body = JSON.parse(text);
      requests.push({ at: Date.now(), bytes: text.length, body });
      const id = `msg_${++n}`;
      // Side requests (titles, summaries) offer no tools: answer them with a word.
      const step: Step = Array.isArray(body.tools) && body.tools.length ? script(turnOf(body)) : { text: "ok" };
      if (step.delayMs) await Bun.sleep(step.delayMs);
      const block =
        "tool" in step
          ? { type: "tool_use", id: `toolu_${n}_${Math.random().toString(36).slice(2, 10)}`, name: step.tool, input: step.input }
          : { type: "text", text: step.text };
      const stop = "tool" in step ? "tool_use" : "end_turn";
      if (!body.stream)
        return Response.json({ id, type: "message", role: "assistant", model: body.model, content: [block], stop_reason: stop, usage: USAGE });
      return new Response(sse(id, body.model, block, stop), { headers: { "content-type": "text/event-stream" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) };
}

function sse(id: string, model: string, block: any, stop: string): string {
  const start = block.type === "tool_use" ? { ...block, input: {} } : { type: "text", text: "" };
  const delta =
    block.type === "tool_use"
      ? { type: "input_json_delta", partial_json: JSON.stringify(block.input) }
      : { type: "text_delta", text: block.text };
  const events = [
    { type: "message_start", message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...USAGE, output_tokens: 1 } } },
    { type: "content_block_start", index: 0, content_block: start },
    { type: "content_block_delta", index: 0, delta },
    { type: "content_block_stop", index: 0 },
    { type: "message_delta", delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: USAGE.output_tokens } },
    { type: "message_stop" },
  ];
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
}

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((b: any) => (b.type === "text" ? b.text : b.type === "tool_result" ? textOf(b.content) : "")).join("\n")
      : "";

export function turnOf(body: any): Turn {
  // The environment (working directory, deferred tools) is in the system prompt in older clients
  // and in a system-role message in newer ones.
  const system = [textOf(body.system), ...(body.messages ?? []).filter((m: any) => m.role === "system").map((m: any) => textOf(m.content))].join("\n");
  const cwd = /Primary working directory: (.+)/.exec(system)?.[1]?.trim() ?? /Working directory: (.+)/.exec(system)?.[1]?.trim() ?? "";
  const deferred = new Set<string>();
  const at = system.indexOf("deferred tools are now available via ToolSearch");
  if (at >= 0)
    for (const line of system.slice(at).split("\n").slice(1)) {
      if (!/^[A-Za-z0-9_-]+$/.test(line.trim())) break;
      deferred.add(line.trim());
    }
  const calls: ToolUse[] = [];
  const results = new Map<string, ToolResult>();
  for (const m of body.messages ?? []) {
    if (!Array.isArray(m.content)) continue;
    for (const b of m.content) {
      if (m.role === "assistant" && b.type === "tool_use") calls.push({ id: b.id, name: b.name, input: b.input ?? {} });
      if (m.role === "user" && b.type === "tool_result")
        results.set(b.tool_use_id, { toolUseId: b.tool_use_id, content: textOf(b.content), isError: b.is_error === true });
    }
  }
  return {
    tools: new Set((body.tools ?? []).map((t: any) => t.name)),
    deferred,
    cwd,
    prompt: textOf(body.messages?.[0]?.content),
    calls,
    results,
  };
}

/** The stream id of a `/continue` session, from the expanded command. */
export const continuedStream = (turn: Turn): string | null => /<command-args>([^<]+)<\/command-args>/.exec(turn.prompt)?.[1]?.trim() ?? null;

/**
 * A script from a fixed list of steps per conversation: step k is the k-th tool call. Steps may
 * use the turn (a path under its working directory). Before the first step, tools
 * the list needs that are deferred are loaded with ToolSearch, as the newer Claude Code requires.
 */
export function stepList(plan: (turn: Turn) => Step[]): Script {
  return (turn) => {
    const steps = plan(turn);
    const needed = [...new Set(steps.flatMap((s) => ("tool" in s ? [s.tool] : [])))].filter((t) => turn.deferred.has(t) && !turn.tools.has(t));
    const searched = turn.calls.some((c) => c.name === "ToolSearch");
    if (needed.length && !searched) return { tool: "ToolSearch", input: { query: `select:${needed.join(",")}` } };
    const done = turn.calls.filter((c) => c.name !== "ToolSearch").length;
    const next = steps[done];
    return next ?? { text: "All tasks in this stream are complete." };
  };
}
