/**
 * `orch mcp` start-up as an agent session sees it: spawn → initialize → tools/list answered,
 * against the same SDK server run by Node (scripts/bench/fixtures/mcp-node-server.mjs) serving
 * orch's own tool list. Also orch's peak memory (VmHWM) over the handshake.
 * Both run in a git repo with the default database location, as from a `.mcp.json`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
  ];
}
