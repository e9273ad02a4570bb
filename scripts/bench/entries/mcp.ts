/**
 * `orch mcp` start-up as an agent session sees it: spawn → initialize → tools/list answered,
 * against the same SDK server run by Node (scripts/bench/fixtures/mcp-node-server.mjs) serving
 * orch's own tool list. Also orch's peak memory (VmHWM) over the handshake.
 * Both run in a git repo with the default database location, as from a `.mcp.json`.
 *
 * Then a call's round trip in a warm session (a read and a write, one call at a time), against a
 * bare-Bun stdio JSON-RPC server answering the same number of bytes (fixtures/jsonrpc-echo.ts).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RpcSession } from "../rpc-session.ts";
import { median, row, type BenchContext, type BenchRow, round } from "../lib.ts";

const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } },
};
const HANDSHAKE =
  [INIT, { jsonrpc: "2.0", method: "notifications/initialized" }, { jsonrpc: "2.0", id: 2, method: "tools/list" }]
    .map((m) => JSON.stringify(m))
    .join("\n") + "\n";

interface Handshake {
  ms: number;
  peakKiB: number;
  tools: unknown[];
  instructions: string;
}

/** One session: time until the tools/list answer, peak RSS while alive, then stdin closes. */
async function handshake(cmd: string[], opts: { cwd: string; env: Record<string, string> }): Promise<Handshake> {
  const t0 = performance.now();
  const p = Bun.spawn(cmd, { cwd: opts.cwd, env: opts.env, stdin: "pipe", stdout: "pipe", stderr: "ignore" });
  p.stdin.write(HANDSHAKE);
  p.stdin.flush();
  const dec = new TextDecoder();
  let buf = "";
  let answer: { result?: { tools: unknown[] } } | undefined;
  let instructions = "";
  const reader = p.stdout.getReader();
  const deadline = setTimeout(() => p.kill(), 15_000);
  while (!answer) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} closed stdout before answering tools/list`);
    buf += dec.decode(value, { stream: true });
    for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
      const msg = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (msg.id === 1) instructions = msg.result?.instructions ?? "";
      if (msg.id === 2) answer = msg;
    }
  }
  const ms = performance.now() - t0;
  const status = await Bun.file(`/proc/${p.pid}/status`).text();
  const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  p.stdin.end();
  const code = await p.exited;
  clearTimeout(deadline);
  reader.releaseLock();
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code} after stdin closed`);
  if (!answer.result) throw new Error(`tools/list failed: ${JSON.stringify(answer)}`);
  return { ms, peakKiB, tools: answer.result.tools, instructions };
}

/** Round trips of `call` in µs, sorted, after `warm` untimed ones. */
async function roundTrips(call: () => Promise<unknown>, warm: number, timed: number): Promise<number[]> {
  for (let i = 0; i < warm; i++) await call();
  const us: number[] = [];
  for (let i = 0; i < timed; i++) {
    const t0 = performance.now();
    await call();
    us.push((performance.now() - t0) * 1000);
  }
  return us.sort((a, b) => a - b);
}

async function callRows(ctx: BenchContext, dir: string, env: Record<string, string>): Promise<BenchRow[]> {
  const db = join(dir, "calls.db");
  const made = Bun.spawnSync([ctx.orchBin, "task", "create", "--db", db, "--id", "T1", "--title", "a task an agent works on", "--stream", "Stream-A"], { env });
  if (made.exitCode !== 0) throw new Error(`task create failed: ${made.stderr.toString()}`);
  const warm = ctx.quick ? 500 : 2000;
  const timed = ctx.quick ? 1000 : 5000;
  const rows: BenchRow[] = [];
  for (const [tool, args] of [
    ["task_get", { id: "T1" }],
    ["task_update", { id: "T1", notes: "half way there" }],
  ] as const) {
    const orch = RpcSession.spawn(ctx.orchBin, ["mcp", "--db", db], env);
    await orch.initialize();
    const answerBytes = (await orch.request("tools/call", { name: tool, arguments: args })).result?.content?.[0]?.text?.length ?? 0;
    const bare = RpcSession.spawn(process.execPath, [join(ctx.root, "scripts", "bench", "fixtures", "jsonrpc-echo.ts"), String(answerBytes)], env);
    await bare.initialize();
    let failures = 0;
    const o = await roundTrips(async () => (failures += (await orch.call(tool, args)) ? 1 : 0), warm, timed);
    const b = await roundTrips(() => bare.call(tool, args), warm, timed);
    orch.close();
    bare.close();
    await Promise.all([orch.exited, bare.exited]);
    if (failures) throw new Error(`${failures} ${tool} calls failed`);
    const p99 = (xs: number[]) => Math.round(xs[Math.floor(xs.length * 0.99)]!);
    rows.push(
      row({
        entry: "mcp",
        metric: `${tool} round trip, warm session, one call at a time, median (p99 ${p99(o)} µs vs ${p99(b)} µs)`,
        orch: Math.round(median(o)),
        baseline: Math.round(median(b)),
        baselineName: `bare Bun stdio JSON-RPC server, same ${answerBytes}-character answer`,
        unit: "µs",
        target: "≤ 3× bare",
        maxRatio: 3,
      }),
    );
  }
  return rows;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const dir = ctx.scratch();
  const repo = join(dir, "project");
  mkdirSync(repo);
  Bun.spawnSync(["git", "init", "-q", repo]);
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, TASK_DB_PATH: join(dir, "tasks") };
  const orch = [ctx.orchBin, "mcp"];

  // Orch's own tool list, served verbatim by the Node baseline; the first run also creates the DB.
  const first = await handshake(orch, { cwd: repo, env });
  const toolsFile = join(dir, "tools.json");
  writeFileSync(toolsFile, JSON.stringify(first.tools));
  const node = ["node", join(ctx.root, "scripts", "bench", "fixtures", "mcp-node-server.mjs"), toolsFile, first.instructions];
  const warm = await handshake(node, { cwd: repo, env });
  if (JSON.stringify(warm.tools) !== JSON.stringify(first.tools)) throw new Error("baseline serves a different tool list");

  const runs = ctx.quick ? 8 : 30;
  const o: Handshake[] = [];
  const n: Handshake[] = [];
  for (let i = 0; i < runs; i++) {
    o.push(await handshake(orch, { cwd: repo, env }));
    n.push(await handshake(node, { cwd: repo, env }));
  }
  const r2 = (x: number) => round(x, 2);
  const mib = (kib: number) => round(kib / 1024, 1);
  const orchPeak = mib(Math.max(...o.map((h) => h.peakKiB)));
  return [
    row({
      entry: "mcp",
      metric: "spawn → initialize → tools/list answered, median",
      orch: r2(median(o.map((h) => h.ms))),
      baseline: r2(median(n.map((h) => h.ms))),
      baselineName: `same SDK server on Node ${Bun.spawnSync(["node", "--version"]).stdout.toString().trim()}`,
      unit: "ms",
      target: "≤ ⅓ of Node",
      maxRatio: 1 / 3,
    }),
    row({
      entry: "mcp",
      metric: "peak RSS over the handshake (VmHWM, max of runs)",
      orch: orchPeak,
      baseline: mib(Math.max(...n.map((h) => h.peakKiB))),
      baselineName: "same SDK server on Node",
      unit: "MiB",
      target: "orch ≤ 60 MiB",
      pass: orchPeak <= 60,
    }),
    ...(await callRows(ctx, dir, env)),
  ];
}
