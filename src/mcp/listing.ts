/**
 * The default tools/list answer, computed when the binary is bundled: server.ts imports this
 * file `with { type: "macro" }`, so Bun runs it at build time (and in its runtime transpiler
 * when tests run from source) and inlines the result. Turning 21 zod schemas into JSON Schema
 * otherwise costs 3-8 ms of every agent session's start-up.
 */
import { listTool, type ListedTool } from "./tool.ts";
import { allTools } from "./tools/index.ts";

export function builtListing(): ListedTool[] {
  return allTools().map(listTool);
}
