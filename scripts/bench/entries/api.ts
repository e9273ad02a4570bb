/**
 * The REST API under load, each figure against a bare compiled `Bun.serve` answering the same
 * bytes in the same run (100 streams × 100 tasks):
 * - requests/s and p99 latency of /api/streams and /api/tasks?streamId=…;
 * - commit in another process → its SSE event arriving (baseline: that process pushing the same
 *   news through a bare SSE server by HTTP right after its commit);
 * - CPU used by an idle server holding open SSE clients.
 * Load comes from this process (fetch with bounded concurrency, loopback only, bounded in time).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sseMessages } from "../../../src/net/sse-client.ts";
import { insertTask } from "../../../src/core/tasks.ts";
import { openStore } from "../../../src/db/client.ts";
import { compileBare, median, percentile, row, type BenchContext, type BenchRow } from "../lib.ts";

const STREAMS = 100;
const TASKS_PER_STREAM = 100;
const CONCURRENCY = 16;

const BARE_SOURCE = (streamsFile: string, tasksFile: string, tasksPath: string) => `
import { readFileSync } from "node:fs";
const streams = readFileSync(${JSON.stringify(streamsFile)});
const tasks = readFileSync(${JSON.stringify(tasksFile)});
const headers = { "Content-Type": "application/json; charset=UTF-8" };
const enc = new TextEncoder();
const clients = new Set();
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req, srv) {
    const u = new URL(req.url);
    if (u.pathname === "/api/streams") return new Response(streams, { headers });
    if (u.pathname + u.search === ${JSON.stringify(tasksPath)}) return new Response(tasks, { headers });
    if (u.pathname === "/sse") {
      srv.timeout(req, 0);
      let ctl;
      const body = new ReadableStream({ start(c) { ctl = c; clients.add(c); c.enqueue(enc.encode("retry: 2000\\n\\n")); }, cancel() { clients.delete(ctl); } });
      return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
    }
    if (u.pathname === "/push") {
      const frame = enc.encode("event: task\\ndata: " + u.searchParams.get("d") + "\\n\\n");
      for (const c of clients) c.enqueue(frame);
      return new Response("ok");
    }
    return new Response("not found", { status: 404 });
  },
});
console.error("listening " + server.port);
`;

const WRITER_SOURCE = (root: string, db: string, samples: number, barePort: number) => `
import { openStore } from ${JSON.stringify(join(root, "src/db/client.ts"))};
import { updateTask } from ${JSON.stringify(join(root, "src/core/tasks.ts"))};
const store = await openStore(${JSON.stringify(db)});
const wall = () => performance.timeOrigin + performance.now();
for (let i = 0; i < ${samples}; i++) {
  await Bun.sleep(120 + Math.random() * 180); // off the poller's phase
  const id = "B-S" + String(i % ${STREAMS}).padStart(3, "0") + "-T000";
  await updateTask(store, { id, notes: "bench " + i });
  const t = wall();
  console.log(JSON.stringify({ id, i, t }));
  await fetch("http://127.0.0.1:${barePort}/push?d=" + encodeURIComponent(JSON.stringify({ i, t })));
}
await store.close();
`;

async function readLine(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<RegExpExecArray> {
  const reader = stream.getReader();
  let text = "";
  const dec = new TextDecoder();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value);
    const m = pattern.exec(text);
    if (m) {
      reader.releaseLock();
      return m;
    }
  }
  throw new Error(`server did not start: ${text}`);
}

async function load(url: string, seconds: number): Promise<{ rps: number; p99: number; p50: number }> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let failures = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status !== 200) failures++;
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  if (failures) throw new Error(`${failures} requests to ${url} failed`);
  return { rps: latencies.length / elapsed, p99: percentile(latencies, 99), p50: percentile(latencies, 50) };
}

/** CPU time (ms) a process has used, all threads, from /proc (ns precision). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
  }
  return ns / 1e6;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const dir = ctx.scratch();
  const db = join(dir, "tasks.db");
  const store = await openStore(db);
  await store.tx(async (tx) => {
    const now = store.now();
    for (let s = 0; s < STREAMS; s++) {
      const streamId = `Stream-${String(s).padStart(3, "0")}`;
      for (let t = 0; t < TASKS_PER_STREAM; t++) {
        await insertTask(tx, now, {
          id: `B-S${String(s).padStart(3, "0")}-T${String(t).padStart(3, "0")}`,
          title: `Task ${t} of ${streamId}`,
          description: "A task of moderate description length, as PRD imports produce them.",
          assignedAgent: "me",
          status: t < 40 ? "completed" : t < 45 ? "in_progress" : "pending",
          metadata: { streamId, streamName: `Stream ${s}`, streamPhase: s === 0 ? "foundation" : "parallel", files: [`src/s${s}/f${t}.ts`] },
        });
      }
    }
  });
  await store.close();

  const procs: Bun.Subprocess[] = [];
  try {
    const orch = Bun.spawn([ctx.orchBin, "serve", "--port", "0", "--db", db], { stdin: "ignore", stdout: "ignore", stderr: "pipe", cwd: dir });
    procs.push(orch);
    const orchPort = Number((await readLine(orch.stderr, /listening on 127\.0\.0\.1:(\d+)/))[1]);
    const orchUrl = `http://127.0.0.1:${orchPort}`;
    const tasksPath = "/api/tasks?streamId=Stream-050";
    const streamsBody = await (await fetch(`${orchUrl}/api/streams`)).arrayBuffer();
    const tasksBody = await (await fetch(`${orchUrl}${tasksPath}`)).arrayBuffer();
    writeFileSync(join(dir, "streams.json"), Buffer.from(streamsBody));
    writeFileSync(join(dir, "tasks.json"), Buffer.from(tasksBody));
    const bareBin = compileBare(BARE_SOURCE(join(dir, "streams.json"), join(dir, "tasks.json"), tasksPath), "bare-api");
    const bare = Bun.spawn([bareBin], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    procs.push(bare);
    const barePort = Number((await readLine(bare.stderr, /listening (\d+)/))[1]);
    const bareUrl = `http://127.0.0.1:${barePort}`;

    // Idle: 10 open event streams on each server, nothing changing.
    const idleClients: AbortController[] = [];
    for (let i = 0; i < 10; i++) {
      const c = new AbortController();
      idleClients.push(c);
      const r1 = await fetch(`${orchUrl}/api/events`, { signal: c.signal });
      void r1.body!.pipeTo(new WritableStream()).catch(() => {});
      const r2 = await fetch(`${bareUrl}/sse`, { signal: c.signal });
      void r2.body!.pipeTo(new WritableStream()).catch(() => {});
    }
    await Bun.sleep(1000); // let start-up work (JIT, GC) settle
    const idleSeconds = ctx.quick ? 2 : 5;
    const o0 = cpuMs(orch.pid);
    const b0 = cpuMs(bare.pid);
    await Bun.sleep(idleSeconds * 1000);
    const orchIdle = (cpuMs(orch.pid) - o0) / idleSeconds;
    const bareIdle = (cpuMs(bare.pid) - b0) / idleSeconds;
    for (const c of idleClients) c.abort();
    const idleRow = row({
      entry: "api",
      metric: "idle CPU with 10 open SSE clients",
      orch: round(orchIdle, 3),
      baseline: Math.max(round(bareIdle, 3), 0.001),
      baselineName: "bare Bun.serve, 10 idle SSE clients",
      unit: "ms CPU/s",
      target: "≤ 5 ms CPU/s (0.5 % of a core)",
      pass: orchIdle <= 5,
    });

    // Throughput and latency: warm both, then interleave rounds so drift hits both alike.
    const seconds = ctx.quick ? 1.5 : 3;
    const rounds = ctx.quick ? 1 : 2;
    const rows: BenchRow[] = [idleRow];
    for (const [name, path] of [
      ["/api/streams", "/api/streams"],
      ["/api/tasks?streamId=…", tasksPath],
    ] as const) {
      await load(orchUrl + path, 0.3);
      await load(bareUrl + path, 0.3);
      const o: { rps: number; p99: number }[] = [];
      const b: { rps: number; p99: number }[] = [];
      for (let r = 0; r < rounds; r++) {
        o.push(await load(orchUrl + path, seconds));
        b.push(await load(bareUrl + path, seconds));
      }
      const oRps = Math.max(...o.map((x) => x.rps));
      const bRps = Math.max(...b.map((x) => x.rps));
      const oP99 = Math.min(...o.map((x) => x.p99));
      const bP99 = Math.min(...b.map((x) => x.p99));
      rows.push(
        row({
          entry: "api",
          metric: `${name} requests/s (${CONCURRENCY} concurrent, ${STREAMS}×${TASKS_PER_STREAM} tasks)`,
          orch: Math.round(oRps),
          baseline: Math.round(bRps),
          baselineName: "bare Bun.serve, same bytes",
          unit: "req/s",
          higherIsBetter: true,
          target: name === "/api/streams" ? "≥ 0.5× bare" : "≥ 0.3× bare",
          minRatio: name === "/api/streams" ? 0.5 : 0.3,
        }),
        row({
          entry: "api",
          metric: `${name} p99 latency`,
          orch: round(oP99),
          baseline: round(bP99),
          baselineName: "bare Bun.serve, same bytes",
          unit: "ms",
          target: "≤ 3× bare",
          maxRatio: 3,
        }),
      );
    }

    // Commit in another process → SSE event.
    const samples = ctx.quick ? 12 : 40;
    const orchArrivals = new Map<string, number>();
    const bareArrivals = new Map<number, number>();
    const ac = new AbortController();
    const wall = () => performance.timeOrigin + performance.now();
    const orchSse = await fetch(`${orchUrl}/api/events`, { signal: ac.signal });
    const bareSse = await fetch(`${bareUrl}/sse`, { signal: ac.signal });
    void (async () => {
      for await (const m of sseMessages(orchSse.body!)) {
        if (m.event !== "task") continue;
        const d = JSON.parse(m.data) as { data: { id: string; notes: string } };
        orchArrivals.set(d.data.notes, wall());
      }
    })().catch(() => {});
    void (async () => {
      for await (const m of sseMessages(bareSse.body!)) bareArrivals.set((JSON.parse(m.data) as { i: number }).i, wall());
    })().catch(() => {});
    const writerFile = join(dir, "writer.ts");
    writeFileSync(writerFile, WRITER_SOURCE(ctx.root, db, samples, barePort));
    const writer = Bun.spawn([process.execPath, writerFile], { stdout: "pipe", stderr: "inherit" });
    procs.push(writer);
    const commits = (await new Response(writer.stdout).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; i: number; t: number });
    await Bun.sleep(500); // let the last events arrive
    ac.abort();
    const orchDelays = commits.map((c) => (orchArrivals.get(`bench ${c.i}`) ?? Number.NaN) - c.t);
    const bareDelays = commits.map((c) => (bareArrivals.get(c.i) ?? Number.NaN) - c.t);
    if (orchDelays.some(Number.isNaN)) throw new Error("some commits never arrived over orch's SSE");
    const orchMedian = median(orchDelays);
    rows.push(
      row({
        entry: "api",
        metric: `commit in another process → SSE event, median (p95 ${round(percentile(orchDelays, 95), 1)} ms)`,
        orch: round(orchMedian, 1),
        baseline: round(median(bareDelays.filter((x) => !Number.isNaN(x))), 2),
        baselineName: "writer pushes via bare SSE server",
        unit: "ms",
        target: "≤ 250 ms median",
        pass: orchMedian <= 250,
      }),
    );

    return rows;
  } finally {
    for (const p of procs) p.kill();
  }
}
