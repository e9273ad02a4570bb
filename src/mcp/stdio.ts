/**
 * MCP over stdio with a guard in front of the SDK.
 *
 * SDK 1.32 silently drops a line it cannot parse, and a request whose `params` is not an object
 * never gets an answer, so the client waits forever. JSON-RPC 2.0 wants an error reply: -32700
 * (parse error, id null), -32600 (invalid request), -32602 (invalid params, with the request's
 * id). `screenLine` decides that for each line (pure); `GuardedStdioTransport` is the SDK
 * Transport that applies it, writes one JSON line per message, and knows which requests are
 * still unanswered (so the end of stdin can wait for them).
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  InitializeRequestSchema,
  JSONRPCMessageSchema,
  ListToolsRequestSchema,
  PingRequestSchema,
  type JSONRPCMessage,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import type { ZodType } from "zod";
import { formatZodIssues } from "../errors.ts";
import type { Line, LineFeed } from "./lines.ts";

export interface ErrorReply {
  jsonrpc: "2.0";
  id: RequestId | null;
  error: { code: number; message: string };
}

export type Verdict =
  /** `toolCall`: a well-formed tools/call (isPlainToolCall), which StdioOptions.callTool may answer itself. */
  | { message: JSONRPCMessage; toolCall?: true }
  | { reply: ErrorReply }
  /** Nothing to answer (a blank line, a broken notification or response); `why` goes to the log. */
  | { drop: string | null };

const reply = (id: RequestId | null, code: number, message: string): Verdict => ({ reply: { jsonrpc: "2.0", id, error: { code, message } } });

/** Params of the requests this server handles, checked here so a bad one is -32602, not -32603. */
const REQUEST_SCHEMAS: Record<string, ZodType> = {
  initialize: InitializeRequestSchema,
  ping: PingRequestSchema,
  "tools/list": ListToolsRequestSchema,
  "tools/call": CallToolRequestSchema,
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is RequestId => typeof v === "string" || (typeof v === "number" && Number.isSafeInteger(v));

/**
 * A well-formed tools/call request, recognised without zod: the message an agent sends again and
 * again. Accepts only what the SDK's schemas accept (no `_meta`, no extra keys, an integer or
 * string id); everything else takes the full checks.
 */
function isPlainToolCall(msg: Record<string, unknown>): boolean {
  if (msg.method !== "tools/call" || msg.jsonrpc !== "2.0" || !isId(msg.id)) return false;
  for (const k in msg) if (k !== "jsonrpc" && k !== "id" && k !== "method" && k !== "params") return false;
  const p = msg.params;
  if (!isPlainObject(p) || typeof p.name !== "string") return false;
  for (const k in p) if (k !== "name" && k !== "arguments") return false;
  return p.arguments === undefined || isPlainObject(p.arguments);
}

export function screenLine(line: Line): Verdict {
  if (line === null) return reply(null, ErrorCode.InvalidRequest, "Invalid Request: message too large");
  if (!line.trim()) return { drop: null };
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch (err) {
    return reply(null, ErrorCode.ParseError, `Parse error: ${(err as Error).message}`);
  }
  if (Array.isArray(msg)) return reply(null, ErrorCode.InvalidRequest, "Invalid Request: batches are not supported");
  if (!isPlainObject(msg)) return reply(null, ErrorCode.InvalidRequest, "Invalid Request: expected a JSON-RPC object");
  if (isPlainToolCall(msg)) return { message: msg as JSONRPCMessage, toolCall: true };

  const hasId = "id" in msg;
  const id = isId(msg.id) ? msg.id : null;
  if (msg.jsonrpc !== "2.0") return reply(id, ErrorCode.InvalidRequest, 'Invalid Request: jsonrpc must be "2.0"');
  if (hasId && id === null) return reply(null, ErrorCode.InvalidRequest, "Invalid Request: id must be a string or an integer");

  if (!("method" in msg)) {
    // A response to a request of ours (we send none today) or a request missing its method.
    if (JSONRPCMessageSchema.safeParse(msg).success) return { message: msg as JSONRPCMessage };
    if (id !== null && !("result" in msg) && !("error" in msg)) return reply(id, ErrorCode.InvalidRequest, "Invalid Request: method is required");
    return { drop: "malformed response dropped" };
  }
  if (typeof msg.method !== "string") return hasId ? reply(id, ErrorCode.InvalidRequest, "Invalid Request: method must be a string") : { drop: "notification without a method name dropped" };
  if (msg.params !== undefined && !isPlainObject(msg.params)) {
    return hasId ? reply(id, ErrorCode.InvalidParams, "Invalid params: params must be an object") : { drop: `notification ${msg.method} with non-object params dropped` };
  }
  if (hasId) {
    const schema = REQUEST_SCHEMAS[msg.method];
    if (schema) {
      const r = schema.safeParse({ method: msg.method, params: msg.params });
      if (!r.success) return reply(id, ErrorCode.InvalidParams, `Invalid params: ${formatZodIssues(r.error.issues)}`);
    }
  }
  const parsed = JSONRPCMessageSchema.safeParse(msg);
  if (!parsed.success) {
    return hasId ? reply(id, ErrorCode.InvalidRequest, `Invalid Request: ${formatZodIssues(parsed.error.issues)}`) : { drop: `malformed notification ${msg.method} dropped` };
  }
  return { message: msg as JSONRPCMessage };
}

export interface StdioOptions {
  /** Writes one complete line; must not interleave with other writes (the CLI writes synchronously). */
  write(text: string): void;
  log?(line: string): void;
  /**
   * Answers a well-formed tools/call without the SDK, which would check the request twice more
   * and the result once with zod (a sixth of a warm call's CPU). Every other message, a tools/call
   * that is not plain included, still goes through the SDK.
   */
  callTool?(params: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>;
}

export class GuardedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Called when stdin ends (after every line before it was handled). */
  onend?: () => void;

  private readonly pending = new Set<RequestId>();
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly feed: LineFeed,
    private readonly opts: StdioOptions,
  ) {}

  async start(): Promise<void> {
    this.feed.attach({ line: (l) => this.handle(l), end: () => this.onend?.() });
  }

  private handle(line: Line): void {
    if (this.closed) return;
    const v = screenLine(line);
    if ("message" in v) {
      const m = v.message as { id?: RequestId; method?: string; params?: unknown };
      if (m.method !== undefined && m.id !== undefined) this.pending.add(m.id);
      if (v.toolCall && this.opts.callTool) void this.answerToolCall(m.id!, m.params as Parameters<NonNullable<StdioOptions["callTool"]>>[0]);
      else this.onmessage?.(v.message);
    } else if ("reply" in v) {
      this.opts.write(`${JSON.stringify(v.reply)}\n`);
    } else if (v.drop) {
      this.opts.log?.(`orch mcp: ${v.drop}`);
    }
  }

  private async answerToolCall(id: RequestId, params: Parameters<NonNullable<StdioOptions["callTool"]>>[0]): Promise<void> {
    let answer: JSONRPCMessage;
    try {
      answer = { jsonrpc: "2.0", id, result: (await this.opts.callTool!(params)) as Record<string, unknown> };
    } catch (err) {
      // As the SDK's protocol answers a handler's error.
      const e = err as { code?: unknown; message?: string; data?: unknown };
      const code = typeof e.code === "number" && Number.isSafeInteger(e.code) ? e.code : ErrorCode.InternalError;
      answer = { jsonrpc: "2.0", id, error: { code, message: e.message ?? "Internal error", ...(e.data !== undefined ? { data: e.data } : {}) } };
    }
    await this.send(answer);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return;
    this.opts.write(`${JSON.stringify(message)}\n`);
    const m = message as { id?: RequestId; method?: string };
    if (m.method === undefined && m.id !== undefined && this.pending.delete(m.id) && this.pending.size === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves once every request received so far has been answered (or after `timeoutMs`). */
  whenIdle(timeoutMs: number): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.feed.stop();
    for (const w of this.idleWaiters.splice(0)) w();
    this.onclose?.();
  }
}
