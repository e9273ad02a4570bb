/**
 * `orch start`: how soon a parallel stream starts once the foundation is done. On a real repository
 * with the simulated agent (headless), per run:
 * - noticed: the foundation's last task (the agent's timeline, just before its commit) → orch
 *   printing "✓ Stream-A complete" (orch's change feed);
 * - started: the same moment → the first parallel agent's own "start" record (includes creating
 *   its git worktree and starting the agent process).
 * Baseline, in the same runs: a bare Bun process polling the database's data_version every 250 ms,
 * the first change it sees after that moment. (The guide's start-streams.py polled every 30 s.)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { median, row, type BenchContext, type BenchRow } from "../lib.ts";

function sh(cwd: string, cmd: string[], env?: Record<string, string>): void {
  const p = Bun.spawnSync(cmd, { cwd, env: { ...process.env, ...env }, stdout: "ignore", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${p.exitCode}: ${p.stderr.toString()}`);
}

const PRD = `# Initiative: Bench Start

## Foundation Phase
### Stream-A: Core
- TASK-001: one
- TASK-002: two

## Parallel Phase
### Stream-B: API
- TASK-003: three
### Stream-C: UI
- TASK-004: four
`;

/** Lines of a child's stdout with the wall-clock time each arrived; `first(re)` awaits one. */
function timedLines(stream: ReadableStream<Uint8Array>) {
  const out: { line: string; t: number }[] = [];
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const done = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      const t = Date.now();
      buf += dec.decode(chunk, { stream: true });
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const line of parts) {
        out.push({ line, t });
        for (const w of waiters.splice(0)) (w.re.test(line) ? w.resolve : () => waiters.push(w))();
      }
    }
    return out;
  })();
  return { done, first: (re: RegExp) => new Promise<void>((resolve) => (out.some((l) => re.test(l.line)) ? resolve() : waiters.push({ re, resolve }))) };
}

async function once(ctx: BenchContext): Promise<{ noticed: number; started: number; poller: number }> {
  const dir = ctx.scratch();
  const root = join(dir, "repo");
  const db = join(dir, "tasks.db");
  const timeline = join(dir, "timeline.jsonl");
  sh(dir, ["git", "init", "-q", "-b", "main", root]);
  sh(root, ["git", "config", "user.email", "bench@example.com"]);
  sh(root, ["git", "config", "user.name", "bench"]);
  writeFileSync(join(root, "README.md"), "# bench\n");
  sh(root, ["git", "add", "-A"]);
  sh(root, ["git", "commit", "-q", "-m", "init"]);
  writeFileSync(join(dir, "PRD.md"), PRD);
  const env = { ORCH_DB: db };
  sh(root, [ctx.orchBin, "prd", "import", join(dir, "PRD.md")], env);

  const poller = Bun.spawn(
    [process.execPath, "-e", `const {Database}=require("bun:sqlite");const d=new Database(${JSON.stringify(db)});const q=d.query("PRAGMA data_version");let v=q.get().data_version;setInterval(()=>{const n=q.get().data_version;if(n!==v){v=n;console.log(Date.now())}},250);console.log("ready")`],
    { stdout: "pipe", stderr: "ignore" },
  );
  const pollerLines = timedLines(poller.stdout);
  await pollerLines.first(/^ready$/);

  const orch = Bun.spawn(
    [ctx.orchBin, "start", "--launcher", "headless", "--agent-cmd", `"${ctx.orchBin}" agent-sim {streamId} --pause 20 --record "${timeline}"`],
    { cwd: root, env: { ...process.env, ...env }, stdout: "pipe", stderr: "ignore" },
  );
  const lines = await timedLines(orch.stdout).done;
  if ((await orch.exited) !== 0) throw new Error(`orch start failed:\n${lines.map((l) => l.line).join("\n")}`);
  poller.kill();
  const polled = (await pollerLines.done).filter((l) => /^\d+$/.test(l.line)).map((l) => Number(l.line));

  const recs = readFileSync(timeline, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { event: string; stream: string; t: number });
  const doneAt = Math.max(...recs.filter((r) => r.event === "task" && r.stream === "Stream-A").map((r) => r.t));
  const firstParallel = Math.min(...recs.filter((r) => r.event === "start" && r.stream !== "Stream-A").map((r) => r.t));
  const noticedAt = lines.find((l) => l.line.startsWith("✓ Stream-A complete"))!.t;
  const polledAt = polled.find((t) => t >= doneAt) ?? Number.NaN;
  return { noticed: noticedAt - doneAt, started: firstParallel - doneAt, poller: polledAt - doneAt };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const runs: { noticed: number; started: number; poller: number }[] = [];
  const n = ctx.quick ? 3 : 10;
  for (let i = 0; i < n; i++) runs.push(await once(ctx));
  const noticed = median(runs.map((r) => r.noticed));
  const started = median(runs.map((r) => r.started));
  const poller = median(runs.map((r) => r.poller).filter((x) => !Number.isNaN(x)));
  return [
    row({ entry: "start", metric: `foundation done → orch notices, median of ${n} runs`, orch: noticed, baseline: poller, baselineName: "bare Bun data_version poller (250 ms)", unit: "ms", target: "≤ 1 s; ≤ the poller", pass: noticed <= 1000 && noticed <= poller }),
    row({ entry: "start", metric: `foundation done → first parallel agent running (worktree + process), median of ${n} runs`, orch: started, baseline: poller, baselineName: "bare Bun data_version poller (250 ms), noticing only", unit: "ms", target: "≤ 1 s", pass: started <= 1000 }),
  ];
}
