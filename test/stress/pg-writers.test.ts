/**
 * orch on PostgreSQL under concurrent writers (issue 19): processes updating one task through the
 * core at once (each update reads the row, merges metadata, writes it back: a lost update would
 * drop a writer's latest value), the server restarted under them, and writers killed with -9 in
 * the middle of their transactions. An `orch serve` on the same database follows over SSE all
 * along: its client must see every event exactly once, in seq order, with no gap, across the
 * restart too.
 *
 * Quick: 16 writers × 40 updates; STRESS=full: 16 × 1,000.
 */
import { expect, test } from "bun:test";
import { SQL, type Subprocess } from "bun";
import { join } from "node:path";
import { startTestPostgres } from "../../scripts/pg.ts";
import { SseTap } from "../api/sse-tap.ts";
import { freshDatabase, pgDescribe } from "../pg.ts";
import { size, timeout } from "./harness/mode.ts";
import { cleanEnv, LineReader, orchBin, serve } from "./harness/orch.ts";
import { seeded } from "./harness/prng.ts";

const WRITERS = 16;
const UPDATES = size(40, 1000);
const writerScript = join(import.meta.dir, "fixtures", "pg-writer.ts");

interface Writer {
  name: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  out: LineReader;
  acked(): number;
}

function startWriter(url: string, name: string, task: string, count: number): Writer {
  const proc = Bun.spawn([process.execPath, writerScript, url, name, task, String(count)], { env: cleanEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const out = new LineReader(proc.stdout);
  const acked = () => {
    const acks = out.lines.filter((l) => l.startsWith("ack "));
    return acks.length ? Number(acks[acks.length - 1]!.slice(4)) : 0;
  };
  return { name, proc, out, acked };
}

async function createTask(url: string, id: string): Promise<void> {
  const p = Bun.spawnSync([orchBin(), "task", "create", "--db", url, "--id", id, "--title", id, "--stream", "Load"], { env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`task create: ${p.stderr}`);
}

/** The task's metadata and the feed's state, read straight from the server. */
async function readBack(url: string, task: string) {
  const sql = new SQL(url, { max: 1 });
  try {
    // As every feed reader does: a pass first (writers leave their events for the next reader to number).
    await sql`SELECT * FROM orch_feed_sequence(10000, true)`;
    const [row] = await sql`SELECT metadata FROM tasks WHERE id = ${task}`;
    const [feed] = await sql`SELECT count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi, count(*) FILTER (WHERE seq IS NULL)::int AS unsequenced FROM events`;
    return { metadata: row.metadata as Record<string, unknown>, feed: feed as { n: number; lo: number; hi: number; unsequenced: number } };
  } finally {
    await sql.close();
  }
}

/** The SSE ids a client saw: every one once, in order, with no gap from its first. */
function expectGapless(tap: SseTap): number[] {
  const ids = tap.messages.filter((m) => m.event !== "snapshot" && m.id).map((m) => Number(m.id));
  for (let i = 1; i < ids.length; i++) expect({ at: i, id: ids[i] }).toEqual({ at: i, id: ids[i - 1]! + 1 });
  return ids;
}

pgDescribe("PostgreSQL: concurrent writers through orch", () => {
  test(
    `${WRITERS} writers × ${UPDATES} read-then-write updates of one task: none lost, none refused; the SSE client sees every event once`,
    async () => {
      const db = await freshDatabase("pg-writers");
      await createTask(db.url, "PG-1");
      const served = await serve(db.url);
      const tap = await SseTap.open(`${served.url}/api/events`);
      try {
        await tap.until((t) => t.messages.length >= 1, 10_000, "snapshot");
        const writers = Array.from({ length: WRITERS }, (_, i) => startWriter(db.url, `w${i}`, "PG-1", UPDATES));
        const codes = await Promise.all(writers.map((w) => w.proc.exited));
        for (const w of writers) expect({ writer: w.name, code: codes[writers.indexOf(w)], errors: w.out.lines.filter((l) => l.startsWith("error")) }).toEqual({ writer: w.name, code: 0, errors: [] });
        const { metadata, feed } = await readBack(db.url, "PG-1");
        for (const w of writers) expect({ writer: w.name, last: metadata[w.name] }).toEqual({ writer: w.name, last: UPDATES });
        expect(feed.unsequenced).toBe(0);
        expect(feed.hi - feed.lo + 1).toBe(feed.n); // seqs gapless
        // Every update and its stream refresh reach the SSE client, in order, once.
        await tap.until((t) => expectGapless(t).at(-1) === feed.hi, 30_000, `SSE up to seq ${feed.hi}`);
        const ids = expectGapless(tap);
        expect(new Set(ids).size).toBe(ids.length);
        expect(tap.messages.filter((m) => m.event === "task").length).toBeGreaterThanOrEqual(WRITERS * UPDATES);
      } finally {
        tap.close();
        await served.stop();
      }
    },
    timeout(120_000, 900_000),
  );

  test(
    "the server restarted mid-run: every writer carries on (no error reaches it), no acknowledged update lost, the SSE client resumes without a gap",
    async () => {
      const cluster = await startTestPostgres({ own: true });
      if (!cluster?.restart) return; // a server given by ORCH_TEST_PG_URL only: nothing of ours to restart
      try {
        const admin = new SQL(cluster.url, { max: 1 });
        await admin.unsafe(`CREATE DATABASE orch_restart`);
        await admin.close();
        const url = cluster.url.replace(/\/postgres$/, "/orch_restart");
        await createTask(url, "PG-R");
        const served = await serve(url);
        const tap = await SseTap.open(`${served.url}/api/events`);
        try {
          await tap.until((t) => t.messages.length >= 1, 10_000, "snapshot");
          const count = size(60, 400);
          const writers = Array.from({ length: 8 }, (_, i) => startWriter(url, `r${i}`, "PG-R", count));
          await Promise.all(writers.map((w) => w.out.until(() => w.acked() >= 5, 30_000, `${w.name} under way`)));
          cluster.restart!();
          const codes = await Promise.all(writers.map((w) => w.proc.exited));
          for (const [i, w] of writers.entries()) expect({ writer: w.name, code: codes[i], errors: w.out.lines.filter((l) => l.startsWith("error")) }).toEqual({ writer: w.name, code: 0, errors: [] });
          const { metadata, feed } = await readBack(url, "PG-R");
          for (const w of writers) expect({ writer: w.name, last: metadata[w.name] }).toEqual({ writer: w.name, last: count });
          expect(feed.unsequenced).toBe(0);
          expect(feed.hi - feed.lo + 1).toBe(feed.n);
          // orch serve lost its connections too; its feed reconnects and catches up by seq.
          await tap.until((t) => expectGapless(t).at(-1) === feed.hi, 60_000, `SSE up to seq ${feed.hi} after the restart`);
        } finally {
          tap.close();
          await served.stop();
        }
      } finally {
        await cluster.stop();
      }
    },
    timeout(120_000, 600_000),
  );

  test(
    "writers killed with -9 mid-transaction, round after round: every acknowledged update kept, the feed gapless, orch serves after",
    () =>
      seeded("pg-kill9", async (rnd) => {
        const db = await freshDatabase("pg-kill9");
        await createTask(db.url, "PG-K");
        const rounds = size(3, 15);
        let acked = 0;
        for (let round = 0; round < rounds; round++) {
          const writers = Array.from({ length: 6 }, (_, i) => startWriter(db.url, `k${i}`, "PG-K", 100_000));
          await Promise.all(writers.map((w) => w.out.until((l) => l.includes("ready"), 30_000, `${w.name} ready`)));
          await Bun.sleep(rnd.range(150, 600));
          for (const w of writers) w.proc.kill(9);
          await Promise.all(writers.map((w) => w.proc.exited));
          const { metadata } = await readBack(db.url, "PG-K");
          for (const w of writers) {
            // Stored ≥ acknowledged: a commit can land without its ack printed, never the reverse.
            expect({ writer: w.name, round, kept: ((metadata[w.name] as number | undefined) ?? 0) >= w.acked() }).toEqual({ writer: w.name, round, kept: true });
            acked += w.acked();
          }
        }
        expect(acked).toBeGreaterThan(0); // the kills landed among commits, not before them
        // Anyone's pass numbers what killed writers left unnumbered; the feed stays gapless.
        const served = await serve(db.url);
        try {
          const res = await fetch(`${served.url}/api/streams`);
          expect(res.status).toBe(200);
          const { feed } = await readBack(db.url, "PG-K");
          expect(feed.unsequenced).toBe(0);
          expect(feed.hi - feed.lo + 1).toBe(feed.n);
        } finally {
          await served.stop();
        }
      }),
    timeout(120_000, 600_000),
  );
});
