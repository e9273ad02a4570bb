/**
 * `orch mcp` from the compiled binary: the SDK's stdio client runs a whole agent flow; raw
 * pipes check the guard (garbage lines, bad params), stdin close, SIGTERM and stdout hygiene.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { JSONRPCMessageSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { listTool } from "../../src/mcp/tool.ts";
import { allTools } from "../../src/mcp/tools/index.ts";
import { ON_POSTGRES, shownDatabase } from "../backend.ts";
import { cleanEnv, orchBin, tempDir } from "../helpers.ts";

const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "e2e", version: "0" } },
};
const INITIALIZED = { jsonrpc: "2.0", method: "notifications/initialized" };
const call = (id: number | string, name: string, args: unknown) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

const clients: Client[] = [];
afterAll(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
});

interface Agent {
  client: Client;
  errors: Error[];
  stderr: () => string;
  ok<T = any>(name: string, args?: Record<string, unknown>): Promise<T>;
  fail(name: string, args?: Record<string, unknown>): Promise<string>;
}

/** One agent session: the SDK's stdio client spawning `dist/orch mcp`. */
async function agent(dbPath: string, cwd: string): Promise<Agent> {
  const transport = new StdioClientTransport({ command: orchBin(), args: ["mcp"], env: cleanEnv({ ORCH_DB: dbPath }), cwd, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: "e2e-agent", version: "0" });
  const errors: Error[] = [];
  // The SDK client parses each stdout line as a JSON-RPC message; anything else lands here.
  client.onerror = (e) => errors.push(e);
  await client.connect(transport);
  clients.push(client);
  const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;
  return {
    client,
    errors,
    stderr: () => stderr,
    async ok(name, args = {}) {
      const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
      if (r.isError) throw new Error(`${name}: ${text(r)}`);
      return JSON.parse(text(r));
    },
    async fail(name, args = {}) {
      const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
      expect(r.isError).toBe(true);
      return text(r);
    },
  };
}

const byId = (lines: any[], id: unknown) => lines.find((l) => l.id === id);

interface RawRun {
  code: number;
  lines: any[];
  stdout: string;
  stderr: string;
  ms: number;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const t = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Raw pipes: every stdout line is collected; `answer(id)` waits for the reply to one request. */
function spawnRaw(dbPath: string, args: string[] = []) {
  const proc = Bun.spawn([orchBin(), "mcp", ...args], {
    env: cleanEnv({ ORCH_DB: dbPath }),
    cwd: tempDir(),
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  const t0 = performance.now();
  let stdout = "";
  let notify = () => {};
  const stdoutDone = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stdout) {
      stdout += dec.decode(chunk, { stream: true });
      notify();
    }
  })();
  const stderrText = new Response(proc.stderr).text();
  const parsedLines = () =>
    stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return l; // expectAllJsonRpc reports it
        }
      });
  return {
    proc,
    send(...msgs: (object | string)[]) {
      for (const m of msgs) proc.stdin.write(`${typeof m === "string" ? m : JSON.stringify(m)}\n`);
      proc.stdin.flush();
    },
    answer(id: number | string): Promise<any> {
      return withTimeout(
        new Promise((resolve) => {
          const check = () => {
            const hit = stdout.endsWith("\n") ? byId(parsedLines(), id) : undefined;
            if (hit) resolve(hit);
            else notify = check;
          };
          check();
        }),
        5000,
        `answer ${id}`,
      );
    },
    async finish(): Promise<RawRun> {
      const [code, , stderr] = await withTimeout(Promise.all([proc.exited, stdoutDone, stderrText]), 10_000, "orch mcp exit");
      return { code, stdout, stderr, ms: performance.now() - t0, lines: parsedLines() };
    },
  };
}

/**
 * Every stdout line is one JSON-RPC message the SDK accepts, except the error replies JSON-RPC 2.0
 * requires to carry `"id": null` (parse error, unreadable request), which the SDK's schema lacks.
 */
function expectAllJsonRpc(r: RawRun) {
  expect(r.stdout === "" || r.stdout.endsWith("\n")).toBe(true);
  for (const line of r.stdout.split("\n").filter(Boolean)) {
    const msg = JSON.parse(line);
    if (msg.id === null) {
      expect(Object.keys(msg).sort()).toEqual(["error", "id", "jsonrpc"]);
      expect(msg.jsonrpc).toBe("2.0");
      expect([-32700, -32600]).toContain(msg.error.code);
      expect(typeof msg.error.message).toBe("string");
    } else {
      expect(JSONRPCMessageSchema.safeParse(msg).success).toBe(true);
    }
  }
}


describe("orch mcp (compiled binary, SDK stdio client)", () => {
  test("a whole agent flow, seen at once by a second session on the same DB", async () => {
    const dir = tempDir();
    const repo = join(dir, "project");
    mkdirSync(repo);
    const db = join(dir, "tasks.db");
    const a = await agent(db, repo);
    const b = await agent(db, repo);

    // The listing built into the binary at bundle time is the one the tool definitions give now.
    const { tools } = await a.client.listTools();
    expect(tools).toEqual(allTools().map(listTool) as never);
    expect(a.client.getServerVersion()).toMatchObject({ name: "orch" });

    expect(await a.ok("health_check")).toMatchObject({ status: "ok", database: shownDatabase(db) });
    await a.ok("initiative_link", { initiativeId: "INIT-dark", title: "Add Dark Mode Support" });
    const prd = await a.ok("prd_create", { title: "Dark mode", content: "# Initiative: Add Dark Mode Support\n", description: "PRD", metadata: { source: "e2e" } });
    expect(prd.initiativeId).toBe("INIT-dark");

    const plan: [string, string, string, string, string[], string[]][] = [
      ["TASK-001", "Create theme type definitions", "Stream-A", "foundation", [], ["src/types/theme.ts"]],
      ["TASK-002", "Implement theme provider", "Stream-A", "foundation", [], ["src/theme/"]],
      ["TASK-005", "Update Button component", "Stream-B", "parallel", ["Stream-A"], ["src/components/Button.tsx"]],
      ["TASK-006", "Update Input component", "Stream-B", "parallel", ["Stream-A"], ["src/components/Input.tsx"]],
      ["TASK-008", "Update Dashboard page", "Stream-C", "parallel", ["Stream-A"], ["./src/pages/Dashboard.tsx"]],
    ];
    for (const [id, title, streamId, streamPhase, dependencies, files] of plan) {
      const t = await a.ok("task_create", { id, title, prdId: prd.id, assignedAgent: "me", metadata: { streamId, streamName: streamId.replace("Stream-", "Stream "), streamPhase, dependencies, files } });
      expect(t).toMatchObject({ id, status: "pending", prdId: prd.id });
    }
    expect(await a.fail("task_update", { id: "TASK-9", status: "completed" })).toBe("Task not found: TASK-9");
    expect(await a.fail("task_update", { id: "TASK-001", status: "done" })).toStartWith('Invalid arguments for task_update: status: invalid status "done"');

    await a.ok("task_update", { id: "TASK-001", status: "completed", notes: "Types done" });
    await a.ok("task_update", { id: "TASK-002", status: "in_progress" });
    // Session B sees A's writes without delay.
    const list = await b.ok("stream_list");
    expect(list.totalStreams).toBe(3);
    expect(list.streams[0]).toMatchObject({
      streamId: "Stream-A",
      streamPhase: "foundation",
      totalTasks: 2,
      completedTasks: 1,
      inProgressTasks: 1,
      pendingTasks: 0,
      progressPercentage: 50,
      status: "in_progress",
      fileCount: 2,
    });
    expect((await b.ok("stream_list", { full: true })).streams[0].files).toEqual(["src/theme/", "src/types/theme.ts"]);
    expect(list.streams[1]).toMatchObject({ streamId: "Stream-B", dependencies: ["Stream-A"], totalTasks: 2, progressPercentage: 0, status: "pending" });

    await b.ok("task_update", { id: "TASK-002", status: "completed" });
    const g = await a.ok("stream_get", { streamId: "Stream-A" });
    expect(g).toMatchObject({ progressPercentage: 100, status: "completed", archived: false });
    expect(g.tasks.map((t: any) => t.status)).toEqual(["completed", "completed"]);

    const conflicts = await b.ok("stream_conflict_check", {
      streamId: "Stream-C",
      files: ["src/theme/dark.ts", "src/components/Button.tsx", join(repo, "src/pages/Dashboard.tsx")],
    });
    expect(conflicts).toEqual({
      hasConflicts: true,
      conflictingStreams: [
        { streamId: "Stream-A", streamName: "Stream A", conflictingFiles: ["src/theme/dark.ts"] },
        { streamId: "Stream-B", streamName: "Stream B", conflictingFiles: ["src/components/Button.tsx"] },
      ],
    });

    expect(await a.ok("stream_archive", { streamId: "Stream-A" })).toEqual({ streamId: "Stream-A", archived: true, tasksArchived: 2 });
    expect((await b.ok("stream_list")).streams.map((s: any) => s.streamId)).toEqual(["Stream-B", "Stream-C"]);
    expect((await b.ok("stream_conflict_check", { files: ["src/theme/dark.ts"] })).hasConflicts).toBe(false);
    expect(await b.ok("stream_unarchive", { streamId: "Stream-A" })).toEqual({ streamId: "Stream-A", archived: false, tasksUnarchived: 2 });
    expect((await a.ok("stream_list")).totalStreams).toBe(3);

    await b.ok("task_update", { id: "TASK-005", status: "in_progress", assignedAgent: "agent-b" });
    const hb = await b.ok("agent_heartbeat", { taskId: "TASK-005", agentId: "agent-b", notes: "Updating Button", phase: "implementation" });
    expect(hb).toMatchObject({ taskId: "TASK-005", agentId: "agent-b", streamId: "Stream-B", isActive: true, notes: "Updating Button" });
    expect(await a.ok("progress_summary")).toMatchObject({ tasks: { total: 5, completed: 2, in_progress: 1, pending: 2 }, prdCount: 1 });
    expect((await a.ok("prd_get", { id: prd.id })).taskCount).toBe(5);

    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    expect(a.stderr()).toContain(`orch mcp: serving ${shownDatabase(db)}`);
  });
});

describe("orch mcp (compiled binary, raw stdio)", () => {
  test("a garbage line gets a parse error and the server keeps serving; stdout is only JSON-RPC", async () => {
    const r = spawnRaw(join(tempDir(), "tasks.db"));
    r.send(
      INIT,
      INITIALIZED,
      "this is not json",
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":"task_get"}',
      "[1,2,3]",
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":7}}',
      call(4, "task_create", { title: "still serving" }),
      { jsonrpc: "2.0", id: 5, method: "tools/list" },
      { jsonrpc: "2.0", id: 6, method: "no/such/method" },
    );
    r.proc.stdin.end();
    const out = await r.finish();
    expect(out.code).toBe(0);
    expectAllJsonRpc(out);
    const nullIds = out.lines.filter((l) => l.id === null).map((l) => l.error.code);
    expect(nullIds.sort()).toEqual([-32700, -32600].sort());
    expect(byId(out.lines, 1).result.serverInfo.name).toBe("orch");
    expect(byId(out.lines, 2).error).toEqual({ code: -32602, message: "Invalid params: params must be an object" });
    expect(byId(out.lines, 3).error.code).toBe(-32602);
    expect(JSON.parse(byId(out.lines, 4).result.content[0].text)).toMatchObject({ title: "still serving", status: "pending" });
    expect(byId(out.lines, 5).result.tools.length).toBeGreaterThanOrEqual(21);
    expect(Buffer.byteLength(JSON.stringify(byId(out.lines, 5).result))).toBeLessThanOrEqual(12_000);
    expect(byId(out.lines, 6).error.code).toBe(-32601);
    expect(out.lines).toHaveLength(8);
    expect(out.stderr).toContain("orch mcp: stdin closed, exiting");
  });

  test("closing stdin ends the process promptly with exit 0, after answering what it received", async () => {
    const idle = spawnRaw(join(tempDir(), "tasks.db"));
    idle.proc.stdin.end();
    const a = await idle.finish();
    expect(a).toMatchObject({ code: 0, stdout: "" });
    expect(a.ms).toBeLessThan(2000);

    const busy = spawnRaw(join(tempDir(), "tasks.db"));
    busy.send(INIT, INITIALIZED, ...Array.from({ length: 50 }, (_, i) => call(10 + i, "task_create", { title: `t${i}` })));
    busy.proc.stdin.end();
    const b = await busy.finish();
    expect(b.code).toBe(0);
    expectAllJsonRpc(b);
    for (let i = 0; i < 50; i++) expect(byId(b.lines, 10 + i).result.isError).toBeUndefined();
  });

  test("several processes writing one DB at once lose nothing", async () => {
    const db = join(tempDir(), "tasks.db");
    const sessions = [0, 1, 2].map(() => spawnRaw(db));
    for (const [n, s] of sessions.entries()) {
      s.send(INIT, INITIALIZED, ...Array.from({ length: 30 }, (_, i) => call(100 + i, "task_create", { title: `p${n}-${i}`, metadata: { streamId: "Stream-A", files: [`src/${n}/${i}.ts`] } })));
    }
    for (const s of sessions) s.proc.stdin.end();
    const runs = await Promise.all(sessions.map((s) => s.finish()));
    for (const r of runs) {
      expect(r.code).toBe(0);
      for (let i = 0; i < 30; i++) expect(byId(r.lines, 100 + i).result.isError).toBeUndefined();
    }
    const check = spawnRaw(db);
    check.send(INIT, INITIALIZED, call(2, "stream_get", { streamId: "Stream-A" }));
    const stream = JSON.parse((await check.answer(2)).result.content[0].text);
    check.proc.stdin.end();
    await check.finish();
    expect(stream.totalTasks).toBe(90);
    expect(stream.files).toHaveLength(90);
  });

  test("an unterminated last line is still answered", async () => {
    const r = spawnRaw(join(tempDir(), "tasks.db"));
    r.proc.stdin.write(`${JSON.stringify(INIT)}\n${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" })}`);
    r.proc.stdin.end();
    const out = await r.finish();
    expect(byId(out.lines, 2)).toEqual({ jsonrpc: "2.0", id: 2, result: {} });
  });

  test("SIGTERM and SIGINT end it promptly with exit 0", async () => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      const r = spawnRaw(join(tempDir(), "tasks.db"));
      r.send(INIT, INITIALIZED);
      await r.answer(1); // the signal lands on a serving process
      const t0 = performance.now();
      r.proc.kill(sig);
      const out = await r.finish();
      expect(out.code).toBe(0);
      expect(performance.now() - t0).toBeLessThan(2000);
      expectAllJsonRpc(out);
      expect(out.stderr).toContain(`orch mcp: ${sig}, exiting`);
    }
  });

  test.skipIf(ON_POSTGRES)("a database that cannot be opened: exit 1, one stderr line, nothing on stdout, no hang on open stdin", async () => {
    const dir = tempDir();
    const r = spawnRaw(join(dir, "missing", "tasks.db"));
    const out = await r.finish(); // stdin left open on purpose
    expect(out.code).toBe(1);
    expect(out.stdout).toBe("");
    expect(out.stderr).toBe(`orch: cannot open database ${join(dir, "missing", "tasks.db")}: directory ${join(dir, "missing")} does not exist\n`);
  });

  test("--help prints the flags without starting a server", async () => {
    const r = spawnRaw(join(tempDir(), "tasks.db"), ["--help"]);
    const out = await r.finish(); // stdin left open: help must not wait for it
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("Usage: orch mcp [flags]");
  });
});
