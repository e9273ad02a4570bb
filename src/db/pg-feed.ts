/**
 * The change feed on PostgreSQL: a commit-ordered, gapless cursor (`events.seq`) assigned after
 * commit by a serialised sequencer, LISTEN/NOTIFY to wake readers, and a catch-up read that is
 * the truth (docs/postgres.md, "The change feed on PostgreSQL").
 *
 * Why not the id: an event's id is taken when it is inserted, but the event becomes visible when
 * its transaction commits. T1 inserts 41, T2 inserts 42 and commits first; a reader that reads
 * "after 40" sees 42, moves on, and never sees 41.
 *
 * - Writers insert events with seq NULL inside their own transaction, as on SQLite; nothing
 *   about that transaction is serialised.
 * - After it commits, the writer runs `sequencePending`: a short transaction (one call of the
 *   SQL function orch_feed_sequence()) that takes the advisory lock ('orch', 2) and then, in
 *   statements whose snapshots are taken after the lock (so they see every earlier pass's
 *   numbers), numbers every committed unsequenced event in id order from `feed_state.last_seq`
 *   and NOTIFYs `orch_events` with the new last seq. One pass numbers everything committed so
 *   far, so concurrent writers share passes: a writer that finds nothing unsequenced returns
 *   without the lock, and one that finds the lock taken hands off to its holder, which re-checks
 *   after releasing it (see sequencePending).
 * - Readers read `seq > cursor ORDER BY seq`. The visible seqs are always 1..N (passes are
 *   serialised and each commits its numbers atomically; the lock is released only after its
 *   commit is visible), so a reader that has seen N has seen everything below it, and an event
 *   that commits late gets a later number, never a smaller one. Each event is numbered once
 *   (`seq IS NULL` under the lock), so it is delivered once per cursor.
 * - A writer that dies between its commit and its pass leaves events unsequenced; the next pass
 *   by anyone numbers them (a watcher sweeps when it connects, reconnects, and on a slow timer).
 *   NOTIFY only wakes: a lost notification costs latency, never an event.
 *
 * Functions take Bun's client (`PgStore.sql`, a reserved connection or a transaction handle
 * for the reads). Writers only insert events (their trigger wakes the listeners at COMMIT); every
 * feed read of the PostgreSQL dialect (pg-dialect.ts) and the store's change token run a waiting
 * pass first; the store watches with watchPgFeed.
 */
import { SQL } from "bun";
import { COMPACT_EVERY, EVENTS_KEPT } from "./event-log.ts";
import type { FeedEvent as DialectFeedEvent } from "./dialect.ts";

/** The NOTIFY channel; the payload is the last seq the pass gave. */
export const FEED_CHANNEL = "orch_events";
/** The sequencer's advisory lock: 'orch' and 2 (migrations take 'orch' and 1); orch_feed_sequence() has it literally. */
export const SEQUENCE_LOCK = [0x6f726368, 2] as const;
/** Events numbered per pass; a bigger backlog (after a crash) takes several. */
export const SEQUENCE_BATCH = 10_000;

/** One event as read by seq: `seq` is the cursor (the SSE id the dialect hands on); `id` is the row's key. */
export type FeedEvent = DialectFeedEvent & { seq: number };

export interface SequencePass {
  /** Events this call numbered (0 when another pass had numbered them, or will). */
  numbered: number;
  /** The last seq given as far as this call saw. */
  lastSeq: number;
  /**
   * Another pass held the lock (and `wait` was false): that pass's holder numbers what is left,
   * this caller's events included, in the re-check it makes after releasing the lock.
   */
  handedOff: boolean;
}

export interface SequenceOptions {
  /**
   * Wait for the lock when another pass holds it, so that every event committed before the call
   * is numbered when it returns (a reader catching up; tests). Default false: a writer after its
   * commit hands off to the holder instead of queueing behind it.
   */
  wait?: boolean;
}

/**
 * Number every committed, unsequenced event (see the module comment). Call it before reading the
 * feed (or after a commit), on the pool or a reserved connection — never inside a transaction
 * (each pass must be its own, and see what has committed since).
 *
 * A pass is one call of orch_feed_sequence() (migrations-pg/0002_feed_sequencer.sql), one
 * prepared round trip: nothing unsequenced → it returns without the lock; otherwise it takes the
 * lock and, in statements with snapshots taken after it, locks the unsequenced rows (FOR UPDATE),
 * numbers them in id order after the counter, advances the counter and notifies (the counter row
 * is written, and NOTIFY sent, only when something was numbered).
 *
 * The hand-off: without `wait`, a pass that finds the lock taken returns at once. That is safe
 * because whoever held the lock calls again after its commit (which released the lock) — a
 * re-check whose snapshot sees every commit made before the release, so every commit of a caller
 * that found the lock taken — and goes on while something is left and the lock is free. So every
 * call ends with a re-check that found nothing to number, or found the lock taken by a pass that
 * will re-check in turn (and whose numbering, its snapshot taken after it got the lock, after
 * this release, sees those commits). A holder killed before its re-check leaves events for the next pass
 * (any writer's, or a watcher's sweep): latency, never a loss.
 *
 * When the counter crosses a compaction boundary the log is compacted afterwards, outside the
 * lock (SQLite's rule: keep the newest EVENTS_KEPT).
 */
export async function sequencePending(sql: SQL, opts: SequenceOptions = {}): Promise<SequencePass> {
  let numbered = 0;
  let wait = opts.wait ?? false;
  for (;;) {
    const [row] = await sql`SELECT out_numbered, out_last_seq, out_locked, out_busy FROM orch_feed_sequence(${SEQUENCE_BATCH}::int, ${wait}::boolean)`;
    const n = Number(row.out_numbered);
    const lastSeq = Number(row.out_last_seq);
    if (row.out_busy) return { numbered, lastSeq, handedOff: true };
    numbered += n;
    // Not locked: nothing was left to number. Locked (even if it found nothing left, another pass
    // having numbered it meanwhile): someone may have handed off to it, so re-check.
    if (!row.out_locked) return { numbered, lastSeq, handedOff: false };
    const through = n > 0 ? compactionCrossed(lastSeq - n, lastSeq) : null;
    if (through !== null) await compactFeed(sql, through);
    wait = false; // the re-check never queues: a holder it finds re-checks in turn
  }
}

/** Passes for one process's writers, coalesced: see createSequencer. */
export interface Sequencer {
  /** After a commit: make sure a pass follows, without waiting for it (errors go to onError; the next pass or a sweep covers them). */
  kick(): void;
  /** Resolves when a pass that started after this call has finished, waiting for the lock: everything committed before the call is numbered. */
  flush(): Promise<SequencePass>;
}

/**
 * A process's sequencing passes, coalesced: at most one runs at a time, and every request made
 * while one runs is served by the single pass that follows it (the running one may have taken
 * its snapshot before the requester's commit). A writer kicks it after its commit and answers its
 * caller at once: its events are numbered moments later, by this pass or anyone's.
 */
export function createSequencer(sql: SQL, onError: (err: unknown) => void = () => {}): Sequencer {
  let running: Promise<SequencePass> | null = null;
  let queued: Promise<SequencePass> | null = null;
  let waiting = false;
  const flush = (wait = true): Promise<SequencePass> => {
    waiting ||= wait;
    if (!running) {
      const pass = sequencePending(sql, { wait: waiting }).finally(() => {
        if (running === pass) running = null;
      });
      waiting = false;
      running = pass;
      return pass;
    }
    queued ??= running
      .catch(() => {})
      .then(() => {
        queued = null;
        return flush(false);
      });
    return queued;
  };
  return { flush: () => flush(true), kick: () => void flush(false).catch(onError) };
}

/** The seq through which to compact when the counter moved from `before` to `after`, or null. */
export function compactionCrossed(before: number, after: number): number | null {
  const boundary = Math.floor(after / COMPACT_EVERY) * COMPACT_EVERY;
  return boundary > before && boundary > EVENTS_KEPT ? boundary - EVENTS_KEPT : null;
}

/** Events with seq > cursor, in seq order, at most `limit`. */
export async function eventsAfterSeq(sql: SQL, cursor: number, limit = 1000): Promise<FeedEvent[]> {
  const rows = await sql`
    SELECT seq, id, kind, entity_id, op, payload, created_at FROM events
    WHERE seq > ${Math.trunc(cursor)} ORDER BY seq LIMIT ${Math.max(0, Math.trunc(limit))}`;
  return (rows as { seq: string; id: string; kind: FeedEvent["kind"]; entity_id: string; op: FeedEvent["op"]; payload: unknown; created_at: string }[]).map((r) => ({
    seq: Number(r.seq),
    id: Number(r.id),
    kind: r.kind,
    entityId: r.entity_id,
    op: r.op,
    payload: r.payload,
    createdAt: r.created_at,
  }));
}

async function feedState(sql: SQL): Promise<{ lastSeq: number; compactedThrough: number }> {
  const [row] = await sql`SELECT last_seq, compacted_through FROM feed_state WHERE id = 1`;
  return { lastSeq: Number(row?.last_seq ?? 0), compactedThrough: Number(row?.compacted_through ?? 0) };
}

/** The last seq given (0 before the first). Every event up to it is visible. */
export async function latestSeq(sql: SQL): Promise<number> {
  return (await feedState(sql)).lastSeq;
}

/**
 * Can a reader at `cursor` be brought up to date from the log? True when no event after it was
 * compacted away (`cursor >= compacted_through`; no assumption that ids or seqs are contiguous)
 * and the cursor is one this feed gave (`cursor <= last_seq`: a cursor from the future — another
 * database, or this one re-created — would otherwise silently skip the events up to it).
 * False: send a snapshot instead.
 */
export async function replayable(sql: SQL, cursor: number): Promise<boolean> {
  const s = await feedState(sql);
  return cursor >= s.compactedThrough && cursor <= s.lastSeq;
}

/**
 * Delete the events with seq <= `throughSeq` but the merge records (merge-record.ts reads a
 * stream's latest one, however old), and record the horizon, in one transaction: a reader sees
 * both or neither. Unsequenced events are never touched.
 */
export async function compactFeed(sql: SQL, throughSeq: number): Promise<void> {
  const through = Math.trunc(throughSeq);
  await sql.begin(async (tx) => {
    await tx`DELETE FROM events WHERE seq <= ${through} AND NOT (kind = 'stream' AND payload ? 'mergeConflict')`;
    await tx`
      INSERT INTO feed_state (id, compacted_through) VALUES (1, ${through})
      ON CONFLICT (id) DO UPDATE SET compacted_through = greatest(feed_state.compacted_through, EXCLUDED.compacted_through)`;
  });
}

/** Are there committed events no pass has numbered yet (a writer died before its pass)? */
export async function hasUnsequenced(sql: SQL): Promise<boolean> {
  const [row] = await sql`SELECT EXISTS (SELECT 1 FROM events WHERE seq IS NULL) AS pending`;
  return row?.pending === true;
}

export interface PgFeedWatchOptions {
  /** How often to look for events a dead writer left unsequenced (default 5 s; 0: never). */
  sweepMs?: number;
  /** Errors of the background work (a sweep, a failed first subscribe); the watch keeps going. */
  onError?: (err: unknown) => void;
}

export interface PgFeedWatch {
  /** Resolves once LISTEN is acknowledged the first time (and the first wake has been called). */
  readonly ready: Promise<void>;
  /** Stop listening and close the watch's connections. */
  close(): Promise<void>;
}

/**
 * Wake `wake` whenever the feed may have moved: on each NOTIFY (with the seq it carries), and
 * with no argument right after LISTEN is acknowledged — first, and again after every reconnect,
 * once a sequencing pass has numbered anything left behind — so the caller's catch-up read
 * (`eventsAfterSeq(cursor)`) follows every gap in which notifications could have been lost.
 *
 * Its own client: one dedicated LISTEN connection (Bun's `sql.listen`, which reconnects with
 * backoff and re-subscribes after the server restarts) and one pooled connection for the passes.
 * A slow sweep numbers events a dead writer left behind (their NOTIFY then wakes everyone).
 */
export function watchPgFeed(url: string, wake: (lastSeq?: number) => void, opts: PgFeedWatchOptions = {}): PgFeedWatch {
  const onError = opts.onError ?? (() => {});
  const sql = new SQL(url, { max: 1, adapter: "postgres", connectionTimeout: 10, connection: { idle_session_timeout: 0 } });
  let closed = false;
  let subscription: SQL.ListenSubscription | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let sweeping = false;

  const sweep = async (always: boolean) => {
    if (closed || sweeping) return;
    sweeping = true;
    try {
      // After a (re)subscribe wait for the lock, so the catch-up read that follows finds everything numbered.
      if (always || (await hasUnsequenced(sql))) await sequencePending(sql, { wait: always });
    } catch (err) {
      if (!closed) onError(err);
    } finally {
      sweeping = false;
    }
  };

  const onNotify = (payload: string) => {
    if (closed) return;
    const seq = Number(payload);
    wake(Number.isFinite(seq) && payload !== "" ? seq : undefined);
  };
  let firstWake!: () => void;
  const woken = new Promise<void>((resolve) => (firstWake = resolve));
  // Subscribed (first time or after a reconnect): number what may be left, then wake for a catch-up read.
  const onListen = () => {
    if (closed) return firstWake();
    void sweep(true).finally(() => {
      if (!closed) wake();
      firstWake();
    });
  };

  const subscribe = async (): Promise<void> => {
    for (let delay = 250; !closed; delay = Math.min(delay * 2, 8000)) {
      try {
        const sub = await sql.listen(FEED_CHANNEL, onNotify, onListen);
        if (closed) {
          await sub.unlisten().catch(() => {});
          return;
        }
        subscription = sub;
        return;
      } catch (err) {
        if (closed) return;
        onError(err);
        await Bun.sleep(delay);
      }
    }
  };

  const ready = subscribe().then(async () => {
    if (!closed && (opts.sweepMs ?? 5000) > 0) timer = setInterval(() => void sweep(false), opts.sweepMs ?? 5000);
    if (!closed) await woken;
  });

  return {
    ready,
    async close() {
      if (closed) return;
      closed = true;
      firstWake();
      if (timer) clearInterval(timer);
      await subscription?.unlisten().catch(() => {});
      await sql.close({ timeout: 1 }).catch(() => {});
    },
  };
}
