/**
 * Applies the SQL migrations embedded in the binary (see scripts/embed-migrations.ts).
 * Serialised under one BEGIN IMMEDIATE transaction, so two processes opening a fresh database
 * at once cannot both migrate; the loser sees the winner's version and does nothing.
 */
import type { Database } from "bun:sqlite";
import { failed } from "../errors.ts";
import { migrations, type EmbeddedMigration } from "./migrations/index.ts";

const TRACK = "__orch_migrations";

export const latestSchemaVersion = (list: EmbeddedMigration[] = migrations) =>
  list.length ? Math.max(...list.map((m) => m.version)) : -1;

function appliedVersion(sqlite: Database): number {
  const exists = sqlite.query(`SELECT 1 FROM sqlite_master WHERE type='table' AND name='${TRACK}'`).get();
  if (!exists) return -1;
  const row = sqlite.query(`SELECT max(version) AS v FROM ${TRACK}`).get() as { v: number | null };
  return row.v ?? -1;
}

export function migrate(sqlite: Database, list: EmbeddedMigration[] = migrations): number {
  const latest = latestSchemaVersion(list);
  const current = appliedVersion(sqlite);
  if (current === latest) return 0;
  if (current > latest) {
    throw failed(`database schema v${current} is newer than this orch understands (v${latest}); upgrade orch`);
  }
  let applied = 0;
  sqlite.run("BEGIN IMMEDIATE");
  try {
    sqlite.run(
      `CREATE TABLE IF NOT EXISTS ${TRACK} (version INTEGER PRIMARY KEY, tag TEXT NOT NULL, applied_at TEXT NOT NULL)`,
    );
    const now = appliedVersion(sqlite); // re-read under the write lock: another process may have won
    for (const m of [...list].sort((a, b) => a.version - b.version)) {
      if (m.version <= now) continue;
      for (const statement of m.sql.split("--> statement-breakpoint")) {
        if (statement.trim()) sqlite.run(statement);
      }
      sqlite.query(`INSERT INTO ${TRACK} (version, tag, applied_at) VALUES (?, ?, ?)`).run(
        m.version,
        m.tag,
        new Date().toISOString(),
      );
      applied++;
    }
    sqlite.run("COMMIT");
  } catch (err) {
    sqlite.run("ROLLBACK");
    throw err;
  }
  return applied;
}
