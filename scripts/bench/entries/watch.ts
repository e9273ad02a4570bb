/**
 * The monitor: render time for 100 streams (against the 60 Hz frame budget), the delay from a
 * commit in another process to the new frame (against a bare-Bun data_version poller), and the
 * CPU an idle monitor uses (against a bare Bun process with an idle timer).
 */
import { join } from "node:path";
import { renderFrame, type MonitorSnapshot } from "../../../src/watch/render.ts";
import { median, row, type BenchContext, type BenchRow, round } from "../lib.ts";

function snapshot(n: number): MonitorSnapshot {
  return {
    streams: Array.from({ length: n }, (_, i) => ({
      streamId: `Stream-${i}`,
      streamName: `Stream ${i}`,
      streamPhase: i < 2 ? "foundation" : "parallel",
      totalTasks: 20,
      completedTasks: i % 21,
      inProgressTasks: i % 3 ? 1 : 0,
      blockedTasks: 0,
      progressPercentage: Math.floor(((i % 21) * 1000) / 20) / 10,
      status: i % 21 === 20 ? "completed" : "in_progress",
      dependencies: i < 2 ? [] : ["Stream-0", "Stream-1"],
    })),
    activities: Array.from({ length: n / 2 }, (_, i) => ({
      agentId: `a${i}`,
      streamId: `Stream-${i * 2}`,
      taskId: `T${i}`,
      taskTitle: "Working on it",
      notes: null,
      isActive: true,
      lastHeartbeat: new Date().toISOString(),
    })),
    blockedTasks: [],
    failedStreams: [],
  };
}

/** Read a child's stdout line by line, resolving when a line matches. */
function lineWatcher(stream: ReadableStream<Uint8Array>) {
  const waiters: { re: RegExp; resolve: (t: number) => void }[] = [];
  (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) !== -1) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        for (const w of waiters.splice(0)) {
          if (w.re.test(line)) w.resolve(performance.now());
          else waiters.push(w);
        }
      }
    }
  })();
  return (re: RegExp) => new Promise<number>((resolve) => waiters.push({ re, resolve }));
}

function cpuTicks(pid: number): number {
  const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (1/100 s)
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];

  // 1. Render 100 streams.
  const snap = snapshot(100);
  const opts = { width: 120, color: true, refreshSeconds: 5, source: { kind: "api" as const, url: "x" }, now: Date.now() };
  for (let i = 0; i < 50; i++) renderFrame(snap, opts);
  const times: number[] = [];
  for (let i = 0; i < (ctx.quick ? 200 : 1000); i++) {
    const t0 = performance.now();
    renderFrame(snap, opts);
    times.push(performance.now() - t0);
  }
  rows.push(row({ entry: "watch", metric: "render 100 streams, median", orch: round(median(times), 3), baseline: 16.667, baselineName: "one 60 Hz frame", unit: "ms", target: "≤ 0.1× a frame", maxRatio: 0.1 }));

  // 2. Commit in another process → new frame on the monitor's stdout.
  const dir = ctx.scratch();
  const db = join(dir, "tasks.db");
  const env = { ...process.env, ORCH_DB: db, HTTP_API_PORT: "1", NO_COLOR: "1" } as Record<string, string>;
  Bun.spawnSync([ctx.orchBin, "task", "create", "--id", "T", "--title", "t", "--stream", "S"], { env });
  const watch = Bun.spawn([ctx.orchBin, "watch", "--refresh", "3600"], { env, stdout: "pipe", stderr: "ignore" });
  const next = lineWatcher(watch.stdout);
  await next(/S \(parallel\)/);
  const poller = Bun.spawn(
    [process.execPath, "-e", `const {Database}=require("bun:sqlite");const d=new Database(${JSON.stringify(db)});const q=d.query("PRAGMA data_version");let v=q.get().data_version;setInterval(()=>{const n=q.get().data_version;if(n!==v){v=n;console.log("changed "+n)}},200);console.log("ready")`],
    { stdout: "pipe", stderr: "ignore" },
  );
  const baseNext = lineWatcher(poller.stdout);
  await baseNext(/ready/);
  const orchDelay: number[] = [];
  const baseDelay: number[] = [];
  const statuses = ["completed", "in_progress"];
  for (let i = 0; i < (ctx.quick ? 6 : 20); i++) {
    const status = statuses[i % 2]!;
    const frame = next(status === "completed" ? /S \(parallel\).*COMPLETE/ : /S \(parallel\).*\(0\/1 tasks\)/);
    const changed = baseNext(/changed/);
    Bun.spawnSync([ctx.orchBin, "task", "update", "T", "--status", status, "--notes", String(i)], { env });
    const committed = performance.now();
    orchDelay.push((await frame) - committed);
    baseDelay.push((await changed) - committed);
    await Bun.sleep(50);
  }
  watch.kill();
  poller.kill();
  rows.push(row({ entry: "watch", metric: "commit in another process → new frame, median", orch: round(median(orchDelay), 1), baseline: round(median(baseDelay), 1), baselineName: "bare Bun data_version poller (200 ms)", unit: "ms", target: "≤ 300 ms", pass: median(orchDelay) <= 300 }));

  // 3. Idle CPU over a window.
  const windowMs = ctx.quick ? 5000 : 30000;
  const idle = Bun.spawn([ctx.orchBin, "watch", "--refresh", "5"], { env, stdout: "ignore", stderr: "ignore" });
  const bare = Bun.spawn([process.execPath, "-e", "setInterval(() => {}, 1000)"], { stdout: "ignore" });
  await Bun.sleep(1000);
  const o0 = cpuTicks(idle.pid);
  const b0 = cpuTicks(bare.pid);
  await Bun.sleep(windowMs);
  const oPct = ((cpuTicks(idle.pid) - o0) / 100 / (windowMs / 1000)) * 100;
  const bPct = ((cpuTicks(bare.pid) - b0) / 100 / (windowMs / 1000)) * 100;
  idle.kill();
  bare.kill();
  rows.push(row({ entry: "watch", metric: `idle monitor CPU over ${windowMs / 1000} s`, orch: round(oPct), baseline: round(bPct), baselineName: "bare Bun idle timer", unit: "% of a core", target: "< 1 % of a core", pass: oPct < 1 }));
  return rows;
}
