/**
 * The MCP server agents talk to: the tools of src/mcp/tools/* over one Store.
 *
 * Built on the SDK's protocol `Server` (its documented path for advanced use) rather than
 * `McpServer`: we need to choose the exact JSON Schema advertised in tools/list (the byte budget
 * every agent session pays) and the exact text of a failed call (`Task not found: TASK-9`,
 * `status: invalid status "done" …`), both of which McpServer fixes for us. Everything
 * protocol-level (initialize, version negotiation, ping, errors) is still the SDK's.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import type { z } from "zod";
import { suggest } from "../text/suggest.ts";
import type { Store } from "../db/client.ts";
import { formatZodIssues, isOrchError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { builtListing } from "./listing.ts" with { type: "macro" };
import { listTool, type ListedTool, type McpContext, type ToolDef } from "./tool.ts";
import { allTools } from "./tools/index.ts";

export const SERVER_NAME = "orch";

/** Said once per session at initialize; kept to the one habit agents forget. */
export const INSTRUCTIONS =
  "orch tracks initiatives, PRDs, tasks and streams for parallel agent work. Set a task to in_progress before you start it, call agent_heartbeat every few minutes while working, and set it to completed when done.";

export interface McpServerOptions {
  /** Working directory of the session (default process.cwd()). */
  cwd?: string;
  /** The tools to serve (default: every group in tools/index.ts). */
  tools?: readonly ToolDef[];
  /** Where unexpected errors are logged (default: nowhere; the CLI passes stderr). */
  log?: (line: string) => void;
}

const DEFAULT_LISTING: ListedTool[] = builtListing();
const listings = new WeakMap<readonly ToolDef[], ListedTool[]>();

/** The tools/list answer for a set of tools: built into the binary for the default set. */
export function toolListing(tools?: readonly ToolDef[]): Tool[] {
  if (!tools) return DEFAULT_LISTING as Tool[];
  let l = listings.get(tools);
  if (!l) listings.set(tools, (l = tools.map(listTool)));
  return l as Tool[];
}

function textResult(value: unknown): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value ?? null) }] };
}

function errorResult(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** Zod issues as one line; an unknown argument gets a did-you-mean. */
export function describeArgIssues(issues: z.core.$ZodIssue[], known: readonly string[]): string {
  return formatZodIssues(
    issues.flatMap((i) => {
      if (i.code !== "unrecognized_keys") return [i];
      return i.keys.map((k) => {
        const hint = suggest(k, known);
        return { path: i.path, message: `unknown argument "${k}"${hint ? ` (did you mean "${hint}"?)` : ""}` };
      });
    }),
  );
}

/** What the system says went wrong, by its error code (never by its wording), and what to do. */
const BY_CODE: [RegExp, string, string?][] = [
  [/^SQLITE_FULL$/, "the disk holding the database is full", "free some space and call again"],
  [/^ENOSPC$/, "the disk is full", "free some space and call again"],
  [/^EDQUOT$/, "the disk quota is used up", "free some space and call again"],
  [/^SQLITE_READONLY/, "the database is read-only"],
  [/^EROFS$/, "the file system is read-only"],
  [/^(SQLITE_IOERR.*|EIO)$/, "the disk could not be read or written (I/O error)"],
  [/^(SQLITE_CORRUPT.*|SQLITE_NOTADB)$/, "the database file is damaged"],
  [/^SQLITE_CANTOPEN/, "the database cannot be opened"],
  [/^(EACCES|EPERM)$/, "permission denied"],
  [/^(SQLITE_BUSY|SQLITE_LOCKED)/, "the database is busy", "call again"],
];
const MAX_FAILURE = 300;

/**
 * A failure orch did not anticipate, as one bounded line: what the error's code means when it
 * has one (with the code), else the first line of its message.
 */
export function describeFailure(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string")
    for (const [re, what, advice] of BY_CODE) if (re.test(code)) return `${what} (${code})${advice ? `: ${advice}` : ""}`;
  const first = String((err as Error | null)?.message ?? err).split(/\r?\n/)[0]!.trim() || "unknown error";
  return first.length > MAX_FAILURE ? `${first.slice(0, MAX_FAILURE)}…` : first;
}

/**
 * The SDK validates elicitation answers with Ajv, built in Server's constructor unless we pass a
 * validator. orch never elicits, so it passes this one and skips building Ajv at start-up.
 */
const noElicitation: jsonSchemaValidator = {
  getValidator() {
    throw new Error("orch mcp does not validate elicitation results");
  },
};

/** Answers one tools/call: the tool's result, an isError result for its failures; an unknown tool throws McpError. */
export type ToolCaller = (params: { name: string; arguments?: Record<string, unknown> }) => Promise<CallToolResult>;

export function createToolCaller(store: Store, opts: McpServerOptions = {}): ToolCaller {
  const tools = opts.tools ?? allTools();
  const byName = new Map(tools.map((t) => [t.name, t]));
  const ctx: McpContext = { store, cwd: opts.cwd ?? process.cwd() };
  return async ({ name, arguments: args }) => {
    const tool = byName.get(name);
    if (!tool) {
      const hint = suggest(name, [...byName.keys()]);
      // A name is echoed back at most 100 characters long: a fuzzed 300 KB name is not repeated in full.
      const shown = name.length > 100 ? `${name.slice(0, 100)}… (${name.length} characters)` : name;
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${shown}${hint ? ` (did you mean ${hint}?)` : ""}`);
    }
    const parsed = tool.input.safeParse(args ?? {});
    if (!parsed.success) {
      return errorResult(`Invalid arguments for ${name}: ${describeArgIssues(parsed.error.issues, Object.keys(tool.input.shape))}`);
    }
    try {
      return textResult(await tool.run(ctx, parsed.data));
    } catch (err) {
      if (isOrchError(err)) return errorResult(err.message);
      // The session goes on (a full disk, a read-only database): one line to the log and to the agent.
      const line = `${name} failed: ${describeFailure(err)}`;
      opts.log?.(`orch mcp: ${line}`);
      if (process.env.ORCH_DEBUG === "1" && (err as Error)?.stack) opts.log?.((err as Error).stack!);
      return errorResult(line);
    }
  };
}

export function createMcpServer(store: Store, opts: McpServerOptions = {}, callTool: ToolCaller = createToolCaller(store, opts)): Server {
  const server = new Server(
    { name: SERVER_NAME, version: VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS, jsonSchemaValidator: noElicitation },
  );

  const listing = toolListing(opts.tools);
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listing }));
  server.setRequestHandler(CallToolRequestSchema, (req) => callTool(req.params));
  return server;
}
