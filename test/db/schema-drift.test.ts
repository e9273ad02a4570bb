/**
 * One schema, two dialects, and the migrations that must follow it:
 * - drizzle-kit `generate` on a copy of the repository finds nothing new for SQLite
 *   (drizzle.config.ts) nor PostgreSQL (drizzle.pg.config.ts): a change to db/tables.ts without
 *   `npm run db:generate` fails here, and so does a stale embedded index.ts;
 * - the SQLite tables are those of the schema before the kit (test/db/fixtures), column for column;
 * - the PostgreSQL tables mirror the SQLite ones: names, nullability, defaults, keys, indexes.
 * The types are checked at compile time (`npx tsc --noEmit`): the SQLite rows are exactly the old
 * ones, and a PostgreSQL row has the same shape as its SQLite twin.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { getTableConfig as pgConfig, PgDialect, type PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteConfig, SQLiteSyncDialect, type SQLiteTable } from "drizzle-orm/sqlite-core";
import type { SQL } from "drizzle-orm";
import { embedMigrations } from "../../scripts/embed-migrations.ts";
import * as sqlite from "../../src/db/schema.ts";
import * as pg from "../../src/db/schema-pg.ts";
import * as before from "./fixtures/schema-sqlite-before-kit.ts";
import { tempDir } from "../helpers.ts";

const root = join(import.meta.dir, "..", "..");
const TABLES = [
  "initiatives",
  "prds",
  "streams",
  "tasks",
  "workProducts",
  "agentActivity",
  "agentSessions",
  "agents",
  "inbox",
  "policyRules",
  "streamBudgets",
  "streamClaims",
  "apiTokens",
  "events",
  "feedState",
] as const;

// ---- compile-time checks (tsc) -------------------------------------------------------------
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** true only when every pair is the same type (a single false makes it false). */
type AllSame<M extends Record<string, [unknown, unknown]>> = false extends { [K in keyof M]: Same<M[K][0], M[K][1]> }[keyof M] ? false : true;
// The SQLite tables' row types are those of the schema before the kit …
const _sqliteRowsUnchanged: AllSame<{
  [K in (typeof TABLES)[number] as `${K}Select`]: [(typeof sqlite)[K]["$inferSelect"], (typeof before)[K]["$inferSelect"]];
} & { [K in (typeof TABLES)[number] as `${K}Insert`]: [(typeof sqlite)[K]["$inferInsert"], (typeof before)[K]["$inferInsert"]] }> = true;
// … and so are the tables themselves (columns, their configs, the dialect).
const _sqliteTablesUnchanged: AllSame<{ [K in (typeof TABLES)[number]]: [(typeof sqlite)[K], (typeof before)[K]] }> = true;
// A PostgreSQL row reads and inserts with the same shape as its SQLite twin.
const _pgRowsMatch: AllSame<{
  [K in (typeof TABLES)[number] as `${K}Select`]: [(typeof pg)[K]["$inferSelect"], (typeof sqlite)[K]["$inferSelect"]];
} & { [K in (typeof TABLES)[number] as `${K}Insert`]: [(typeof pg)[K]["$inferInsert"], (typeof sqlite)[K]["$inferInsert"]] }> = true;
void [_sqliteRowsUnchanged, _sqliteTablesUnchanged, _pgRowsMatch];

// ---- drizzle-kit: nothing new to generate ---------------------------------------------------

/** A copy of what drizzle-kit reads (configs, src/db/*.ts, both migration folders) with node_modules linked. */
function repoCopy(): string {
  const dir = tempDir("orch-drift-");
  for (const f of ["drizzle.config.ts", "drizzle.pg.config.ts", "package.json", "tsconfig.json"]) cpSync(join(root, f), join(dir, f));
  mkdirSync(join(dir, "src", "db"), { recursive: true });
  for (const f of readdirSync(join(root, "src", "db"))) {
    if (f.endsWith(".ts")) cpSync(join(root, "src", "db", f), join(dir, "src", "db", f));
  }
  for (const folder of ["migrations", "migrations-pg"]) cpSync(join(root, "src", "db", folder), join(dir, "src", "db", folder), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

async function generate(dir: string, config: string): Promise<string> {
  const p = Bun.spawn([process.execPath, join(dir, "node_modules", ".bin", "drizzle-kit"), "generate", "--config", config], {
    cwd: dir,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, NO_COLOR: "1" },
    timeout: 90_000, // drizzle-kit asks interactively about renames; without a terminal that must not hang the suite
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const text = out + err;
  if (code !== 0) throw new Error(`drizzle-kit generate --config ${config} exited ${code}: ${text.slice(-800)}`);
  return text;
}

describe("migrations match the schema", () => {
  for (const [dialect, config, folder] of [
    ["SQLite", "drizzle.config.ts", "migrations"],
    ["PostgreSQL", "drizzle.pg.config.ts", "migrations-pg"],
  ] as const) {
    test(`${dialect}: drizzle-kit generate finds no change, and index.ts embeds every migration`, async () => {
      const dir = repoCopy();
      const migrations = join(dir, "src", "db", folder);
      const filesBefore = listing(migrations);
      const out = await generate(dir, config);
      if (!out.includes("No schema changes")) throw new Error(`src/db/${folder} is behind src/db/tables.ts: run \`npm run db:generate\` (drizzle-kit said: ${out.trim().split("\n").slice(-2).join(" ")})`);
      expect(listing(migrations)).toEqual(filesBefore);
      // The embedded module is what the binary applies: it must list the journal's migrations.
      const indexBefore = readFileSync(join(migrations, "index.ts"), "utf8");
      const latestBefore = readFileSync(join(migrations, "latest.ts"), "utf8");
      await embedMigrations(migrations);
      expect(readFileSync(join(migrations, "index.ts"), "utf8")).toBe(indexBefore);
      expect(readFileSync(join(migrations, "latest.ts"), "utf8")).toBe(latestBefore);
    }, 120_000);
  }
});

// ---- the tables, compared at run time -------------------------------------------------------

const sqliteDialect = new SQLiteSyncDialect();
const pgDialect = new PgDialect();
const sqliteSql = (s: SQL | undefined) => (s ? sqliteDialect.sqlToQuery(s).sql : undefined);
const pgSql = (s: SQL | undefined) => (s ? pgDialect.sqlToQuery(s).sql : undefined);

function describeSqlite(table: SQLiteTable) {
  const c = sqliteConfig(table);
  return {
    name: c.name,
    columns: c.columns.map((col) => ({
      name: col.name,
      columnType: col.columnType,
      notNull: col.notNull,
      hasDefault: col.hasDefault,
      default: col.default && typeof col.default === "object" && "queryChunks" in col.default ? sqliteSql(col.default as SQL) : col.default,
      primary: col.primary,
      isUnique: col.isUnique,
      uniqueName: col.uniqueName,
      enumValues: col.enumValues,
    })),
    indexes: c.indexes.map((i) => ({
      name: i.config.name,
      unique: i.config.unique,
      columns: i.config.columns.map((col) => (col as { name: string }).name),
      where: sqliteSql(i.config.where),
    })),
    foreignKeys: c.foreignKeys.map((fk) => {
      const r = fk.reference();
      return { name: fk.getName(), columns: r.columns.map((x) => x.name), to: sqliteConfig(r.foreignTable).name, toColumns: r.foreignColumns.map((x) => x.name) };
    }),
  };
}

test("the SQLite tables are the schema before the kit, column for column", () => {
  for (const name of TABLES) {
    expect(describeSqlite(sqlite[name] as SQLiteTable)).toEqual(describeSqlite(before[name] as SQLiteTable));
  }
});

/** Indexes only the PostgreSQL tables have (db/tables.ts, k.pgOnly): the change feed's sequencer and readers. */
const PG_ONLY_INDEXES: Record<string, { table: string; unique: boolean; columns: string[]; where: string }> = {
  events_seq_idx: { table: "events", unique: true, columns: ["seq"], where: '"events"."seq" IS NOT NULL' },
  events_unsequenced_idx: { table: "events", unique: false, columns: ["id"], where: '"events"."seq" IS NULL' },
};

test("SQLite gets none of the PostgreSQL-only indexes (no index entry written per event)", () => {
  const names = TABLES.flatMap((t) => sqliteConfig(sqlite[t] as SQLiteTable).indexes.map((i) => i.config.name));
  for (const name of Object.keys(PG_ONLY_INDEXES)) expect(names).not.toContain(name);
  // …and seq is a plain nullable column there (no UNIQUE, which would index every row's NULL).
  const seq = sqliteConfig(sqlite.events as SQLiteTable).columns.find((c) => c.name === "seq")!;
  expect({ notNull: seq.notNull, unique: seq.isUnique, primary: seq.primary }).toEqual({ notNull: false, unique: false, primary: false });
});

test("every PostgreSQL table mirrors its SQLite twin: names, nullability, defaults, keys, indexes", () => {
  const twin: Record<string, string> = {
    SQLiteText: "PgText",
    SQLiteTextJson: "PgCustomColumn", // jsonb, see db/schema-pg.ts
    SQLiteInteger: "PgBigInt53",
    SQLiteBoolean: "PgBoolean",
    SQLiteReal: "PgDoublePrecision",
  };
  for (const name of TABLES) {
    const s = sqliteConfig(sqlite[name] as SQLiteTable);
    const p = pgConfig(pg[name] as unknown as PgTable);
    expect(p.name).toBe(s.name);
    expect(p.columns.map((c) => c.name)).toEqual(s.columns.map((c) => c.name));
    for (const [i, sc] of s.columns.entries()) {
      const pc = p.columns[i]!;
      const where = `${s.name}.${sc.name}`;
      // Free text is a custom column (NUL characters replaced on the way in: db/text-safe.ts); an enum's is drizzle's text.
      const type = sc.columnType === "SQLiteText" && !sc.enumValues ? "PgCustomColumn" : twin[sc.columnType]!;
      expect({ where, type: pc.columnType }).toEqual({ where, type });
      if (sc.columnType === "SQLiteText") expect({ where, sqlType: pc.getSQLType() }).toEqual({ where, sqlType: "text" });
      if (sc.columnType === "SQLiteTextJson") expect({ where, sqlType: pc.getSQLType() }).toEqual({ where, sqlType: "jsonb" });
      const rowid = sc.primary && sc.columnType === "SQLiteInteger";
      expect({ where, notNull: pc.notNull, primary: pc.primary, unique: pc.isUnique, uniqueName: pc.uniqueName, enumValues: pc.enumValues }).toEqual({
        where,
        notNull: sc.notNull,
        primary: sc.primary,
        unique: sc.isUnique,
        uniqueName: sc.uniqueName,
        enumValues: sc.enumValues,
      });
      // A rowid primary key is assigned by SQLite; its twin is an identity column.
      expect({ where, identity: pc.generatedIdentity?.type }).toEqual({ where, identity: rowid ? "byDefault" : undefined });
      expect({ where, hasDefault: pc.hasDefault || rowid }).toEqual({ where, hasDefault: sc.hasDefault });
      const sd = sc.default as unknown;
      const pd = pc.default as unknown;
      if (sd && typeof sd === "object" && "queryChunks" in sd) {
        // Database-computed defaults: the same literal, or each dialect's isoNow().
        const a = sqliteSql(sd as SQL)!;
        const b = pgSql(pd as SQL)!;
        expect({ where, default: a.includes("strftime") ? b.includes("clock_timestamp()") : b }).toEqual({ where, default: a.includes("strftime") ? true : a });
      } else {
        expect({ where, default: pd }).toEqual({ where, default: sd });
      }
    }
    const pgIndexes = p.indexes.map((i) => ({
      name: i.config.name,
      unique: i.config.unique,
      columns: i.config.columns.map((c) => (c as { name: string }).name),
      where: pgSql(i.config.where),
    }));
    // The kit's pgOnly indexes (the change feed's), and nothing else, are PostgreSQL's alone.
    expect(pgIndexes.filter((i) => i.name !== undefined && i.name in PG_ONLY_INDEXES)).toEqual(
      Object.entries(PG_ONLY_INDEXES)
        .filter(([, i]) => i.table === s.name)
        .map(([name, i]) => ({ name, unique: i.unique, columns: i.columns, where: i.where })),
    );
    expect(pgIndexes.filter((i) => i.name === undefined || !(i.name in PG_ONLY_INDEXES))).toEqual(describeSqlite(sqlite[name] as SQLiteTable).indexes.map((i) => ({ ...i, where: i.where?.replaceAll("`", '"').replace(/^"(\w+)"\s=/, `"${s.name}"."$1" =`) })));
    expect(
      p.foreignKeys.map((fk) => {
        const r = fk.reference();
        return { name: fk.getName(), columns: r.columns.map((x) => x.name), to: pgConfig(r.foreignTable).name, toColumns: r.foreignColumns.map((x) => x.name) };
      }),
    ).toEqual(describeSqlite(sqlite[name] as SQLiteTable).foreignKeys);
  }
});
