/**
 * Prepared queries, once per database handle. Drizzle rebuilds a query's SQL text on every call
 * (≈20–40 µs each, most of an update's CPU), all of it while the write lock is held; with many
 * writer processes on few cores the lock holder then gets preempted and everyone waits. A
 * `.prepare()`d query with `sql.placeholder(...)` values skips the building. Used on the hot
 * write path only (a task update and what it refreshes); everything else stays plain Drizzle.
 */
import { sql } from "drizzle-orm";
import type { Db } from "./client.ts";

const memo = new WeakMap<Db, Map<string, unknown>>();

/** The query `build` prepares, built on the first call for this `db` and `key`, reused after. */
export function preparedQuery<T>(db: Db, key: string, build: (db: Db) => T): T {
  let m = memo.get(db);
  if (!m) memo.set(db, (m = new Map()));
  let q = m.get(key) as T | undefined;
  if (q === undefined) m.set(key, (q = build(db)));
  return q;
}

/**
 * A placeholder where Drizzle's types want a value (`.set({...})` of an update). At run time
 * Drizzle wraps it as a parameter with the column's encoder, so JSON columns are still encoded
 * (drizzle-orm is pinned; test/core/prepared.test.ts checks it).
 */
export const slot = <T>(name: string): T => sql.placeholder(name) as unknown as T;
