/**
 * orch for a team, on a throwaway PostgreSQL (scripts/pg.ts; n/a rows without one):
 * - Claims under contention: 8 processes ("machines", each its own ORCH_MACHINE and holder) each
 *   claim and release 4 shared streams round-robin, N times, through orch's core
 *   (core/claims.ts: one SERIALIZABLE transaction on the database's clock, retried on conflicts);
 *   baseline: 8 bun processes doing the same rows with Bun's SQL — BEGIN SERIALIZABLE, SELECT the
 *   claim, INSERT/UPDATE it or not, COMMIT, retrying serialization failures — and a DELETE to
 *   release. Attempts per second (granted or refused).
 * - A stream finished on one machine → the integration started on another: two clones of one
 *   project sharing one database and one bare remote; machine A runs the foundation, then `orch
 *   start --stream Stream-B` (whose branch it pushes at the end); once that agent runs, machine B
 *   runs the whole plan: Stream-B is claimed by A, so B waits for its pushed work, merges it under
 *   the team's merge lock, pushes main and starts the integration. Clock: from Stream-B's simulated agent
 *   ending to Stream-D's starting, both written by the agents with Date.now(). Against the run's
 *   1 s tick (orch start's poll; the change feed wakes it sooner).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { startTestPostgres } from "../../pg.ts";
import { lineReader, median, percentile, round, row, type BenchContext, type BenchRow } from "../lib.ts";

const MACHINES = 8;
const STREAMS = 4;

export const about =
  "On a throwaway PostgreSQL the entry starts (fsync off). Claims: 8 processes, each a machine of its own, claim and " +
  "release 4 shared streams round-robin through orch's core (core/claims.ts: a SERIALIZABLE transaction reading the " +
  "database's clock, retried on conflicts) against 8 bun processes doing the same reads and writes with Bun's SQL " +
  "(BEGIN SERIALIZABLE, SELECT, INSERT or UPDATE or nothing and its change-log row, COMMIT, retried; DELETE and its " +
  "change-log row to release): attempts per second, " +
  "granted or refused. Hand-over: two clones, one database, one bare remote; machine A runs the foundation, then " +
  "`orch start --stream Stream-B`; once that agent runs, machine B starts `orch start` for the whole plan; from Stream-B's simulated agent ending (it pushes its branch " +
  "after) to Stream-D's agent starting on B (after B fetched, merged Stream-B under the team's merge lock and pushed " +
  "main), clocked by the agents' own records.";

const ORCH_CLAIMER = (root: string) => `
import { openStore } from "${root}/src/db/client.ts";
import { claimStream, releaseClaim } from "${root}/src/core/claims.ts";
const [url, machine, n] = process.argv.slice(2);
const store = await openStore(url);
const who = { machine, pid: process.pid, holder: machine, purpose: "start" };
for (let i = 0; i < 20; i++) { const s = "S" + (i % ${STREAMS}); if ((await claimStream(store, s, who, 60000)).ok) await releaseClaim(store, s, machine); }
console.log("ready");
for await (const _ of console) break;
let granted = 0;
for (let i = 0; i < Number(n); i++) {
  const s = "S" + (i % ${STREAMS});
  if ((await claimStream(store, s, who, 60000)).ok) { granted++; await releaseClaim(store, s, machine); }
}
console.log("done " + granted);
await store.close();
`;

const RAW_CLAIMER = `
import { SQL } from "bun";
const [url, machine, n] = process.argv.slice(2);
const sql = new SQL(url, { max: 1, adapter: "postgres" });
async function tx(fn) {
  for (;;) {
    try { return await sql.begin("isolation level serializable", fn); }
    catch (e) { if (e?.errno !== "40001" && e?.errno !== "40P01") throw e; }
  }
}
async function claim(s) {
  return tx(async (t) => {
    const [now] = await t\`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS now\`;
    const [cur] = await t\`SELECT * FROM stream_claims WHERE stream_id = \${s}\`;
    if (cur && cur.holder !== machine && cur.expires_at > now.now) return false;
    const exp = new Date(Date.parse(now.now) + 60000).toISOString();
    const row = { stream_id: s, machine, pid: process.pid, holder: machine, purpose: "start", claimed_at: now.now, heartbeat_at: now.now, expires_at: exp };
    if (cur) await t\`UPDATE stream_claims SET machine = \${machine}, pid = \${process.pid}, holder = \${machine}, heartbeat_at = \${now.now}, expires_at = \${exp} WHERE stream_id = \${s}\`;
    else await t\`INSERT INTO stream_claims (stream_id, machine, pid, holder, purpose, claimed_at, heartbeat_at, expires_at) VALUES (\${s}, \${machine}, \${process.pid}, \${machine}, 'start', \${now.now}, \${now.now}, \${exp})\`;
    await t\`INSERT INTO events (kind, entity_id, op, payload) VALUES ('claim', \${s}, \${cur ? "update" : "create"}, \${sql.json(row)})\`;
    return true;
  });
}
const release = (s) => tx(async (t) => {
  const gone = await t\`DELETE FROM stream_claims WHERE stream_id = \${s} AND holder = \${machine} RETURNING *\`;
  for (const row of gone) await t\`INSERT INTO events (kind, entity_id, op, payload) VALUES ('claim', \${s}, 'delete', \${sql.json(row)})\`;
});
for (let i = 0; i < 20; i++) { const s = "S" + (i % ${STREAMS}); if (await claim(s)) await release(s); }
console.log("ready");
for await (const _ of console) break;
let granted = 0;
for (let i = 0; i < Number(n); i++) { const s = "S" + (i % ${STREAMS}); if (await claim(s)) { granted++; await release(s); } }
console.log("done " + granted);
await sql.close();
`;

const PRD = `# Initiative: Hand-over

## Foundation Phase
### Stream-A: Core
- TASK-001: schema

## Parallel Phase
### Stream-B: API
- TASK-002: routes

## Integration Phase
### Stream-D: Tests
- TASK-003: end to end
`;


async function freshDatabase(admin: SQL, base: string, name: string): Promise<string> {
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Attempts per second of 8 claimer processes running `script`. */
async function claimRun(ctx: BenchContext, script: string, url: string, n: number): Promise<number> {
  const dir = ctx.scratch();
  const file = join(dir, "claimer.ts");
  writeFileSync(file, script);
  const procs = Array.from({ length: MACHINES }, (_, k) =>
    Bun.spawn([process.execPath, file, url, `m${k}`, String(n)], { cwd: ctx.root, stdin: "pipe", stdout: "pipe", stderr: "inherit" }),
  );
  try {
    const next = procs.map((p) => lineReader(p.stdout));
    for (const l of next) if ((await l()) !== "ready") throw new Error("claimer not ready");
    const t0 = performance.now();
    for (const p of procs) {
      p.stdin.write("go\n");
      p.stdin.flush();
    }
    for (const l of next) if (!(await l()).startsWith("done")) throw new Error("claimer failed");
    const ms = performance.now() - t0;
    return (MACHINES * n * 1000) / ms;
  } finally {
    for (const p of procs) p.stdin.end();
    await Promise.all(procs.map((p) => p.exited));
  }
}

function git(cwd: string, ...args: string[]): string {
  const p = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
}

/** One hand-over: ms from Stream-B's agent ending on machine A to Stream-D's starting on machine B. */
async function handOver(ctx: BenchContext, url: string): Promise<number> {
  const dir = ctx.scratch();
  const a = join(dir, "a");
  mkdirSync(a);
  git(a, "init", "-q", "-b", "main");
  git(a, "config", "user.email", "bench@example.com");
  git(a, "config", "user.name", "Bench");
  writeFileSync(join(a, "README.md"), "# hand-over\n");
  git(a, "add", "-A");
  git(a, "commit", "-q", "-m", "initial");
  const bare = join(dir, "remote.git");
  git(dir, "clone", "-q", "--bare", a, bare);
  git(a, "remote", "add", "origin", bare);
  git(a, "fetch", "-q", "origin");
  const b = join(dir, "b");
  git(dir, "clone", "-q", bare, b);
  git(b, "config", "user.email", "bench@example.com");
  git(b, "config", "user.name", "Bench");
  writeFileSync(join(dir, "PRD.md"), PRD);
  const records = join(dir, "timeline.jsonl");
  const env = (machine: string) => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ORCH_DB: url, ORCH_MACHINE: machine, ORCH_REMOTE: "origin" });
  const imp = Bun.spawnSync([ctx.orchBin, "prd", "import", join(dir, "PRD.md")], { cwd: a, env: env("a"), stdout: "ignore", stderr: "pipe" });
  if (imp.exitCode !== 0) throw new Error(`prd import: ${imp.stderr.toString()}`);
  const start = (cwd: string, machine: string, only: string | null) =>
    Bun.spawn(
      [ctx.orchBin, "start", ...(only ? ["--stream", only] : []), "--launcher", "headless", "--agent-cmd", `"${ctx.orchBin}" agent-sim {streamId} --pause 20 --record "${records}"`],
      { cwd, env: env(machine), stdout: "ignore", stderr: "pipe" },
    );
  const finished = async (p: Bun.Subprocess<"ignore", "ignore", "pipe">, what: string) => {
    if ((await p.exited) !== 0) throw new Error(`${what} exited ${p.exitCode}: ${await new Response(p.stderr).text()}`);
  };
  const read = async () =>
    (await Bun.file(records).exists() ? await Bun.file(records).text() : "")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; stream: string; t: number });
  // Machine A does the foundation, then works Stream-B; machine B runs the whole plan meanwhile:
  // Stream-B is A's (claimed), so B waits for its work, merges it and starts the integration.
  await finished(start(a, "a", "Stream-A"), "orch start --stream Stream-A");
  const pa = start(a, "a", "Stream-B");
  while (!(await read()).some((r) => r.event === "start" && r.stream === "Stream-B")) await Bun.sleep(10);
  const pb = start(b, "b", null);
  await Promise.all([finished(pa, "orch start --stream Stream-B"), finished(pb, "orch start on machine B")]);
  const recs = await read();
  const ended = recs.find((r) => r.event === "end" && r.stream === "Stream-B")!.t;
  const started = recs.find((r) => r.event === "start" && r.stream === "Stream-D")!.t;
  return started - ended;
}

function unavailable(): BenchRow[] {
  const na = "n/a: no PostgreSQL (no initdb/pg_ctl found)";
  return ["claims/s, 8 machines contending for 4 streams", "a stream finished on one machine → the integration started on another, median"].map((metric) => ({
    entry: "team",
    metric: `${metric} (${na})`,
    orch: Number.NaN,
    baseline: Number.NaN,
    baselineName: na,
    unit: "",
    ratio: Number.NaN,
    target: "shown",
    pass: false,
  }));
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const n = ctx.quick ? 100 : 400;
  const rounds = ctx.quick ? 1 : 3;
  const handovers = ctx.quick ? 2 : 5;
  const pg = await startTestPostgres();
  if (!pg) return unavailable();
  const admin = new SQL(pg.url, { max: 1, adapter: "postgres" });
  try {
    const orch: number[] = [];
    const raw: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Fresh databases (orch makes the schema; the raw claimers use the same table).
      const dbOrch = await freshDatabase(admin, pg.url, `team_bench_o${r}_${process.pid}`);
      const dbRaw = await freshDatabase(admin, pg.url, `team_bench_r${r}_${process.pid}`);
      Bun.spawnSync([ctx.orchBin, "task", "list"], { env: { PATH: process.env.PATH ?? "", HOME: ctx.scratch(), ORCH_DB: dbRaw }, stdout: "ignore" });
      orch.push(await claimRun(ctx, ORCH_CLAIMER(ctx.root), dbOrch, n));
      raw.push(await claimRun(ctx, RAW_CLAIMER, dbRaw, n));
      process.stderr.write(`  round ${r + 1}: orch ${Math.round(orch[r]!)} claims/s, raw ${Math.round(raw[r]!)} claims/s\n`);
    }
    const hand: number[] = [];
    for (let k = 0; k < handovers; k++) hand.push(await handOver(ctx, await freshDatabase(admin, pg.url, `team_bench_h${k}_${process.pid}`)));
    const m = round(median(hand), 0);
    return [
      row({
        entry: "team",
        metric: `claim + release attempts/s, ${MACHINES} processes ("machines") contending for ${STREAMS} streams, × ${n} each, median of ${rounds} (runs ${orch.map(Math.round).join(", ")} vs ${raw.map(Math.round).join(", ")})`,
        orch: Math.round(median(orch)),
        baseline: Math.round(median(raw)),
        baselineName: "raw Bun SQL, the same reads and writes (change-log rows included) in SERIALIZABLE transactions, retried",
        unit: "claims/s",
        target: "≥ 25 % of raw",
        minRatio: 0.25,
        higherIsBetter: true,
      }),
      row({
        entry: "team",
        metric: `Stream-B's agent ends on machine A → Stream-D's agent starts on machine B (fetch, merge under the team lock, push), median of ${handovers} (p90 ${round(percentile(hand, 90), 0)} ms; each ${hand.map((x) => Math.round(x)).join(", ")})`,
        orch: m,
        baseline: 1000,
        baselineName: "orch start's 1 s tick (the change feed wakes it sooner)",
        unit: "ms",
        target: "≤ 3 s median",
        pass: m <= 3000,
      }),
    ];
  } finally {
    await admin.close();
    await pg.stop();
  }
}
