/**
 * 100,000 tasks (1,000 streams × 100): every answer stays bounded.
 * - `orch prd import` of the plan, against raw bun:sqlite inserting the same task rows;
 * - `/health` p99 while 16 clients read task lists as fast as they can, against a bare Bun.serve
 *   answering /health beside 16 clients fetching a body of the same size;
 * - MCP `task_list` with default arguments (one warm `orch mcp` session): bytes and time, against
 *   a raw query of the same page;
 * - `orch task list` wall time, against a bare Bun script printing the same page.
 */
import { Database } from "bun:sqlite";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { syntheticPrd } from "../plan-fixture.ts";
import { median, percentile, round, row, type BenchContext, type BenchRow } from "../lib.ts";
import { RpcSession } from "../rpc-session.ts";

export const about =
  "At 100,000 tasks. Readers fetch /api/tasks with no limit (one 1,000-task page); the baseline server answers the same number of bytes from memory. The MCP call is task_list {} (50 summaries).";

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function run1(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  const p = Bun.spawn(argv, { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { code, stdout };
}

/** 16 readers fetching `url` in a loop while a 17th measures /health at `health`; p99 in ms. */
async function healthUnderLoad(url: string, health: string, seconds: number): Promise<{ p99: number; reads: number }> {
  let stop = false;
  let reads = 0;
  const readers = Array.from({ length: 16 }, async () => {
    while (!stop) {
      await (await fetch(url)).arrayBuffer();
      reads++;
    }
  });
  const lat: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    await (await fetch(health)).arrayBuffer();
    lat.push(performance.now() - t0);
    await Bun.sleep(5);
  }
  stop = true;
  await Promise.all(readers);
  return { p99: percentile(lat, 99), reads };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const dir = ctx.scratch();
  const prdFile = join(dir, "PRD.md");
  writeFileSync(prdFile, syntheticPrd(1000, 100));
  const db = join(dir, "tasks.db");
  const env = { ORCH_DB: db };
  const rows: BenchRow[] = [];

  // Import, against raw inserts of the same rows (id, title, stream, metadata JSON) in one transaction.
  const imp = await timed(() => run1([ctx.orchBin, "prd", "import", prdFile, "--max-parallel", "100000"], env));
  if (imp.value.code !== 0) throw new Error("prd import failed");
  // The same writes in raw SQL: task rows under orch's indexes, and one change-log row each.
  const raw = new Database(join(dir, "raw.db"));
  raw.run("PRAGMA journal_mode = WAL");
  raw.run("PRAGMA synchronous = NORMAL");
  raw.run(
    "CREATE TABLE t (id TEXT PRIMARY KEY, prd TEXT, parent TEXT, title TEXT, status TEXT, metadata TEXT, stream TEXT, archived INTEGER, created TEXT, updated TEXT)",
  );
  for (const cols of ["stream, status", "prd", "status", "parent", "archived"]) raw.run(`CREATE INDEX "t_${cols}" ON t (${cols})`);
  raw.run("CREATE TABLE e (id INTEGER PRIMARY KEY, kind TEXT, entity TEXT, op TEXT, payload TEXT, created TEXT)");
  const t0 = performance.now();
  const ins = raw.prepare("INSERT INTO t VALUES (?, 'PRD-1', NULL, ?, 'pending', ?, ?, 0, ?, ?)");
  const ev = raw.prepare("INSERT INTO e (kind, entity, op, payload, created) VALUES ('task', ?, 'create', ?, ?)");
  raw.transaction(() => {
    for (let s = 0; s < 1000; s++)
      for (let k = 0; k < 100; k++) {
        const now = new Date().toISOString();
        const id = `T${s * 100 + k}`;
        const metadata = JSON.stringify({ streamId: `S${s}`, streamName: `Stream ${s}`, streamPhase: "parallel", files: [`src/S${s}/f${k}.ts`] });
        ins.run(id, `Task ${k} of S${s}`, metadata, `S${s}`, now, now);
        ev.run(id, JSON.stringify({ id, title: `Task ${k} of S${s}`, status: "pending", metadata }), now);
      }
  })();
  const rawMs = performance.now() - t0;
  raw.close();
  rows.push(row({ entry: "scale", metric: "`orch prd import`, 1,000 streams × 100 tasks (wall time)", orch: round(imp.ms, 0), baseline: round(rawMs, 0), baselineName: "raw bun:sqlite: the same 100,000 task rows under the same indexes, and a change-log row each", unit: "ms", target: "recorded: one transaction, parse and validation included", pass: true }));

  // /health under 16 readers of task lists.
  const port = 20000 + Math.floor(Math.random() * 20000);
  const serve = Bun.spawn([ctx.orchBin, "serve", "--port", String(port)], { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "ignore", stderr: "ignore" });
  try {
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) break;
      await Bun.sleep(50);
    }
    const page = await (await fetch(`http://127.0.0.1:${port}/api/tasks`)).arrayBuffer();
    const seconds = ctx.quick ? 3 : 8;
    const orch = await healthUnderLoad(`http://127.0.0.1:${port}/api/tasks`, `http://127.0.0.1:${port}/health`, seconds);
    const body = new Uint8Array(page);
    const bare = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (new URL(req.url).pathname === "/health" ? Response.json({ status: "ok" }) : new Response(body)) });
    const base = await healthUnderLoad(`http://127.0.0.1:${bare.port}/tasks`, `http://127.0.0.1:${bare.port}/health`, seconds);
    bare.stop(true);
    rows.push(row({ entry: "scale", metric: `\`/health\` p99 while 16 clients read /api/tasks (${round(page.byteLength / 1024, 0)} KB pages; ${orch.reads} reads in ${seconds} s)`, orch: round(orch.p99, 2), baseline: round(base.p99, 2), baselineName: "bare Bun.serve: /health beside 16 clients fetching the same bytes", unit: "ms", target: "≤ 5×", maxRatio: 5 }));
  } finally {
    serve.kill();
  }

  // MCP task_list {} in a warm session.
  const session = RpcSession.spawn(ctx.orchBin, ["mcp"], { PATH: process.env.PATH ?? "", ...env });
  await session.initialize();
  try {
    for (let i = 0; i < 20; i++) await session.request("tools/call", { name: "task_list", arguments: {} });
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < (ctx.quick ? 50 : 200); i++) {
      const t0 = performance.now();
      const r = await session.request("tools/call", { name: "task_list", arguments: {} });
      times.push(performance.now() - t0);
      bytes = (r as { result?: { content?: { text?: string }[] } }).result?.content?.[0]?.text?.length ?? 0;
    }
    const q = new Database(db, { readonly: true });
    const stmt = q.prepare("SELECT * FROM tasks WHERE archived = 0 ORDER BY rowid LIMIT 51");
    const count = q.prepare("SELECT count(*) AS n FROM tasks WHERE archived = 0");
    const rawTimes: number[] = [];
    for (let i = 0; i < (ctx.quick ? 50 : 200); i++) {
      const t0 = performance.now();
      JSON.stringify({ tasks: stmt.all(), matching: count.get() });
      rawTimes.push(performance.now() - t0);
    }
    q.close();
    rows.push(row({ entry: "scale", metric: `MCP \`task_list {}\` answer size (${round(median(times), 2)} ms a call, warm)`, orch: bytes, baseline: 16_384, baselineName: "a 16 KB budget for an agent's default answer", unit: "B", target: "≤ 1×", maxRatio: 1 }));
    rows.push(row({ entry: "scale", metric: "MCP `task_list {}` round trip (median, warm session)", orch: round(median(times), 3), baseline: round(median(rawTimes), 3), baselineName: "the same 51-row page and its count, in-process (raw bun:sqlite)", unit: "ms", target: "≤ 5× (a process hop and JSON-RPC)", maxRatio: 5 }));
  } finally {
    session.close();
  }

  // orch task list, against a bare Bun script printing the same page from the same database.
  const script = join(dir, "list.ts");
  writeFileSync(
    script,
    `import { Database } from "bun:sqlite";\nconst db = new Database(${JSON.stringify(db)}, { readonly: true });\nconst rows = db.query("SELECT id, status, stream_id, assigned_agent, title FROM tasks WHERE archived = 0 ORDER BY rowid LIMIT 1000").all();\nconst n = db.query("SELECT count(*) AS n FROM tasks WHERE archived = 0").get();\nprocess.stdout.write(rows.map((r) => Object.values(r).join("  ")).join("\\n") + "\\n" + JSON.stringify(n) + "\\n");\n`,
  );
  const list: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < (ctx.quick ? 3 : 9); i++) {
    list.push((await timed(() => run1([ctx.orchBin, "task", "list"], env))).ms);
    bare.push((await timed(() => run1([process.execPath, script], env))).ms);
  }
  rows.push(row({ entry: "scale", metric: "`orch task list` at 100,000 tasks (the first 1,000 and a count; median wall time)", orch: round(median(list), 1), baseline: round(median(bare), 1), baselineName: "a bare Bun script printing the same page and count", unit: "ms", target: "≤ 3×", maxRatio: 3 }));
  return rows;
}
