/**
 * orch on PostgreSQL (ORCH_DB=postgres://…), on a throwaway server this entry starts itself
 * (scripts/pg.ts: fsync and synchronous_commit off, so no disk flush is counted; ORCH_TEST_PG_URL's
 * server instead when that is set) and stops at the end. Without PostgreSQL server binaries it
 * answers "n/a" rows instead of failing.
 * - Throughput: 16 `orch mcp` sessions (the compiled binary, ORCH_DB a fresh database's URL) each
 *   make N note updates (`task_update`) on a task of its own, one call in flight each, driven from
 *   this process by the lean JSON-RPC client (scripts/bench/rpc-session.ts); against 16 bun
 *   processes each making N raw writes with Bun's `SQL` on the same schema: BEGIN; UPDATE the
 *   task's notes and updated_at RETURNING the row; INSERT it as a change-log row into `events`;
 *   COMMIT (no sequencing, no JSON-RPC, no validation). Every process first makes untimed updates,
 *   then all start together. Fresh database each run, the order alternated, median of the rounds.
 *   Also CPU per update from /proc: the writing processes (for orch, plus this process driving
 *   them) and their server backends — steadier than the rates when something else runs.
 * - Latency: commit in one process → its SSE event seen by `orch serve` in another. The writer is
 *   an `orch mcp` session (an agent's); the clock starts when its task_update answer — sent once
 *   the transaction has committed — reaches this process, and stops when the `task` event
 *   carrying that note arrives on `GET /api/events` from `orch serve`, both on this process's
 *   clock. One update at a time, a random pause between. Baseline: a bun process committing the
 *   raw write with `pg_notify` in the same transaction, relayed by a bare `Bun.serve` that LISTENs
 *   and writes each notification to its SSE clients, timed the same way: the floor of that path.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { sseMessages } from "../../../src/net/sse-client.ts";
import { startTestPostgres, type TestPostgres } from "../../pg.ts";
import { RpcSession } from "../rpc-session.ts";
import { lineReader, median, percentile, round, row, type BenchContext, type BenchRow } from "../lib.ts";

const PROCESSES = 16;

export const about =
  "On a throwaway PostgreSQL the entry starts (scripts/pg.ts; fsync and synchronous_commit off, so no disk flush is " +
  "counted). Throughput: 16 `orch mcp` sessions with ORCH_DB a fresh database's URL, each sent `task_update` (a note on a " +
  "task of its own) 200 times by a lean JSON-RPC client in the bench process, one call in flight each; baseline: 16 bun " +
  "processes each doing BEGIN, UPDATE the task RETURNING it, INSERT it into `events`, COMMIT with Bun's `SQL` on the same " +
  "schema, 200 times. Every process first makes 100 untimed updates; fresh database per run, order alternated, median " +
  "of 3. CPU per update (from /proc: the writing processes, for orch with the driving client, and their server backends) " +
  "is in the metric: steadier than the rates. Latency: an `orch mcp` session commits a note update; the clock runs from " +
  "its answer reaching the bench to the `task` event arriving over `GET /api/events` from `orch serve` in another process " +
  "(30 updates, one at a time); baseline: a bun process committing the raw write with `pg_notify` in the same " +
  "transaction, relayed to SSE by a bare `Bun.serve` LISTENing. The machine has 2 cores shared by the server, every " +
  "client and the bench, and other sessions' test suites often run meanwhile: rates have moved by a third between " +
  "rounds and nearly doubled between invocations (in the runs made while writing the entry: orch 183–561, raw " +
  "1,871–3,630 updates/s, the ratio 0.11–0.22, before transactions kept their prepared queries); the ratio within one run " +
  "and the CPU per update are the steadier figures.";

/** The raw writer: argv URL TASK N WARM; "ready" once warm, one stdin line starts it, "done" at the end; it exits when stdin closes. */
const RAW_WRITER = `
import { SQL } from "bun";
const [url, task, n, warm] = process.argv.slice(2);
const sql = new SQL(url, { max: 1, adapter: "postgres" });
const conn = await sql.reserve();
async function write(i) {
  await conn\`BEGIN\`;
  const [row] = await conn\`UPDATE tasks SET notes = \${"raw " + i}, updated_at = \${new Date().toISOString()} WHERE id = \${task} RETURNING *\`;
  if (!row) throw new Error("no task " + task);
  await conn\`INSERT INTO events (kind, entity_id, op, payload) VALUES ('task', \${task}, 'update', \${sql.json(row)})\`;
  await conn\`COMMIT\`;
}
for (let i = 0; i < Number(warm); i++) await write(-i);
console.log("ready");
for await (const _ of console) break; // the go signal
for (let i = 1; i <= Number(n); i++) await write(i);
console.log("done");
for await (const _ of console) break; // stdin closing: after the bench has read the CPU times
conn.release();
await sql.close();
`;

/** The raw notifier for the latency baseline: one stdin line "i" → commit the write with pg_notify, answer "i". */
const RAW_NOTIFIER = `
import { SQL } from "bun";
const [url, task, channel] = process.argv.slice(2);
const sql = new SQL(url, { max: 1, adapter: "postgres" });
const conn = await sql.reserve();
console.log("ready");
for await (const line of console) {
  const i = line.trim();
  if (!i) break;
  await conn\`BEGIN\`;
  const [row] = await conn\`UPDATE tasks SET notes = \${"raw " + i}, updated_at = \${new Date().toISOString()} WHERE id = \${task} RETURNING *\`;
  await conn\`INSERT INTO events (kind, entity_id, op, payload) VALUES ('task', \${task}, 'update', \${sql.json(row)})\`;
  await conn\`SELECT pg_notify(\${channel}, \${i})\`;
  await conn\`COMMIT\`;
  console.log(i);
}
conn.release();
await sql.close();
`;

/** The bare relay for the latency baseline: LISTEN, and each notification goes out as an SSE frame to every client of GET /sse. */
const RAW_RELAY = `
import { SQL } from "bun";
const [url, channel] = process.argv.slice(2);
const sql = new SQL(url, { max: 1, adapter: "postgres" });
const enc = new TextEncoder();
const clients = new Set();
await sql.listen(channel, (payload) => {
  const frame = enc.encode("event: task\\ndata: " + payload + "\\n\\n");
  for (const c of clients) c.enqueue(frame);
});
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req, srv) {
    if (new URL(req.url).pathname !== "/sse") return new Response("not found", { status: 404 });
    srv.timeout(req, 0);
    let ctl;
    const body = new ReadableStream({ start(c) { ctl = c; clients.add(c); c.enqueue(enc.encode("retry: 2000\\n\\n")); }, cancel() { clients.delete(ctl); } });
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  },
});
console.error("listening on 127.0.0.1:" + server.port);
`;

function env(dir: string, db: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ORCH_DB: db };
}


async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU ms (user + system, every thread) a process has used so far, from /proc; 0 once it is gone. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * (1000 / 100); // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** The pids of this process's children running `bin`. */
function childrenRunning(bin: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0")[0] === bin) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

interface Database {
  url: string;
  name: string;
}

class Server {
  private count = 0;
  constructor(
    private readonly pg: TestPostgres,
    private readonly admin: SQL,
  ) {}

  /** A fresh database, its schema made by orch and `tasks` tasks T1… created through one `orch mcp` session. */
  async fresh(ctx: BenchContext, dir: string, tasks: number): Promise<Database> {
    const name = `orch_bench_${process.pid}_${++this.count}`;
    await this.admin.unsafe(`CREATE DATABASE "${name}"`);
    const u = new URL(this.pg.url);
    u.pathname = `/${name}`;
    const url = u.toString();
    const s = RpcSession.spawn(ctx.orchBin, ["mcp"], env(dir, url));
    try {
      await s.initialize();
      for (let k = 1; k <= tasks; k++) {
        if (await s.call("task_create", { id: `T${k}`, title: `load task ${k}`, metadata: { streamId: `S${k % 4}` } })) throw new Error(`task_create T${k} failed`);
      }
    } finally {
      s.close();
      await s.exited;
    }
    return { url, name };
  }

  /** CPU ms used so far by each server backend connected to that database. */
  async backendCpu(db: Database): Promise<Map<number, number>> {
    const rows: { pid: number }[] = await this.admin`SELECT pid FROM pg_stat_activity WHERE datname = ${db.name}`;
    return new Map(rows.map((r) => [Number(r.pid), cpuMs(Number(r.pid))]));
  }

  /** CPU ms the database's backends used since `before` (backends opened meanwhile count in full). */
  async backendCpuSince(db: Database, before: Map<number, number>): Promise<number> {
    let ms = 0;
    for (const [pid, now] of await this.backendCpu(db)) ms += now - (before.get(pid) ?? 0);
    return ms;
  }
}

interface Throughput {
  perSec: number;
  /** CPU ms per update: the writing processes (for orch, with the client driving them), and their server backends. */
  clientMs: number;
  serverMs: number;
}

async function orchRun(ctx: BenchContext, server: Server, updates: number, warmUp: number): Promise<Throughput> {
  const dir = ctx.scratch();
  const db = await server.fresh(ctx, dir, PROCESSES);
  const sessions = Array.from({ length: PROCESSES }, () => RpcSession.spawn(ctx.orchBin, ["mcp"], env(dir, db.url)));
  try {
    await Promise.all(sessions.map((s) => s.initialize()));
    const pids = childrenRunning(ctx.orchBin);
    if (pids.length !== PROCESSES) throw new Error(`found ${pids.length} orch mcp processes, not ${PROCESSES}`);
    let errors = 0;
    const lane = (label: string, n: number) =>
      Promise.all(
        sessions.map(async (s, k) => {
          for (let i = 1; i <= n; i++) if (await s.call("task_update", { id: `T${k + 1}`, notes: `${label} ${i}` })) errors++;
        }),
      );
    await lane("warm", warmUp);
    const serverBefore = await server.backendCpu(db);
    const clientBefore = pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const driverBefore = process.cpuUsage();
    const t0 = performance.now();
    await lane("orch", updates);
    const ms = performance.now() - t0;
    const driver = process.cpuUsage(driverBefore);
    const clientCpu = pids.reduce((sum, pid) => sum + cpuMs(pid), 0) - clientBefore + (driver.user + driver.system) / 1000;
    const serverCpu = await server.backendCpuSince(db, serverBefore);
    if (errors) throw new Error(`${errors} task_update calls failed`);
    const n = PROCESSES * updates;
    return { perSec: (n * 1000) / ms, clientMs: clientCpu / n, serverMs: serverCpu / n };
  } finally {
    for (const s of sessions) s.close();
    await Promise.all(sessions.map((s) => s.exited));
  }
}

async function rawRun(ctx: BenchContext, server: Server, updates: number, warmUp: number): Promise<Throughput> {
  const dir = ctx.scratch();
  const db = await server.fresh(ctx, dir, PROCESSES);
  const script = join(dir, "raw-writer.ts");
  writeFileSync(script, RAW_WRITER);
  const procs = Array.from({ length: PROCESSES }, (_, k) =>
    Bun.spawn([process.execPath, script, db.url, `T${k + 1}`, String(updates), String(warmUp)], { env: env(dir, db.url), stdin: "pipe", stdout: "pipe", stderr: "inherit" }),
  );
  try {
    const lines = procs.map((p) => lineReader(p.stdout));
    const expect = async (next: () => Promise<string>, want: string) => {
      const got = await next();
      if (got !== want) throw new Error(`raw writer said "${got}", not "${want}"`);
    };
    await Promise.all(lines.map((l) => expect(l, "ready")));
    const serverBefore = await server.backendCpu(db);
    const clientBefore = procs.reduce((sum, p) => sum + cpuMs(p.pid), 0);
    const t0 = performance.now();
    for (const p of procs) {
      p.stdin.write("go\n");
      p.stdin.flush();
    }
    await Promise.all(lines.map((l) => expect(l, "done")));
    const ms = performance.now() - t0;
    // The writers wait for their stdin to close before they exit: their CPU is read first.
    const clientCpu = procs.reduce((sum, p) => sum + cpuMs(p.pid), 0) - clientBefore;
    const serverCpu = await server.backendCpuSince(db, serverBefore);
    for (const p of procs) p.stdin.end();
    const codes = await Promise.all(procs.map((p) => p.exited));
    if (codes.some((c) => c !== 0)) throw new Error(`raw writer exited ${codes.join(",")}`);
    const n = PROCESSES * updates;
    return { perSec: (n * 1000) / ms, clientMs: clientCpu / n, serverMs: serverCpu / n };
  } finally {
    for (const p of procs) p.kill();
  }
}

interface Latency {
  orch: number[];
  raw: number[];
}

/** Start a server process and read its port from the "listening on 127.0.0.1:PORT" line on stderr. */
async function listening(cmd: string[], opts: { env: Record<string, string>; cwd: string }): Promise<{ proc: Bun.Subprocess; port: number }> {
  const proc = Bun.spawn(cmd, { ...opts, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const line = await within(lineReader(proc.stderr)(), 15_000, `${cmd.join(" ")} start`).catch((err) => {
    proc.kill();
    throw err;
  });
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
  if (!port) {
    proc.kill();
    throw new Error(`${cmd.join(" ")} did not start: ${line}`);
  }
  return { proc, port };
}

/**
 * Follow an SSE stream, calling `seen` with each `task` event's data. Resolves once the stream is
 * open, and with `snapshot`, once its snapshot has arrived (orch subscribes to changes just before sending it).
 */
async function follow(url: string, signal: AbortSignal, seen: (data: string) => void, opts: { snapshot?: boolean } = {}): Promise<void> {
  const res = await fetch(url, { signal, headers: { accept: "text/event-stream" } });
  if (!res.ok || !res.body) throw new Error(`${url} answered HTTP ${res.status}`);
  let ready = () => {};
  const snapshot = new Promise<void>((resolve) => (ready = resolve));
  void (async () => {
    for await (const m of sseMessages(res.body!)) {
      if (m.event === "snapshot") ready();
      else if (m.event === "task") seen(m.data);
    }
  })().catch(() => {});
  if (opts.snapshot) await within(snapshot, 10_000, `${url} snapshot`);
}

async function latency(ctx: BenchContext, server: Server, samples: number): Promise<Latency> {
  const dir = ctx.scratch();
  const { url: db } = await server.fresh(ctx, dir, 2);
  const procs: Bun.Subprocess[] = [];
  const ac = new AbortController();
  let writer: RpcSession | undefined;
  try {
    // Arrivals by key (orch: the note; bare: the number), each awaited by at most one waiter.
    const arrived = new Map<string, number>();
    const waiting = new Map<string, (t: number) => void>();
    const arrive = (key: string) => {
      const t = performance.now();
      arrived.set(key, t);
      waiting.get(key)?.(t);
    };
    const arrival = (key: string) => {
      const t = arrived.get(key);
      return t !== undefined ? Promise.resolve(t) : new Promise<number>((resolve) => waiting.set(key, resolve));
    };

    const orchServe = await listening([ctx.orchBin, "serve", "--port", "0"], { env: env(dir, db), cwd: dir });
    procs.push(orchServe.proc);
    await follow(`http://127.0.0.1:${orchServe.port}/api/events`, ac.signal, (data) => {
      const notes = (JSON.parse(data) as { data: { notes?: string } }).data.notes;
      if (notes) arrive(notes);
    }, { snapshot: true });

    const channel = "orch_bench_notify";
    const relayScript = join(dir, "raw-relay.ts");
    writeFileSync(relayScript, RAW_RELAY);
    const relay = await listening([process.execPath, relayScript, db, channel], { env: env(dir, db), cwd: dir });
    procs.push(relay.proc);
    await follow(`http://127.0.0.1:${relay.port}/sse`, ac.signal, (data) => arrive(`raw ${data}`));

    const notifierScript = join(dir, "raw-notifier.ts");
    writeFileSync(notifierScript, RAW_NOTIFIER);
    const raw = Bun.spawn([process.execPath, notifierScript, db, "T2", channel], { env: env(dir, db), stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    procs.push(raw);
    const rawLine = lineReader(raw.stdout);
    if ((await within(rawLine(), 10_000, "raw notifier start")) !== "ready") throw new Error("raw notifier did not start");

    writer = RpcSession.spawn(ctx.orchBin, ["mcp"], env(dir, db));
    await writer.initialize();
    const w = writer;
    // Each clock starts when the writer's answer — sent once its commit has returned — reaches this process.
    const orchCommit = async (note: string) => {
      if (await w.call("task_update", { id: "T1", notes: note })) throw new Error("task_update failed");
      return performance.now();
    };
    const rawCommit = async (i: number) => {
      raw.stdin.write(`${i}\n`);
      raw.stdin.flush();
      if ((await rawLine()) !== String(i)) throw new Error("raw notifier out of step");
      return performance.now();
    };

    const result: Latency = { orch: [], raw: [] };
    const warm = ctx.quick ? 5 : 10;
    for (let i = -warm; i < samples; i++) {
      await Bun.sleep(50 + Math.random() * 100);
      const note = `lat ${i}`;
      const o0 = await orchCommit(note);
      const o1 = await within(arrival(note), 10_000, `orch's SSE event for "${note}"`);
      await Bun.sleep(50 + Math.random() * 100);
      const r0 = await rawCommit(i);
      const r1 = await within(arrival(`raw ${i}`), 10_000, `the relay's SSE event ${i}`);
      if (i >= 0) {
        result.orch.push(o1 - o0);
        result.raw.push(r1 - r0);
      }
    }
    raw.stdin.write("\n");
    raw.stdin.end();
    return result;
  } finally {
    ac.abort();
    writer?.close();
    await writer?.exited;
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.exited));
  }
}

function unavailable(updates: number, samples: number): BenchRow[] {
  const na = "n/a: no PostgreSQL";
  return [
    [`task updates/s, ${PROCESSES} orch mcp sessions × ${updates}`, "≥ 25 % of raw"],
    [`commit → SSE event at orch serve, median of ${samples}`, "≤ 50 ms median"],
    [`commit → SSE event at orch serve, p90 of ${samples}`, "none: shown"],
  ].map(([metric, target]) => ({
    entry: "postgres",
    metric: `${metric} (${na}: no initdb/pg_ctl found)`,
    orch: Number.NaN,
    baseline: Number.NaN,
    baselineName: na,
    unit: "",
    ratio: Number.NaN,
    target: target!,
    pass: false,
  }));
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const updates = ctx.quick ? 50 : 200;
  const warmUp = ctx.quick ? 20 : 100;
  const rounds = ctx.quick ? 1 : 3;
  const samples = ctx.quick ? 10 : 30;
  const pg = await startTestPostgres();
  if (!pg) return unavailable(updates, samples);
  const admin = new SQL(pg.url, { max: 1, adapter: "postgres" });
  try {
    const server = new Server(pg, admin);
    const orch: Throughput[] = [];
    const raw: Throughput[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        raw.push(await rawRun(ctx, server, updates, warmUp));
        orch.push(await orchRun(ctx, server, updates, warmUp));
      } else {
        orch.push(await orchRun(ctx, server, updates, warmUp));
        raw.push(await rawRun(ctx, server, updates, warmUp));
      }
      process.stderr.write(`  round ${r + 1}: orch ${Math.round(orch[r]!.perSec)} updates/s, raw ${Math.round(raw[r]!.perSec)} updates/s\n`);
    }
    const lat = await latency(ctx, server, samples);
    const version = String((await admin`SHOW server_version`)[0]?.server_version ?? "").split(" ")[0];
    const cpu = (xs: Throughput[]) => `${round(median(xs.map((x) => x.clientMs)), 2)} ms client + ${round(median(xs.map((x) => x.serverMs)), 2)} ms server`;
    const p90 = (xs: number[]) => round(percentile(xs, 90), 1);
    const orchMedian = round(median(lat.orch), 1);
    const rawName = `raw Bun SQL, ${PROCESSES} processes: BEGIN, UPDATE the task RETURNING it, INSERT it into events, COMMIT`;
    const notifyName = "raw write + pg_notify committed by a bun process → bare Bun.serve relay (LISTEN → SSE)";
    return [
      row({
        entry: "postgres",
        metric:
          `task updates/s on PostgreSQL ${version}, ${PROCESSES} orch mcp sessions × ${updates} task_update (a note), one call in flight each, ` +
          `warm (${warmUp} before), median of ${rounds} (runs ${orch.map((x) => Math.round(x.perSec)).join(", ")} vs ${raw.map((x) => Math.round(x.perSec)).join(", ")}; ` +
          `CPU per update ${cpu(orch)} vs ${cpu(raw)})`,
        orch: Math.round(median(orch.map((x) => x.perSec))),
        baseline: Math.round(median(raw.map((x) => x.perSec))),
        baselineName: rawName,
        unit: "updates/s",
        target: "≥ 25 % of raw",
        minRatio: 0.25,
        higherIsBetter: true,
      }),
      row({
        entry: "postgres",
        metric: `commit by an orch mcp session → its SSE event at orch serve (another process), median of ${samples} (p90 ${p90(lat.orch)} ms vs ${p90(lat.raw)} ms)`,
        orch: orchMedian,
        baseline: round(median(lat.raw), 2),
        baselineName: notifyName,
        unit: "ms",
        target: "≤ 50 ms median",
        pass: orchMedian <= 50,
      }),
      row({
        entry: "postgres",
        metric: `commit by an orch mcp session → its SSE event at orch serve, p90 of ${samples}`,
        orch: p90(lat.orch),
        baseline: p90(lat.raw),
        baselineName: notifyName,
        unit: "ms",
        target: "none: shown",
      }),
    ];
  } finally {
    await admin.close();
    await pg.stop();
  }
}
