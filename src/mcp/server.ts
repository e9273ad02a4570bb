/**
 * The MCP server agents talk to: the tools of src/mcp/tools/* over one Store.
 *
 * Built on the SDK's protocol `Server` rather than `McpServer`: we need to choose the exact
 * JSON Schema advertised in tools/list (the byte budget every agent session pays) and the exact
 * text of a failed call (`Task not found: TASK-9`, `status: invalid status "done" …`), both of
 * which McpServer fixes for us. Everything protocol-level (initialize, versions, ping, errors)
 * is still the SDK's.
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
import type { z } from "zod";
import { suggest } from "../cli/args.ts";
import type { Store } from "../db/client.ts";
import { formatZodIssues, isOrchError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { advertisedSchema, type McpContext, type ToolDef } from "./tool.ts";
import { allTools } from "./tools/index.ts";

export const SERVER_NAME = "orch";

/** Said once per session at initialize; kept to the one habit agents forget. */
export const INSTRUCTIONS =
  "orch tracks initiatives, PRDs, tasks and streams for parallel agent work. Set a task in_progress before working on it, call agent_heartbeat every few minutes, and completed when done.";

export interface McpServerOptions {
  /** Working directory of the session (default process.cwd()). */
  cwd?: string;
  /** The tools to serve (default: every group in tools/index.ts). */
  tools?: readonly ToolDef[];
  /** Where unexpected errors are logged (default: nowhere; the CLI passes stderr). */
  log?: (line: string) => void;
}

const listings = new WeakMap<readonly ToolDef[], Tool[]>();

/** The tools/list answer for a set of tools, computed once. */
export function toolListing(tools: readonly ToolDef[] = defaultTools()): Tool[] {
  let l = listings.get(tools);
  if (!l) {
    l = tools.map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: advertisedSchema(t.input) as Tool["inputSchema"],
      ...(t.readOnly ? { annotations: { readOnlyHint: true } } : {}),
    }));
    listings.set(tools, l);
  }
  return l;
}

let defaults: ToolDef[] | undefined;
const defaultTools = () => (defaults ??= allTools());

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

export function createMcpServer(store: Store, opts: McpServerOptions = {}): Server {
  const tools = opts.tools ?? defaultTools();
  const byName = new Map(tools.map((t) => [t.name, t]));
  const ctx: McpContext = { store, cwd: opts.cwd ?? process.cwd() };
  const server = new Server({ name: SERVER_NAME, version: VERSION }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolListing(tools) }));

  server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
    const { name, arguments: args } = req.params;
    const tool = byName.get(name);
    if (!tool) {
      const hint = suggest(name, [...byName.keys()]);
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}${hint ? ` (did you mean ${hint}?)` : ""}`);
    }
    const parsed = tool.input.safeParse(args ?? {});
    if (!parsed.success) {
      return errorResult(`Invalid arguments for ${name}: ${describeArgIssues(parsed.error.issues, Object.keys(tool.input.shape))}`);
    }
    try {
      return textResult(await tool.run(ctx, parsed.data));
    } catch (err) {
      if (isOrchError(err)) return errorResult(err.message);
      const e = err as Error;
      opts.log?.(`orch mcp: ${name} failed: ${e?.stack ?? String(err)}`);
      return errorResult(`${name} failed: ${e?.message ?? String(err)}`);
    }
  });

  return server;
}
