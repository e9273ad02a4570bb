/**
 * The few things the core asks of the database that each engine spells its own way. The core
 * uses these instead of writing SQL of one engine; this is the SQLite spelling.
 */
import { sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { Db } from "./client.ts";

/**
 * A table's rows in the order they were inserted (an integer that only grows: pages and cursors
 * walk it). SQLite's rowid; a table without one (an engine that has none) needs a serial column.
 */
export function insertionOrder(table: SQLWrapper): SQL<number> {
  return sql<number>`${table}.rowid`;
}

/** The number of elements of a JSON array column. */
export function jsonArrayLength(column: SQLWrapper): SQL<number> {
  return sql<number>`json_array_length(${column})`;
}

/**
 * Foreign keys of the open transaction are checked at its commit, not per statement (renames
 * that cascade by hand). Inside a transaction only.
 */
export async function deferForeignKeys(db: Db): Promise<void> {
  db.$client.run("PRAGMA defer_foreign_keys = ON");
}

/** A JSON column equal to the JSON text `json` (as stored: the same value written the same way). */
export function jsonEquals(column: SQLWrapper, json: string): SQL {
  return sql`${column} = ${json}`;
}
