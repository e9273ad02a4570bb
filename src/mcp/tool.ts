/**
 * What one MCP tool is: a name, a terse description, a zod input schema, and a thin adapter over
 * core. Tool groups (src/mcp/tools/*.ts) export arrays of these; server.ts serves them.
 *
 * Every agent session pays for the whole `tools/list` answer in context, so the JSON Schema we
 * advertise is a compact rendering of the zod schema (types, enums, required, descriptions);
 * the full zod schema (lengths, id patterns, unknown keys) still validates every call.
 */
import { z } from "zod";
import type { Store } from "../db/client.ts";

export interface McpContext {
  store: Store;
  /** The session's working directory (the main checkout or a stream worktree). */
  cwd: string;
}

export interface ToolDef<S extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  input: S;
  /** Only reads: advertised as `readOnlyHint` so clients may call it without asking. */
  readOnly?: boolean;
  /** Returns the JSON-able result; throws OrchError (or any Error) to fail the call. */
  run(ctx: McpContext, args: z.output<S>): unknown;
}

/** Keeps the args type of `run` tied to `input` while letting groups be plain arrays. */
export function defineTool<S extends z.ZodObject>(def: ToolDef<S>): ToolDef {
  return def as unknown as ToolDef;
}

type JsonSchema = Record<string, unknown>;

/** The parts of a property schema a caller needs to build a call. */
function compactProperty(p: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  if (p.type !== undefined) out.type = p.type;
  if (p.enum !== undefined) out.enum = p.enum;
  if (p.items && typeof p.items === "object") out.items = compactProperty(p.items as JsonSchema);
  if (p.anyOf) out.anyOf = (p.anyOf as JsonSchema[]).map(compactProperty);
  if (p.description !== undefined) out.description = p.description;
  return out;
}

/** The JSON Schema advertised in tools/list: top-level properties and `required`, nothing else. */
export function advertisedSchema(input: z.ZodObject): JsonSchema {
  const full = z.toJSONSchema(input, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const props = (full.properties ?? {}) as Record<string, JsonSchema>;
  const schema: JsonSchema = {
    type: "object",
    properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, compactProperty(v)])),
  };
  if (Array.isArray(full.required) && full.required.length) schema.required = full.required;
  return schema;
}

/** One tools/list entry, as advertised. */
export interface ListedTool {
  name: string;
  description: string;
  inputSchema: JsonSchema & { type: "object" };
  annotations?: { readOnlyHint: true };
}

export function listTool(t: ToolDef): ListedTool {
  return {
    name: t.name,
    description: t.description,
    inputSchema: advertisedSchema(t.input) as ListedTool["inputSchema"],
    ...(t.readOnly ? { annotations: { readOnlyHint: true as const } } : {}),
  };
}
