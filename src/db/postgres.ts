/**
 * Opening a PostgreSQL database: Bun's built-in client (`SQL` from "bun") under drizzle's bun-sql
 * driver, with orch's embedded PostgreSQL migrations applied under an advisory lock.
 *
 * The PostgreSQL store (pg-store.ts) opens through it. Every failure is an OrchError
 * with one line that names the database by its redacted URL (never the password):
 * a malformed URL is a usage error (exit 2); a refused connection, a wrong password, a missing
 * database, a database already holding someone else's tables fail (exit 1), the last touching
 * nothing.
 */
import { SQL } from "bun";
import { drizzle, type BunSQLDatabase } from "drizzle-orm/bun-sql";
import { conflict, failed, isOrchError, unavailable, type OrchError } from "../errors.ts";
import { migrations as pgMigrations } from "./migrations-pg/index.ts";
import { parsePostgresUrl, scrubMessage, type PgTarget } from "./pg-url.ts";
import { pgSchema } from "./schema-pg.ts";

export type PgDb = BunSQLDatabase<typeof pgSchema>;

export interface PgStore {
  readonly db: PgDb;
  /** The pool underneath (Bun's SQL client). */
  readonly sql: SQL;
  /** The database's URL with the password hidden: the one to print. */
  readonly url: string;
  /** Migrations applied by this open (0 when the schema was already current). */
  readonly migrated: number;
  close(): Promise<void>;
}

export interface OpenPostgresOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** Seconds an unused connection stays open (default 10). */
  idleTimeoutSeconds?: number;
  /** Seconds to wait for a connection before giving up (default 10). */
  connectTimeoutSeconds?: number;
}

/** The table that records which of orch's migrations a database has (the same name as on SQLite). */
export const PG_TRACK = "__orch_migrations";
/**
 * The advisory lock every orch process takes to migrate: two int4 keys, 'orch' and 1. Taken per
 * transaction (pg_advisory_xact_lock), so it is released by COMMIT or ROLLBACK, or when a
 * crashed process's connection goes away.
 */
export const MIGRATE_LOCK = [0x6f726368, 1] as const;

interface Migration {
  version: number;
  tag: string;
  sql: string;
}

/** Open (and migrate) the PostgreSQL database a `postgres://` / `postgresql://` URL names. */
export async function openPostgres(url: string, opts: OpenPostgresOptions = {}): Promise<PgStore> {
  const target = parsePostgresUrl(url);
  let sql: SQL;
  try {
    sql = new SQL(target.url, {
      max: opts.max ?? 10,
      connectionTimeout: opts.connectTimeoutSeconds ?? 10,
      // An idle process (a monitor, an MCP session waiting for its agent) gives its connections
      // back to a shared server; the next query opens one again in a few milliseconds.
      idleTimeout: opts.idleTimeoutSeconds ?? 10,
      // Unset keys in the URL must not be filled from another database's environment (DATABASE_URL).
      adapter: "postgres",
    });
  } catch (err) {
    throw pgFailure(err, target);
  }
  try {
    const migrated = await migratePostgres(sql, pgMigrations, target);
    const db = drizzle({ client: sql, schema: pgSchema });
    return {
      db,
      sql,
      url: target.safe,
      migrated,
      close: () => sql.close({ timeout: 5 }),
    };
  } catch (err) {
    await sql.close({ timeout: 0 }).catch(() => {});
    throw isOrchError(err) ? err : pgFailure(err, target);
  }
}

/**
 * Reads the applied version, or null when the schema has no tracking table. The catalog is read
 * with a query, not to_regclass(): a name lookup without a lock answers from the backend's cache,
 * which after waiting on the advisory lock can still say "no such table" for the table the
 * process that held the lock has just created and committed.
 */
async function appliedVersion(q: SQL): Promise<number | null> {
  const [row] = await q`
    SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = current_schema() AND c.relname = ${PG_TRACK} AND c.relkind IN ('r', 'p')) AS tracked`;
  if (!row?.tracked) return null;
  const [v] = await q.unsafe(`SELECT max(version) AS v FROM ${PG_TRACK}`);
  return v?.v === null || v?.v === undefined ? -1 : Number(v.v);
}

/**
 * Apply the migrations this orch has and the database lacks, under the advisory lock, in one
 * transaction. A database already current costs one query and no lock. A schema that holds
 * tables but no orch tracking table is someone else's: refused before anything is written.
 */
export async function migratePostgres(sql: SQL, list: Migration[], target: Pick<PgTarget, "safe" | "database">): Promise<number> {
  const latest = list.length ? Math.max(...list.map((m) => m.version)) : -1;
  const seen = await appliedVersion(sql);
  if (seen !== null && seen > latest) throw newerSchema(target, seen, latest);
  if (seen === latest) return 0;

  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATE_LOCK[0]}::int4, ${MIGRATE_LOCK[1]}::int4)`;
    // Re-read under the lock: another process may have migrated while this one waited.
    const [where] = await tx`SELECT current_schema() AS schema`;
    const schema = where?.schema as string | null;
    if (!schema) {
      throw failed(`cannot open database ${target.safe}: its search_path names no schema that exists, so orch has nowhere to create its tables`);
    }
    const current = await appliedVersion(tx);
    if (current === null) {
      const others = await tx`
        SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
        ORDER BY c.relname LIMIT 6`;
      if (others.length > 0) {
        const names = others.slice(0, 5).map((r: { name: string }) => r.name).join(", ") + (others.length > 5 ? ", …" : "");
        throw conflict(
          `cannot open database ${target.safe}: schema "${schema}" already holds tables that are not orch's (${names}); nothing was changed — give orch a database of its own (createdb orch)`,
        );
      }
    }
    const from = current ?? -1;
    if (from > latest) throw newerSchema(target, from, latest);
    if (from === latest) return 0;
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${PG_TRACK} (version integer PRIMARY KEY, tag text NOT NULL, applied_at text NOT NULL)`);
    let applied = 0;
    for (const m of [...list].sort((a, b) => a.version - b.version)) {
      if (m.version <= from) continue;
      for (const statement of m.sql.split("--> statement-breakpoint")) {
        // drizzle-kit writes foreign keys to "public"."table"; orch's tables live in the
        // connection's current schema (public unless search_path says otherwise), so refer to them there.
        const text = statement.replaceAll('REFERENCES "public".', "REFERENCES ").trim();
        if (text) await tx.unsafe(text);
      }
      await tx`INSERT INTO __orch_migrations (version, tag, applied_at) VALUES (${m.version}, ${m.tag}, ${new Date().toISOString()})`;
      applied++;
    }
    return applied;
  });
}

function newerSchema(target: Pick<PgTarget, "safe">, current: number, latest: number): OrchError {
  return failed(`cannot open database ${target.safe}: its schema v${current} is newer than this orch understands (v${latest}); upgrade orch`);
}

/** A driver error as one line a person can act on, the password nowhere in it. */
export function pgFailure(err: unknown, target: PgTarget): OrchError {
  if (isOrchError(err)) return err;
  const e = err as { code?: string; errno?: string; message?: string };
  const at = `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`;
  const who = target.user ? `user "${target.user}"` : "the default user";
  const say = (problem: string) => failed(scrubMessage(`cannot open database ${target.safe}: ${problem}`, target));
  // Not reached (as opposed to refused by it): a long-running orch waits for it to come back.
  const away = (problem: string) => unavailable(scrubMessage(`cannot open database ${target.safe}: ${problem}`, target));
  const server = scrubMessage(e.message ?? String(err), target);
  switch (e.code) {
    case "ERR_POSTGRES_CONNECTION_REFUSED":
      return away(`cannot connect to ${at}: connection refused or host not found (is PostgreSQL running there?)`);
    case "ERR_POSTGRES_CONNECTION_TIMEOUT":
    case "ERR_POSTGRES_CONNECTION_FAILED":
      return away(`cannot connect to ${at}: no answer (the connection timed out or closed before the login)`);
    case "ERR_POSTGRES_CONNECTION_CLOSED":
      return away(`the connection to ${at} closed unexpectedly`);
    case "ERR_POSTGRES_TLS_NOT_AVAILABLE":
      return say(`the server at ${at} does not offer TLS, which the URL's sslmode requires`);
    case "ERR_POSTGRES_TLS_UPGRADE_FAILED":
      return say(`TLS with the server at ${at} failed`);
    case "ERR_INVALID_URL":
      return say("the driver could not read this URL");
  }
  if (typeof e.code === "string" && /AUTHENTICATION|SASL|SERVER_KEY|SERVER_SIGNATURE|CHANNEL_BINDING/.test(e.code)) {
    return say(`cannot log in as ${who}: ${e.code.replace(/^ERR_POSTGRES_/, "").toLowerCase().replaceAll("_", " ")}`);
  }
  switch (e.errno) {
    case "28P01":
      return say(`the server refused the login of ${who}: wrong password (or no such user)`);
    case "28000":
      return say(`the server does not let ${who} in: ${server}`);
    case "3D000":
      return say(`there is no database "${target.database}" on ${at}; create it first (createdb ${target.database})`);
    case "42501":
      return say(`${who} lacks a privilege orch needs (${server}): orch creates its tables in the database, so it needs CREATE on the schema (or own the database)`);
    case "53300":
      return say(`the server at ${at} has no free connection (${server})`);
    case "57P03":
      return say(`the server at ${at} is starting up or shutting down; try again`);
    case "42704":
      return say(`the server refused a URL parameter: ${server}`);
  }
  return say(e.errno ? `${server} (SQLSTATE ${e.errno})` : server);
}
