/**
 * What the PostgreSQL change feed's sequencer costs (src/db/pg-feed.ts; docs/postgres.md). Not an
 * entry of `npm run bench` (it needs a server): run it with one,
 *   bun scripts/pg.ts run -- bun scripts/bench/pg-feed.ts [--writers 16] [--tx 500] [--rounds 3]
 * - one writer, uncontended: a sequencing pass numbering one event, and one with nothing to do;
 * - W writer processes, each on its own connection, each transaction what an orch note update
 *   writes (BEGIN, UPDATE the task row, INSERT its change-log row, COMMIT), started together:
 *   without any pass (the baseline: the same writes with an id cursor); awaiting a pass that
 *   waits for the lock after every commit (queueing); awaiting sequencePending (which hands off
 *   to a holder instead) after every commit; and kicking the process's coalesced sequencer after
 *   every commit (createSequencer; its passes on a second connection), flushed at the end.
 *   Fresh database each run, the order alternated, median of the rounds. Reported: updates/s,
 *   and CPU per update of the writer processes and of their PostgreSQL backends (from /proc;
 *   less disturbed than the rate when something else runs on the machine).
 */
import { SQL } from "bun";
import { openPostgres, type PgStore } from "../../src/db/postgres.ts";
import { createSequencer, sequencePending } from "../../src/db/pg-feed.ts";

type Mode = "raw" | "queue" | "await" | "kick";

async function noteUpdate(conn: SQL, task: string, i: number): Promise<void> {
  await conn`BEGIN`;
  await conn`UPDATE tasks SET notes = ${`note ${i}`}, updated_at = ${new Date().toISOString()} WHERE id = ${task}`;
  await conn`INSERT INTO events (kind, entity_id, op, payload) VALUES ('task', ${task}, 'update', ${conn.json({ id: task, notes: `note ${i}` })})`;
  await conn`COMMIT`;
}

if (process.argv[2] === "--child") {
  // A writer process: argv URL MODE TASK N; "ready" once warm, then one line on stdin starts it.
  const [url, mode, task, n] = process.argv.slice(3) as [string, Mode, string, string];
  const sql = new SQL(url, { max: 2, adapter: "postgres" });
  const conn = await sql.reserve();
  for (let i = 0; i < 50; i++) await noteUpdate(conn, task, -i);
  if (mode !== "raw") await sequencePending(conn, { wait: true });
  const sequencer = createSequencer(sql, (err) => console.error(err));
  console.log("ready");
  for await (const _ of console) break;
  for (let i = 0; i < Number(n); i++) {
    await noteUpdate(conn, task, i);
    if (mode === "await") await sequencePending(conn);
    else if (mode === "queue") await sequencePending(conn, { wait: true });
    else if (mode === "kick") sequencer.kick();
  }
  if (mode === "kick") await sequencer.flush();
  console.log("done");
  for await (const _ of console) break; // "quit": after the parent has read the CPU times
  conn.release();
  await sql.close();
  process.exit(0);
}

const url = process.env.ORCH_TEST_PG_URL;
if (!url) {
  console.error("pg-feed bench: set ORCH_TEST_PG_URL (bun scripts/pg.ts run -- bun scripts/bench/pg-feed.ts)");
  process.exit(2);
}
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const WRITERS = arg("writers", 16);
const TX = arg("tx", 500);
const ROUNDS = arg("rounds", 3);

const admin = new SQL(url, { max: 1, adapter: "postgres" });
let dbCount = 0;
async function fresh(): Promise<{ store: PgStore; url: string; drop: () => Promise<void> }> {
  const name = `orch_bench_feed_${process.pid}_${++dbCount}`;
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const u = new URL(url!);
  u.pathname = `/${name}`;
  const store = await openPostgres(u.toString(), { max: 4 });
  const now = new Date().toISOString();
  for (let t = 0; t < WRITERS; t++) await store.sql`INSERT INTO tasks (id, title, created_at, updated_at) VALUES (${`T${t}`}, ${`task ${t}`}, ${now}, ${now})`;
  return {
    store,
    url: u.toString(),
    drop: async () => {
      await store.close();
      await admin.unsafe(`DROP DATABASE "${name}" WITH (FORCE)`);
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function lineFrom(reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> }, want: string): Promise<void> {
  let text = "";
  while (!text.includes(want)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`writer ended before "${want}": ${text}`);
    text += new TextDecoder().decode(value);
  }
}

/** CPU seconds (user + system) a process has used, from /proc (0 when it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

async function backends(store: PgStore): Promise<number[]> {
  const rows = await store.sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
  return rows.map((r: { pid: number }) => Number(r.pid));
}

interface Run {
  rate: number;
  /** CPU ms per update: the writer processes, and their PostgreSQL backends. */
  clientMs: number;
  serverMs: number;
}

async function run(mode: Mode): Promise<Run> {
  const { store, url: dbUrl, drop } = await fresh();
  const children = Array.from({ length: WRITERS }, (_, w) =>
    Bun.spawn([process.execPath, import.meta.path, "--child", dbUrl, mode, `T${w}`, String(TX)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" }),
  );
  const readers = children.map((c) => c.stdout.getReader());
  await Promise.all(readers.map((r) => lineFrom(r, "ready")));
  const serverBefore = new Map((await backends(store)).map((pid) => [pid, cpuSeconds(pid)]));
  const clientBefore = children.map((c) => cpuSeconds(c.pid));
  const t0 = performance.now();
  for (const c of children) {
    c.stdin.write("go\n");
    c.stdin.flush();
  }
  await Promise.all(readers.map((r) => lineFrom(r, "done")));
  const ms = performance.now() - t0;
  let serverCpu = 0;
  for (const pid of await backends(store)) serverCpu += cpuSeconds(pid) - (serverBefore.get(pid) ?? 0);
  const clientCpu = children.reduce((sum, c, i) => sum + cpuSeconds(c.pid) - clientBefore[i]!, 0);
  for (const c of children) {
    c.stdin.write("quit\n");
    c.stdin.flush();
  }
  await Promise.all(children.map((c) => c.exited));
  if (mode !== "raw") {
    const [check] = await store.sql`SELECT count(*) FILTER (WHERE seq IS NULL)::int AS left, max(seq)::int AS m, count(*)::int AS n FROM events`;
    if (check.left !== 0 || check.m !== check.n) throw new Error(`sequencing incomplete: ${JSON.stringify(check)}`);
  }
  await drop();
  const updates = WRITERS * TX;
  return { rate: updates / (ms / 1000), clientMs: (clientCpu * 1000) / updates, serverMs: (serverCpu * 1000) / updates };
}

// One writer, uncontended: wall time per call, and its backend's CPU per update (from /proc).
{
  const { store, drop } = await fresh();
  const conn = await store.sql.reserve();
  const [{ pid }] = await conn`SELECT pg_backend_pid() AS pid`;
  const empty: number[] = [];
  const one: number[] = [];
  const commit: number[] = [];
  const N = 3000;
  for (let i = 0; i < 300; i++) await noteUpdate(conn, "T0", -i); // warm
  let cpu0 = cpuSeconds(Number(pid));
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await noteUpdate(conn, "T0", i);
    commit.push(performance.now() - t0);
  }
  const cpuRaw = cpuSeconds(Number(pid)) - cpu0;
  await sequencePending(conn, { wait: true });
  cpu0 = cpuSeconds(Number(pid));
  for (let i = 0; i < N; i++) {
    await noteUpdate(conn, "T0", i);
    const t0 = performance.now();
    await sequencePending(conn);
    one.push(performance.now() - t0);
  }
  const cpuSeq = cpuSeconds(Number(pid)) - cpu0;
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await sequencePending(conn);
    empty.push(performance.now() - t0);
  }
  conn.release();
  console.log(
    `one writer: note update (BEGIN, UPDATE, INSERT event, COMMIT) median ${median(commit).toFixed(3)} ms; ` +
      `sequencePending numbering its event (the pass and its re-check) median ${median(one).toFixed(3)} ms, with nothing to do ${median(empty).toFixed(3)} ms; ` +
      `server CPU per update ${((cpuRaw * 1e6) / N).toFixed(0)} µs without a pass, ${((cpuSeq * 1e6) / N).toFixed(0)} µs with one`,
  );
  await drop();
}

const runs: Record<Mode, Run[]> = { raw: [], queue: [], await: [], kick: [] };
const modes: Mode[] = ["raw", "queue", "await", "kick"];
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of r % 2 === 0 ? modes : [...modes].reverse()) runs[mode].push(await run(mode));
}
const m = (mode: Mode, k: keyof Run) => median(runs[mode].map((x) => x[k]));
const raw = m("raw", "rate");
const cpu = (mode: Mode) => `${m(mode, "serverMs").toFixed(3)} ms server + ${m(mode, "clientMs").toFixed(3)} ms client CPU per update`;
console.log(
  `${WRITERS} writer processes × ${TX} note updates, median of ${ROUNDS}:\n` +
    `  without sequencing (the same writes, id cursor): ${Math.round(raw)} updates/s, ${cpu("raw")}\n` +
    `  awaiting a pass that waits for the lock after each commit (queueing, no hand-off): ${Math.round(m("queue", "rate"))} updates/s (${(m("queue", "rate") / raw).toFixed(3)}×), ${cpu("queue")}\n` +
    `  awaiting sequencePending (hand-off) after each commit: ${Math.round(m("await", "rate"))} updates/s (${(m("await", "rate") / raw).toFixed(3)}×), ${cpu("await")}\n` +
    `  kicking the process's coalesced sequencer: ${Math.round(m("kick", "rate"))} updates/s (${(m("kick", "rate") / raw).toFixed(3)}×), ${cpu("kick")}`,
);
console.log(`rates: raw ${runs.raw.map((x) => Math.round(x.rate)).join(", ")}; queue ${runs.queue.map((x) => Math.round(x.rate)).join(", ")}; await ${runs.await.map((x) => Math.round(x.rate)).join(", ")}; kick ${runs.kick.map((x) => Math.round(x.rate)).join(", ")}`);
await admin.close();
