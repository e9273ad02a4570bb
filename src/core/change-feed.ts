/**
 * The change feed: one poller per store that notices commits from any process and hands the new
 * `events` rows to its subscribers, oldest first. The API's SSE, the monitor and the orchestrator
 * all listen to it instead of each polling the database.
 *
 * A check reads the store's change token (on SQLite a pragma, no table touched) and only when it
 * moved reads `eventsSince(lastId)`. Checks run one at a time, in order: a check asked for while
 * one runs follows it, so no event is delivered twice or out of order. Writers are serialised (BEGIN
 * IMMEDIATE) and ids are AUTOINCREMENT, so committed ids only grow: reading "after the last id
 * seen" never skips a commit.
 *
 * When to check: the store's change nudge (on SQLite a watch on the database files) nudges the
 * feed within a millisecond of any process's commit, and a slow poll backs it up (file systems that do not
 * report writes, a nudge that came before the commit was visible). Each wake-up of an idle
 * process costs ≈0.1 ms of CPU here, so a 10 Hz poll alone would cost more than everything else
 * an idle server does; with the watch, commits arrive in milliseconds and idle costs ≈ nothing.
 */
import type { Store } from "../db/client.ts";
import { eventsSince, lastEventId, type ChangeEvent } from "./events.ts";

export type ChangeListener = (batch: ChangeEvent[]) => void;

export interface ChangeFeed {
  /** Called with each batch of new events (never empty). Returns the unsubscribe function. */
  subscribe(fn: ChangeListener): () => void;
  /** Start polling every `intervalMs` (idempotent). The timer never keeps a process alive by itself. */
  start(): void;
  stop(): void;
  /** Check now (after any check under way); resolves to how many events were delivered. Used by tests and after one's own writes. */
  poll(): Promise<number>;
  /** Id of the newest event delivered (or skipped at creation). */
  readonly lastId: number;
  readonly running: boolean;
  /** How many subscribers are listening now. */
  readonly listenerCount: number;
}

export interface ChangeFeedOptions {
  /** Fallback poll period (default 250 ms, or 100 ms when the files cannot be watched). */
  intervalMs?: number;
  /** Watch the database files for an immediate nudge (default true). */
  watch?: boolean;
  /** Deliver events after this id (default: the newest at creation — only changes from now on). */
  fromId?: number;
  /** A failing read (database gone, disk error) is reported here and retried on the next tick. */
  onError?: (err: unknown) => void;
}

const BATCH = 500;

/** A feed of the store's changes from now on (or after `fromId`); not started (see `start`). */
export async function createChangeFeed(store: Store, opts: ChangeFeedOptions = {}): Promise<ChangeFeed> {
  const listeners = new Set<ChangeListener>();
  let token = await store.changeToken();
  let lastId = opts.fromId ?? (await lastEventId(store));
  let timer: ReturnType<typeof setInterval> | undefined;
  let stopWatch: (() => void) | null = null;
  let quick: ReturnType<typeof setTimeout> | undefined;
  let settle: ReturnType<typeof setTimeout> | undefined;

  function deliver(batch: ChangeEvent[]) {
    for (const fn of [...listeners]) {
      try {
        fn(batch);
      } catch (err) {
        // One broken listener must not starve the others (or stop the poller).
        opts.onError?.(err);
      }
    }
  }

  async function check(): Promise<number> {
    // Token first: a commit landing between the two reads is then seen on the next tick.
    const now = await store.changeToken();
    if (now === token) return 0;
    token = now;
    let delivered = 0;
    for (;;) {
      const batch = await eventsSince(store, lastId, BATCH);
      if (batch.length === 0) break;
      lastId = batch[batch.length - 1]!.id;
      delivered += batch.length;
      deliver(batch);
      if (batch.length < BATCH) break;
    }
    return delivered;
  }

  let queue: Promise<unknown> = Promise.resolve();
  function poll(): Promise<number> {
    const next = queue.then(check);
    queue = next.catch(() => undefined);
    return next;
  }

  async function tick() {
    try {
      await poll();
    } catch (err) {
      opts.onError?.(err);
    }
  }

  const unref = (t: unknown) => (t as { unref?: () => void }).unref?.();

  /**
   * A file write: check in 2 ms (throttled: at most one pending), and again 30 ms after the last
   * write of a burst, in case the first check ran before the commit was visible.
   */
  function nudge() {
    if (!quick) {
      quick = setTimeout(() => {
        quick = undefined;
        void tick();
      }, 2);
      unref(quick);
    }
    clearTimeout(settle);
    settle = setTimeout(() => {
      settle = undefined;
      void tick();
    }, 30);
    unref(settle);
  }

  return {
    subscribe(fn) {
      listeners.add(fn);
      return () => {
        listeners.delete(fn);
      };
    },
    start() {
      if (timer) return;
      stopWatch = opts.watch === false ? null : store.watchChanges(nudge);
      timer = setInterval(tick, opts.intervalMs ?? (stopWatch ? 250 : 100));
      unref(timer);
    },
    stop() {
      clearInterval(timer);
      clearTimeout(quick);
      clearTimeout(settle);
      timer = quick = settle = undefined;
      stopWatch?.();
      stopWatch = null;
    },
    poll,
    get lastId() {
      return lastId;
    },
    get running() {
      return timer !== undefined;
    },
    get listenerCount() {
      return listeners.size;
    },
  };
}

const shared = new WeakMap<Store, Promise<ChangeFeed>>();

/** The process-wide feed of a store: every face in one process shares one poller. */
export function sharedChangeFeed(store: Store): Promise<ChangeFeed> {
  let feed = shared.get(store);
  if (!feed) {
    feed = createChangeFeed(store);
    shared.set(store, feed);
    // A feed that could not be made (the database failing) is made again by the next caller.
    feed.catch(() => shared.delete(store));
  }
  return feed;
}
