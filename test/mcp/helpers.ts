/** An SDK client wired to createMcpServer through the SDK's in-memory transport. */
import { afterAll } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Store } from "../../src/db/client.ts";
import { createMcpServer, type McpServerOptions } from "../../src/mcp/server.ts";

const open: Client[] = [];
afterAll(async () => {
  for (const c of open.splice(0)) await c.close();
});

export interface Session {
  client: Client;
  /** Calls a tool that must succeed; returns its parsed JSON. */
  ok<T = any>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** Calls a tool that must fail; returns its message. */
  fail(name: string, args?: Record<string, unknown>): Promise<string>;
  raw(name: string, args?: unknown): Promise<CallToolResult>;
}

export async function connect(store: Store, opts: McpServerOptions = {}): Promise<Session> {
  const server = createMcpServer(store, opts);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "test", version: "0" });
  await Promise.all([server.connect(b), client.connect(a)]);
  open.push(client);
  const raw = (name: string, args?: unknown) =>
    client.callTool({ name, arguments: args as Record<string, unknown> }) as Promise<CallToolResult>;
  const text = (r: CallToolResult) => {
    const c = r.content[0];
    if (r.content.length !== 1 || c?.type !== "text") throw new Error(`expected one text item, got ${JSON.stringify(r.content)}`);
    return c.text;
  };
  return {
    client,
    raw,
    async ok(name, args = {}) {
      const r = await raw(name, args);
      if (r.isError) throw new Error(`${name} failed: ${text(r)}`);
      return JSON.parse(text(r));
    },
    async fail(name, args = {}) {
      const r = await raw(name, args);
      if (!r.isError) throw new Error(`${name} succeeded: ${text(r)}`);
      return text(r);
    },
  };
}
