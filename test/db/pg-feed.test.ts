/**
 * The change feed on PostgreSQL (src/db/pg-feed.ts), on a real server: a commit-ordered, gapless
 * seq assigned after commit by a serialised sequencer, so no committed event is ever skipped or
 * delivered twice, whatever order transactions commit in; LISTEN wakes readers and reconnects
 * after the server goes away; a writer killed before its sequencing pass loses nothing. Also: the
 * SQLite side of the schema change is a plain ADD COLUMN that existing databases take.
 */
import { Database } from "bun:sqlite";
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { join } from "node:path";
import { migrate } from "../../src/db/migrate.ts";
import { migrations } from "../../src/db/migrations/index.ts";
import { COMPACT_EVERY, EVENTS_KEPT } from "../../src/db/event-log.ts";
import {
  compactFeed,
  compactionCrossed,
  eventsAfterSeq,
  latestSeq,
  replayable,
  SEQUENCE_BATCH,
  SEQUENCE_LOCK,
  sequencePending,
  watchPgFeed,
  type FeedEvent,
  type PgFeedWatch,
} from "../../src/db/pg-feed.ts";
import { openPostgres, type PgStore } from "../../src/db/postgres.ts";
import { findPgBin, startTestPostgres } from "../../scripts/pg.ts";
import { tempDir } from "../helpers.ts";
import { freshDatabase, pgDescribe } from "../pg.ts";

const WRITER = join(import.meta.dir, "fixtures", "pg-feed-writer.ts");

/** Closed after each test (before pgDescribe drops the databases, which a watcher would keep retrying). */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
async function cleanUp() {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
}
afterEach(cleanUp);
afterAll(cleanUp);

/** A migrated store on a database of its own. */
async function freshStore(max = 20): Promise<PgStore> {
  const db = await freshDatabase();
  const store = await openPostgres(db.url, { max });
  cleanups.push(() => store.close());
  return store;
}

/** Insert one event on `q` (inside whatever transaction q is in); its id. */
async function insertEvent(q: SQL, entity: string, payload: Record<string, unknown>): Promise<number> {
  const [row] = await q`INSERT INTO events (kind, entity_id, op, payload) VALUES ('task', ${entity}, 'update', ${q.json(payload)}) RETURNING id`;
  return Number(row.id);
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(5);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

/**
 * A reader as the SSE route will be one: on every wake it reads after its cursor until nothing is
 * left. Records every event it got and every wake (a wake without a seq follows a (re)subscribe).
 */
function follower(read: () => SQL) {
  const got: FeedEvent[] = [];
  const wakes: { seq: number | undefined; at: number }[] = [];
  let cursor = 0;
  let chain = Promise.resolve();
  const catchUp = async () => {
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        for (;;) {
          const batch = await eventsAfterSeq(read(), cursor, 500);
          if (!batch.length) return;
          got.push(...batch);
          cursor = batch.at(-1)!.seq;
        }
      } catch {
        await Bun.sleep(100); // the server is restarting: the pool reconnects
      }
    }
  };
  return {
    got,
    wakes,
    get cursor() {
      return cursor;
    },
    wake: (seq?: number) => {
      wakes.push({ seq, at: performance.now() });
      chain = chain.then(catchUp);
    },
  };
}

async function startWatch(url: string, wake: (seq?: number) => void, sweepMs = 0): Promise<PgFeedWatch> {
  const w = watchPgFeed(url, wake, { sweepMs });
  cleanups.push(() => w.close());
  await w.ready;
  return w;
}

pgDescribe("the change feed on PostgreSQL", () => {
  test("empty feed: nothing to number, cursor 0 is replayable, a pass with nothing to do writes nothing", async () => {
    const s = await freshStore();
    expect(await sequencePending(s.sql)).toEqual({ numbered: 0, lastSeq: 0, handedOff: false });
    expect(await latestSeq(s.sql)).toBe(0);
    expect(await replayable(s.sql, 0)).toBe(true);
    expect(await eventsAfterSeq(s.sql, 0)).toEqual([]);
    expect((await s.sql`SELECT count(*)::int AS n FROM feed_state`)[0].n).toBe(0);
  });

  test("out-of-order commits: the event that commits late is delivered after the cursor, nothing skipped, nothing twice", async () => {
    const s = await freshStore();
    const t1 = await s.sql.reserve();
    const t2 = await s.sql.reserve();
    cleanups.push(() => t1.release(), () => t2.release());
    const delivered: FeedEvent[] = [];
    let cursor = 0;
    const read = async () => {
      const batch = await eventsAfterSeq(s.sql, cursor);
      delivered.push(...batch);
      if (batch.length) cursor = batch.at(-1)!.seq;
      return batch;
    };

    await t1`BEGIN`;
    const early = await insertEvent(t1, "T1", { by: "t1" }); // stays uncommitted for now
    await t2`BEGIN`;
    const late = await insertEvent(t2, "T2", { by: "t2" });
    expect(late).toBeGreaterThan(early);
    await t2`COMMIT`;
    // Committed but not yet sequenced: a reader sees nothing yet (seq is NULL).
    expect(await read()).toEqual([]);
    // The pass numbers T2's event; T1's is invisible to it (and does not block it).
    expect(await sequencePending(s.sql)).toEqual({ numbered: 1, lastSeq: 1, handedOff: false });
    expect((await read()).map((e) => [e.seq, e.id])).toEqual([[1, late]]);
    expect(cursor).toBe(1);

    // The hazard the seq exists for: the reader has seen id `late`; a cursor on ids would now skip `early`.
    await t1`COMMIT`;
    const byId = await s.sql`SELECT id FROM events WHERE id > ${late}`;
    expect(byId.length).toBe(0);

    expect(await sequencePending(s.sql)).toEqual({ numbered: 1, lastSeq: 2, handedOff: false });
    expect((await read()).map((e) => [e.seq, e.id, e.entityId])).toEqual([[2, early, "T1"]]);
    expect(await read()).toEqual([]);
    expect(delivered.map((e) => e.id).sort((a, b) => a - b)).toEqual([early, late]);
    expect(delivered.map((e) => e.payload)).toEqual([{ by: "t2" }, { by: "t1" }]);
    expect(await latestSeq(s.sql)).toBe(2);
  });

  test("16 concurrent writers with random commit delays, a reader following all along: every event exactly once, seq exactly 1..total", async () => {
    const WRITERS = 16;
    const TX_PER_WRITER = 60;
    const s = await freshStore(WRITERS + 8);
    let written = 0;
    let writersDone = false;
    let writersDoneAt = 0;
    const passes: { ms: number; numbered: number; handedOff: boolean }[] = [];

    const writer = async (w: number) => {
      const conn = await s.sql.reserve();
      try {
        for (let i = 0; i < TX_PER_WRITER; i++) {
          const n = 1 + (i % 3 === 0 ? 1 : 0); // some transactions record two events
          await conn`BEGIN`;
          for (let k = 0; k < n; k++) await insertEvent(conn, `W${w}`, { w, i, k });
          await Bun.sleep(Math.random() * 4); // commit late, out of id order
          await conn`COMMIT`;
          written += n;
          const t0 = performance.now();
          const pass = await sequencePending(conn);
          passes.push({ ms: performance.now() - t0, numbered: pass.numbered, handedOff: pass.handedOff });
        }
      } finally {
        conn.release();
      }
    };

    const seen: FeedEvent[] = [];
    const problems: string[] = [];
    const reader = async () => {
      let cursor = 0;
      for (;;) {
        const batch = await eventsAfterSeq(s.sql, cursor, 100);
        for (const e of batch) {
          if (e.seq !== cursor + 1) problems.push(`after ${cursor} came ${e.seq}`);
          cursor = e.seq;
          seen.push(e);
        }
        if (!batch.length) {
          if (writersDone && cursor >= written) return;
          // Nobody runs a pass after the writers: an event left unnumbered by a lost hand-off would stop the reader here.
          if (writersDone && performance.now() - writersDoneAt > 5000) {
            problems.push(`stuck at ${cursor} of ${written} 5 s after the last writer`);
            return;
          }
          await Bun.sleep(1);
        }
      }
    };

    const t0 = performance.now();
    const following = reader();
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    const writeMs = performance.now() - t0;
    writersDone = true;
    writersDoneAt = performance.now();
    await following;

    const total = WRITERS * TX_PER_WRITER + WRITERS * Math.ceil(TX_PER_WRITER / 3);
    expect(written).toBe(total);
    expect(problems).toEqual([]);
    expect(seen.length).toBe(total);
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Every event exactly once.
    const keys = seen.map((e) => {
      const p = e.payload as { w: number; i: number; k: number };
      return `${p.w}/${p.i}/${p.k}`;
    });
    expect(new Set(keys).size).toBe(total);
    expect(new Set(seen.map((e) => e.id)).size).toBe(total);
    // Each writer's transactions follow one another: its events come in its own order.
    for (let w = 0; w < WRITERS; w++) {
      const mine = seen.filter((e) => e.entityId === `W${w}`).map((e) => e.payload as { i: number; k: number });
      expect(mine).toEqual([...mine].sort((a, b) => a.i - b.i || a.k - b.k));
    }
    // The run did commit out of id order (what an id cursor would have skipped on).
    const inversions = seen.filter((e, i) => i > 0 && e.id < seen[i - 1]!.id).length;
    expect(inversions).toBeGreaterThan(0);
    const [left] = await s.sql`SELECT count(*)::int AS n FROM events WHERE seq IS NULL`;
    expect(left.n).toBe(0);
    expect(await latestSeq(s.sql)).toBe(total);

    const busy = passes.filter((p) => p.numbered > 0);
    const handedOff = passes.filter((p) => p.handedOff).length;
    expect(handedOff).toBeGreaterThan(0); // the hand-off was exercised, and lost nothing
    console.log(
      `pg feed, ${WRITERS} writers: ${total} events in ${writeMs.toFixed(0)} ms (${Math.round((total / writeMs) * 1000)} events/s with ~2 ms mean commit delay), ` +
        `${inversions} out-of-id-order deliveries; ${passes.length} sequencePending calls: ${busy.length} numbered something (${(total / busy.length).toFixed(2)} events each), ` +
        `${handedOff} handed off, median ${median(passes.map((p) => p.ms)).toFixed(2)} ms`,
    );
  }, 120_000);

  test("hand-off: a pass that finds the lock taken returns at once, and the holder's re-check after its release numbers the event; a waiting pass queues", async () => {
    const s = await freshStore();
    const holder = await s.sql.reserve();
    cleanups.push(() => holder.release());
    await holder`BEGIN`;
    await holder`SELECT pg_advisory_xact_lock(${SEQUENCE_LOCK[0]}::int4, ${SEQUENCE_LOCK[1]}::int4)`; // a pass in progress
    const mine = await s.sql.begin((tx) => insertEvent(tx, "W", {}));
    expect(await sequencePending(s.sql)).toEqual({ numbered: 0, lastSeq: 0, handedOff: true });
    // A waiting pass queues behind the holder (the SQL function and SEQUENCE_LOCK name the same lock).
    let waited: Awaited<ReturnType<typeof sequencePending>> | undefined;
    const waiting = sequencePending(s.sql, { wait: true }).then((r) => (waited = r));
    await Bun.sleep(300);
    expect(waited).toBeUndefined();
    expect((await eventsAfterSeq(s.sql, 0)).length).toBe(0);
    // The holder commits (releasing the lock) and re-checks, as every pass does after numbering.
    await holder`COMMIT`;
    await waiting;
    const afterRelease = await sequencePending(holder);
    expect((waited?.numbered ?? 0) + afterRelease.numbered).toBe(1);
    expect((await eventsAfterSeq(s.sql, 0)).map((e) => [e.seq, e.id])).toEqual([[1, mine]]);
  });

  test("replayable compares with the compaction horizon, not a count of contiguous ids", async () => {
    const s = await freshStore();
    // Gaps in ids: rolled-back inserts consume identity values.
    for (let i = 0; i < 10; i++) {
      await s.sql.begin(async (tx) => {
        await insertEvent(tx, `E${i}`, { i });
      });
      await s.sql
        .begin(async (tx) => {
          await insertEvent(tx, "rolled-back", {});
          throw new Error("roll back");
        })
        .catch(() => {});
    }
    await sequencePending(s.sql);
    const ids = (await eventsAfterSeq(s.sql, 0)).map((e) => e.id);
    expect(ids.at(-1)! - ids[0]! + 1).toBeGreaterThan(ids.length); // ids have gaps …
    for (let c = 0; c <= 10; c++) expect(await replayable(s.sql, c)).toBe(true); // … which no longer matter
    expect(await replayable(s.sql, 11)).toBe(false); // a cursor this feed never gave

    await compactFeed(s.sql, 4);
    expect(await replayable(s.sql, 3)).toBe(false);
    expect(await replayable(s.sql, 4)).toBe(true);
    expect((await eventsAfterSeq(s.sql, 0)).map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(await latestSeq(s.sql)).toBe(10);
    // A stream's merge record survives compaction, like on SQLite (compacted here on a reserved connection).
    await insertMerge(s.sql);
    await sequencePending(s.sql);
    const conn = await s.sql.reserve();
    await compactFeed(conn, 11);
    conn.release();
    expect((await eventsAfterSeq(s.sql, 0)).map((e) => [e.seq, e.kind])).toEqual([[11, "stream"]]);
    expect(await replayable(s.sql, 10)).toBe(false);
    expect(await replayable(s.sql, 11)).toBe(true);
  });

  test("the listener wakes within a bound after commit + sequencing, and after its backend is terminated it reconnects and wakes again", async () => {
    const db = await freshDatabase();
    const s = await openPostgres(db.url, { max: 4 });
    cleanups.push(() => s.close());
    const f = follower(() => s.sql);
    await startWatch(db.url, f.wake);
    expect(f.wakes.length).toBe(1); // the first subscribe wakes (catch-up from the start)
    expect(f.wakes[0]!.seq).toBeUndefined();

    const latencies: number[] = [];
    for (let i = 1; i <= 20; i++) {
      await s.sql.begin((tx) => insertEvent(tx, "L", { i }));
      const t0 = performance.now();
      const { lastSeq } = await sequencePending(s.sql);
      await until(`the wake for seq ${lastSeq}`, () => f.wakes.some((w) => w.seq === lastSeq && w.at >= t0), 2000);
      latencies.push(f.wakes.find((w) => w.seq === lastSeq)!.at - t0);
    }
    await until("the follower to catch up", () => f.cursor === 20);
    console.log(`pg feed: NOTIFY wake after the sequencing pass returns, median ${median(latencies).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms`);

    // Kill the LISTEN connection's backend; commit while it is gone (that NOTIFY reaches no one).
    const before = f.wakes.length;
    const killed = await s.sql`
      SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
      WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`;
    expect(killed.length).toBe(1);
    await s.sql.begin((tx) => insertEvent(tx, "L", { i: 21 }));
    await sequencePending(s.sql);
    // Reconnected: a wake without a seq, and the catch-up read brings event 21.
    await until("a wake after the reconnect", () => f.wakes.slice(before).some((w) => w.seq === undefined), 15_000);
    await until("the follower to catch up after the reconnect", () => f.cursor === 21, 5000);
    // Notifications flow again.
    await s.sql.begin((tx) => insertEvent(tx, "L", { i: 22 }));
    await sequencePending(s.sql);
    await until("the NOTIFY wake after the reconnect", () => f.wakes.some((w) => w.seq === 22), 2000);
    await until("the follower to read 22", () => f.cursor === 22, 2000);
    expect(f.got.map((e) => e.seq)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
  }, 60_000);

  test.skipIf(!findPgBin())(
    "the server restarted (pg_ctl restart): the listener reconnects and wakes, the catch-up read brings what was committed meanwhile",
    async () => {
      const cluster = (await startTestPostgres({ own: true }))!;
      cleanups.push(() => cluster.stop());
      const s = await openPostgres(cluster.url, { max: 4 });
      cleanups.push(() => s.close());
      let reads = s.sql;
      const f = follower(() => reads);
      await startWatch(cluster.url, f.wake);
      await s.sql.begin((tx) => insertEvent(tx, "R", { i: 1 }));
      await sequencePending(s.sql);
      await until("the first event", () => f.cursor === 1, 2000);

      const wakesBefore = f.wakes.length;
      const t0 = performance.now();
      cluster.restart!();
      const restarted = performance.now();
      // Straight after the restart, before the listener is back: commit and sequence one event.
      const writer = new SQL(cluster.url, { max: 1, adapter: "postgres" });
      cleanups.push(() => writer.close());
      reads = writer;
      await writer.begin((tx) => insertEvent(tx, "R", { i: 2 }));
      await sequencePending(writer);
      await until("a wake after the restart", () => f.wakes.slice(wakesBefore).some((w) => w.seq === undefined), 40_000);
      const reconnect = f.wakes.slice(wakesBefore).find((w) => w.seq === undefined)!.at;
      await until("the catch-up read after the restart", () => f.cursor === 2, 5000);
      await writer.begin((tx) => insertEvent(tx, "R", { i: 3 }));
      await sequencePending(writer);
      await until("a NOTIFY wake after the restart", () => f.wakes.some((w) => w.seq === 3), 2000);
      await until("the follower to read 3", () => f.cursor === 3, 2000);
      expect(f.got.map((e) => [e.seq, (e.payload as { i: number }).i])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
      console.log(
        `pg feed: pg_ctl restart took ${(restarted - t0).toFixed(0)} ms; the listener woke ${(reconnect - restarted).toFixed(0)} ms after it returned`,
      );
    },
    90_000,
  );

  test("kill -9 between commit and sequencing: the next pass by anyone numbers the event (a watcher's sweep, or another writer's pass)", async () => {
    const db = await freshDatabase();
    const s = await openPostgres(db.url, { max: 4 });
    cleanups.push(() => s.close());

    // 1. A reader that connects runs a pass first: the dead writer's event is numbered and read.
    const a = await killedWriter(db.url, "committed", "K1");
    const [row] = await s.sql`SELECT seq FROM events WHERE id = ${a.id}`;
    expect(row.seq).toBeNull(); // committed, never sequenced by its writer
    const f = follower(() => s.sql);
    await startWatch(db.url, f.wake, 100);
    await until("the reader's first pass to number the dead writer's event", () => f.cursor === 1, 5000);
    expect(f.got.map((e) => e.id)).toEqual([a.id!]);

    // 2. Nobody writes after it: the watcher's slow sweep finds it, numbers it, and its NOTIFY wakes the reader.
    const b = await killedWriter(db.url, "committed", "K2");
    await until("the sweep to number the dead writer's event", () => f.cursor === 2, 5000);
    expect(f.got.at(-1)!.id).toBe(b.id!);

    // 3. The next writer's own pass numbers a dead writer's event too (or the sweep got there first): id order either way.
    const c = await killedWriter(db.url, "committed", "K3");
    const mine = await s.sql.begin((tx) => insertEvent(tx, "alive", {}));
    await sequencePending(s.sql, { wait: true });
    expect((await eventsAfterSeq(s.sql, 2)).map((e) => [e.seq, e.id])).toEqual([
      [3, c.id!],
      [4, mine],
    ]);

    // 4. Killed mid-transaction: the event never commits, is never numbered, and leaves no gap in seq (only in ids).
    const d = await killedWriter(db.url, "open", "K4");
    const after = await s.sql.begin((tx) => insertEvent(tx, "alive", {}));
    await sequencePending(s.sql, { wait: true });
    expect(after).toBeGreaterThan(d.id!);
    expect((await eventsAfterSeq(s.sql, 4)).map((e) => [e.seq, e.id])).toEqual([[5, after]]);
    expect((await s.sql`SELECT count(*)::int AS n FROM events WHERE id = ${d.id}`)[0].n).toBe(0);

    // 5. Killed while holding the sequencer's lock: the server releases it, the next pass goes through.
    await killedWriter(db.url, "in-pass", "K5");
    await s.sql.begin((tx) => insertEvent(tx, "alive", {}));
    const t0 = performance.now();
    expect((await sequencePending(s.sql, { wait: true })).lastSeq).toBe(6);
    expect(performance.now() - t0).toBeLessThan(5000);
    await until("the follower to have all six", () => f.cursor === 6, 5000);
    expect(f.got.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  }, 60_000);
});

/** A stream event that records a merge (merge-record.ts): kept by compaction. */
async function insertMerge(q: SQL): Promise<void> {
  await q`INSERT INTO events (kind, entity_id, op, payload) VALUES ('stream', 'S1', 'update', ${q.json({ streamId: "S1", mergeConflict: null, merged: { commit: "abc" } })})`;
}

/** Runs the writer fixture until it reports the moment, then kill -9 and wait for its end. */
async function killedWriter(url: string, mode: "committed" | "open" | "in-pass", entity: string): Promise<{ id?: number; locked?: boolean }> {
  const child = Bun.spawn([process.execPath, WRITER, url, mode, entity], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`writer (${mode}) ended before reporting: ${text}`);
    text += new TextDecoder().decode(value);
  }
  child.kill(9);
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");
  return JSON.parse(text.trim());
}

/** A stand-in for the client that answers orch_feed_sequence() calls from a script, recording each call's `wait`. */
function scripted(rows: { n: number; last: number; locked: boolean; busy: boolean }[]) {
  const waits: unknown[] = [];
  const fake = (_strings: TemplateStringsArray, ...values: unknown[]) => {
    waits.push(values[1]);
    const r = rows.shift();
    if (!r) return Promise.reject(new Error("more calls than scripted"));
    return Promise.resolve([{ out_numbered: String(r.n), out_last_seq: String(r.last), out_locked: r.locked, out_busy: r.busy }]);
  };
  return { sql: fake as unknown as SQL, waits, rows };
}

test("sequencePending's calls: whoever held the lock re-checks after its commit, even when it found nothing left; a busy lock ends the call (handed off)", async () => {
  const idle = scripted([{ n: 0, last: 4, locked: false, busy: false }]);
  expect(await sequencePending(idle.sql)).toEqual({ numbered: 0, lastSeq: 4, handedOff: false });
  expect(idle.waits).toEqual([false]);

  const numbered = scripted([
    { n: 3, last: 7, locked: true, busy: false },
    { n: 0, last: 7, locked: false, busy: false },
  ]);
  expect(await sequencePending(numbered.sql, { wait: true })).toEqual({ numbered: 3, lastSeq: 7, handedOff: false });
  expect(numbered.waits).toEqual([true, false]); // the re-check never queues for the lock

  // Held the lock but another pass had numbered everything first: someone may have handed off meanwhile.
  const emptyHold = scripted([
    { n: 0, last: 7, locked: true, busy: false },
    { n: 2, last: 9, locked: true, busy: false },
    { n: 0, last: 9, locked: false, busy: false },
  ]);
  expect(await sequencePending(emptyHold.sql)).toEqual({ numbered: 2, lastSeq: 9, handedOff: false });
  expect(emptyHold.rows).toEqual([]);

  const handed = scripted([
    { n: 2, last: 9, locked: true, busy: false },
    { n: 0, last: 9, locked: false, busy: true },
  ]);
  expect(await sequencePending(handed.sql)).toEqual({ numbered: 2, lastSeq: 9, handedOff: true });

  const backlog = scripted([
    { n: SEQUENCE_BATCH, last: SEQUENCE_BATCH, locked: true, busy: false },
    { n: 5, last: SEQUENCE_BATCH + 5, locked: true, busy: false },
    { n: 0, last: SEQUENCE_BATCH + 5, locked: false, busy: false },
  ]);
  expect(await sequencePending(backlog.sql)).toEqual({ numbered: SEQUENCE_BATCH + 5, lastSeq: SEQUENCE_BATCH + 5, handedOff: false });
});

test("compaction follows SQLite's rule on seq: when the counter crosses a multiple of COMPACT_EVERY above EVENTS_KEPT", () => {
  expect(compactionCrossed(0, 4999)).toBeNull();
  expect(compactionCrossed(EVENTS_KEPT - 1, EVENTS_KEPT)).toBeNull(); // SQLite: id > EVENTS_KEPT
  const next = EVENTS_KEPT + COMPACT_EVERY;
  expect(compactionCrossed(next - 1, next)).toBe(next - EVENTS_KEPT);
  expect(compactionCrossed(next - 3, next + 7)).toBe(next - EVENTS_KEPT); // a pass numbering several
  expect(compactionCrossed(next, next + 1)).toBeNull();
});

describe("the feed's schema change on SQLite", () => {
  test("an existing database takes migration 0005 as a plain ADD COLUMN and CREATE TABLE; events keep one index", () => {
    const file = join(tempDir("orch-feed-sqlite-"), "tasks.db");
    const sqlite = new Database(file);
    const before = migrations.filter((m) => m.version < 5);
    expect(migrate(sqlite, before)).toBe(5);
    sqlite.run(`INSERT INTO events (kind, entity_id, op, payload) VALUES ('task', 'T1', 'update', '{"a":1}')`);
    const feed = migrations.find((m) => m.version === 5)!;
    const statements = feed.sql.split("--> statement-breakpoint").map((x) => x.trim().replace(/\s+/g, " "));
    expect(statements.map((x) => x.split(" ").slice(0, 3).join(" "))).toEqual(["CREATE TABLE `feed_state`", "ALTER TABLE `events`"]);
    expect(statements[1]).toBe("ALTER TABLE `events` ADD `seq` integer;");

    expect(migrate(sqlite, migrations.filter((m) => m.version <= 5))).toBe(1);
    const cols = sqlite.query("SELECT name, \"notnull\" AS nn FROM pragma_table_info('events')").all() as { name: string; nn: number }[];
    expect(cols.at(-1)).toEqual({ name: "seq", nn: 0 });
    expect(sqlite.query("SELECT id, entity_id, seq FROM events").all()).toEqual([{ id: 1, entity_id: "T1", seq: null }]);
    // No index on seq (and no UNIQUE, which would index every NULL): an event insert writes what it wrote before.
    const indexes = sqlite.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'").all();
    expect(indexes).toEqual([{ name: "events_stream_idx" }]);
    expect(sqlite.query("SELECT name FROM sqlite_master WHERE name = 'feed_state'").all()).toEqual([{ name: "feed_state" }]);
    sqlite.close();
  });
});
