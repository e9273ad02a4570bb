/**
 * Which kind of database this process talks to. The core's tables and dialect are bound once per
 * process (db/schema.ts bindTables, db/dialect.ts bindDialect), so a process opens databases of
 * one kind only: a second kind is refused with one line instead of running queries on the wrong
 * engine's tables.
 */
import { failed } from "../errors.ts";

export type Engine = "sqlite" | "postgres";

let claimed: Engine | null = null;

export function claimEngine(kind: Engine): void {
  if (claimed && claimed !== kind) {
    throw failed(`this process already uses a ${claimed === "sqlite" ? "SQLite" : "PostgreSQL"} database; it cannot open a ${kind === "sqlite" ? "SQLite" : "PostgreSQL"} one too`);
  }
  claimed = kind;
}
