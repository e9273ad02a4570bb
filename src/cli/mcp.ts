import { pending } from "./pending.ts";

export const command = pending("mcp", "MCP stdio server");
