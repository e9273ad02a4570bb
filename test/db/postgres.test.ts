/**
 * Opening PostgreSQL (src/db/postgres.ts, src/db/pg-url.ts): URLs recognised, checked and
 * redacted; on a real server, a fresh database migrated once under the advisory lock (eight
 * processes at once), a round trip through drizzle on the pg tables, and every failure one line
 * with the right exit code and never the password.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { createServer } from "node:net";
import { join } from "node:path";
import { eq, sql as dsql } from "drizzle-orm";
import { migrations as pgMigrations } from "../../src/db/migrations-pg/index.ts";
import { sequencePending } from "../../src/db/pg-feed.ts";
import { openPostgres, PG_TRACK, type PgStore } from "../../src/db/postgres.ts";
import { isPostgresUrl, parsePostgresUrl, redactUrl } from "../../src/db/pg-url.ts";
import * as pg from "../../src/db/schema-pg.ts";
import { OrchError } from "../../src/errors.ts";
import { freshDatabase, PG_URL, pgDescribe, pgUrlWith, withAdmin } from "../pg.ts";

/** A password that would be easy to leak: special characters, so it appears %-encoded in URLs. */
const SECRET = "S3cr3t/p@ss:w0rd?x";

async function failure(p: Promise<unknown>): Promise<OrchError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OrchError) return err;
    throw new Error(`expected an OrchError, got ${(err as Error)?.stack ?? String(err)}`);
  }
  throw new Error("expected a failure, it succeeded");
}

/** The error a query fails with (drizzle wraps the driver's as its cause). */
async function rejection(q: PromiseLike<unknown>): Promise<{ errno?: string }> {
  try {
    await q;
  } catch (err) {
    const e = err as { errno?: string; cause?: { errno?: string } };
    return e.errno ? e : (e.cause ?? e);
  }
  throw new Error("expected the query to fail");
}

/** One line, no password in any form, anywhere in the error. */
function expectSafe(err: OrchError, ...secrets: string[]): void {
  expect(err.message).not.toContain("\n");
  const everything = `${err.message} ${String(err)} ${err.stack ?? ""} ${JSON.stringify(err.details ?? null)}`;
  for (const s of [SECRET, encodeURIComponent(SECRET), ...secrets]) expect(everything).not.toContain(s);
}

describe("PostgreSQL URLs", () => {
  test("isPostgresUrl: postgres:// and postgresql:// in any case, nothing else", () => {
    for (const yes of ["postgres://h/db", "postgresql://u:p@h:5432/db", "POSTGRES://h", " postgresql://h "]) expect(isPostgresUrl(yes)).toBe(true);
    for (const no of ["tasks.db", "/tmp/postgres://x", "postgres:/h", "pg://h", "sqlite://x", "", "./postgres"]) expect(isPostgresUrl(no)).toBe(false);
  });

  test("redactUrl hides the password (and password parameters), keeps the rest as written", () => {
    const cases: [string, string][] = [
      ["postgres://orch:hunter2@db.example:5432/orch", "postgres://orch:***@db.example:5432/orch"],
      ["postgresql://orch@db/orch", "postgresql://orch@db/orch"],
      ["postgres://db.example/orch", "postgres://db.example/orch"],
      ["postgres://db.example:5432/orch?sslmode=require", "postgres://db.example:5432/orch?sslmode=require"],
      ["postgres://:hunter2@db/orch", "postgres://:***@db/orch"],
      [`postgres://orch:${encodeURIComponent(SECRET)}@db/orch`, "postgres://orch:***@db/orch"],
      // unencoded @ and / in a password (malformed): everything up to the last @ goes
      ["postgres://orch:pa@ss/wo@rd@db/orch", "postgres://orch:***@db/orch"],
      ["postgres://db/orch?user=orch&password=hunter2&sslpassword=x", "postgres://db/orch?user=orch&password=***&sslpassword=***"],
      ["not a url at all", "not a url at all"],
    ];
    for (const [input, want] of cases) expect(redactUrl(input)).toBe(want);
  });

  test("parsePostgresUrl reads host, port, database and user", () => {
    const t = parsePostgresUrl(`postgresql://orch:${encodeURIComponent(SECRET)}@db.example:6543/orch_prod?sslmode=require`);
    expect({ host: t.host, port: t.port, database: t.database, user: t.user, safe: t.safe, secret: t.secret }).toEqual({
      host: "db.example",
      port: 6543,
      database: "orch_prod",
      user: "orch",
      safe: "postgresql://orch:***@db.example:6543/orch_prod?sslmode=require",
      secret: SECRET,
    });
    expect(parsePostgresUrl("postgres://[::1]/x")).toMatchObject({ host: "::1", port: 5432, database: "x" });
    expect(parsePostgresUrl("postgres://u@h")).toMatchObject({ database: "u", user: "u" });
  });

  test("a malformed URL is a usage error (exit 2): one line, the password hidden", async () => {
    const pw = encodeURIComponent(SECRET);
    const bad: [string, RegExp][] = [
      ["postgres://", /names no host/],
      [`postgres://u:${pw}@/db`, /names no host|cannot be parsed/],
      [`postgres://u:${pw}@h:99999/db`, /port "99999"/],
      [`postgres://u:${pw}@h:0/db`, /port "0"/],
      [`postgres://u:${pw}@h:abc/db`, /port "abc"/],
      [`postgres://u:${pw}@h/db/more`, /one path segment/],
      [`postgres://u:${pw}@h/db?sslmode=sometimes`, /sslmode "sometimes"/],
      [`postgres://u:${pw}@h/%zz`, /malformed %-escape/],
      [`postgres://u:${pw}@h o/db`, /spaces/],
      [`postgres://u:${pw}@h/${"d".repeat(64)}`, /63 bytes/],
    ];
    for (const [url, why] of bad) {
      const err = await failure(openPostgres(url));
      expect({ url, kind: err.kind, exit: err.exitCode }).toEqual({ url, kind: "usage", exit: 2 });
      expect(err.message).toMatch(/^invalid PostgreSQL URL /);
      expect(err.message).toMatch(why);
      expectSafe(err);
    }
  });
});

test("a server that accepts but never answers: one line after the connect timeout, exit 1", async () => {
  const silent = createServer(() => {}); // holds every connection open and says nothing
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
  const port = (silent.address() as { port: number }).port;
  try {
    const t0 = performance.now();
    const err = await failure(openPostgres(`postgres://orch:${encodeURIComponent(SECRET)}@127.0.0.1:${port}/orch`, { connectTimeoutSeconds: 1 }));
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(`cannot open database postgres://orch:***@127.0.0.1:${port}/orch: cannot connect to 127.0.0.1:${port}: no answer (the connection timed out or closed before the login)`);
    expectSafe(err);
  } finally {
    silent.close();
  }
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

pgDescribe("PostgreSQL: opening a database", () => {
  let url = "";
  let store: PgStore;
  beforeAll(async () => {
    url = (await freshDatabase("open")).url;
    store = await openPostgres(url);
  });
  afterAll(async () => {
    await store?.close();
  });

  test("a fresh database gets every table and index of the schema, and the migration recorded", async () => {
    expect(store.migrated).toBe(pgMigrations.length);
    expect(store.url).not.toContain(new URL(PG_URL!).password);
    const tables = (await store.sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`).map((r: { tablename: string }) => r.tablename);
    expect(tables).toEqual(
      [PG_TRACK, "agent_activity", "agent_sessions", "agents", "events", "feed_state", "inbox", "initiatives", "policy_rules", "prds", "stream_budgets", "stream_claims", "api_tokens", "streams", "tasks", "work_products"].sort(),
    );
    const indexes = (await store.sql`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`).map((r: { indexname: string }) => r.indexname);
    for (const name of ["tasks_stream_status_idx", "events_stream_idx", "inbox_pending_idx", "agent_activity_task_agent_idx", "policy_rules_rule_unique"]) expect(indexes).toContain(name);
    const applied = await store.sql.unsafe(`SELECT version, tag FROM ${PG_TRACK} ORDER BY version`);
    expect(applied.map((r: { version: number; tag: string }) => ({ ...r }))).toEqual(pgMigrations.map((m) => ({ version: m.version, tag: m.tag })));
  });

  test("opening it again applies nothing", async () => {
    const again = await openPostgres(url);
    expect(again.migrated).toBe(0);
    await again.close();
  });

  test("round trip through drizzle on the pg tables: text, jsonb, boolean, bigint, double, identity and isoNow defaults", async () => {
    const { db } = store;
    const now = new Date().toISOString();
    await db.insert(pg.initiatives).values({ id: "INIT-1", name: "Dark mode", linkedAt: now, createdAt: now, updatedAt: now });
    await db.insert(pg.prds).values({ id: "PRD-1", initiativeId: "INIT-1", title: "PRD", createdAt: now, updatedAt: now });
    await db.insert(pg.streams).values({ id: "Stream-A", name: "Core", phase: "foundation", dependencies: ["Stream-0"], files: ["a.ts"], createdAt: now, updatedAt: now });
    await db.insert(pg.tasks).values({
      id: "TASK-001",
      prdId: "PRD-1",
      title: "Theme — naïve ✓",
      metadata: { streamId: "Stream-A", files: ["a.ts", "b.ts"], nested: { n: 1.5, ok: true } },
      streamId: "Stream-A",
      createdAt: now,
      updatedAt: now,
    });
    const [task] = await db.select().from(pg.tasks).where(eq(pg.tasks.id, "TASK-001"));
    expect(task).toEqual({
      id: "TASK-001",
      prdId: "PRD-1",
      parentId: null,
      title: "Theme — naïve ✓",
      description: null,
      assignedAgent: null,
      status: "pending",
      blockedReason: null,
      notes: null,
      metadata: { streamId: "Stream-A", files: ["a.ts", "b.ts"], nested: { n: 1.5, ok: true } },
      streamId: "Stream-A",
      archived: false,
      createdAt: now,
      updatedAt: now,
    });
    await db.update(pg.tasks).set({ status: "completed", archived: true }).where(eq(pg.tasks.id, "TASK-001"));
    const [done] = await db.select({ status: pg.tasks.status, archived: pg.tasks.archived }).from(pg.tasks);
    expect(done).toEqual({ status: "completed", archived: true });
    // JSON is stored as JSON, not as a JSON string: SQL can look inside it.
    const [inside] = await store.sql`SELECT jsonb_typeof(metadata) AS t, metadata->'nested'->>'n' AS n FROM tasks`;
    expect({ ...inside }).toEqual({ t: "object", n: "1.5" });
    const [deps] = await store.sql`SELECT jsonb_typeof(dependencies) AS t FROM streams`;
    expect(deps.t).toBe("array");

    // identity ids and database defaults
    const payloads: unknown[] = [{ task: "TASK-001" }, "a plain string", 7, [1, "two"]];
    for (const payload of payloads) await db.insert(pg.events).values({ kind: "task", entityId: "TASK-001", op: "update", payload });
    const events = await db.select().from(pg.events).orderBy(pg.events.id);
    expect(events.map((e) => e.payload)).toEqual(payloads);
    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    for (const e of events) expect(e.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(events[0]!.createdAt) - Date.now())).toBeLessThan(60_000);
    const [session] = await db
      .insert(pg.agentSessions)
      .values({ streamId: "Stream-A", launch: 1, startedAt: now, costUsd: 0.123456789, inputTokens: 3_000_000_000 })
      .returning();
    expect(session).toMatchObject({ id: 1, costUsd: 0.123456789, inputTokens: 3_000_000_000, denials: [], outputTokens: 0 });
    const [rule] = await db.insert(pg.policyRules).values({ rule: "Bash(git:*)", effect: "allow", createdAt: now }).returning();
    expect(rule!.id).toBe(1);
    // The unique constraint holds, as on SQLite, and so does a foreign key.
    expect((await rejection(db.insert(pg.policyRules).values({ rule: "Bash(git:*)", effect: "deny", createdAt: now }))).errno).toBe("23505");
    expect((await rejection(db.insert(pg.tasks).values({ id: "T-x", title: "x", prdId: "PRD-none", createdAt: now, updatedAt: now }))).errno).toBe("23503");
    const [{ n }] = (await db.select({ n: dsql<number>`count(*)::int` }).from(pg.tasks)) as [{ n: number }];
    expect(n).toBe(1);
  });

  test("a schema newer than this orch is refused (exit 1)", async () => {
    const db = await freshDatabase("newer");
    const first = await openPostgres(db.url);
    await first.sql.unsafe(`INSERT INTO ${PG_TRACK} (version, tag, applied_at) VALUES (999, 'future', 'x')`);
    await first.close();
    const err = await failure(openPostgres(db.url));
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain("its schema v999 is newer than this orch understands");
    expectSafe(err, new URL(PG_URL!).password);
    await db.drop();
  });

  test("tables go to the connection's schema (search_path), foreign keys included", async () => {
    const db = await freshDatabase("schema");
    const admin = new SQL(db.url, { max: 1 });
    await admin.unsafe("CREATE SCHEMA orch");
    await admin.close();
    const s = await openPostgres(`${db.url}?search_path=orch`);
    expect(s.migrated).toBe(pgMigrations.length);
    const [where] = await s.sql`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'orch'`;
    expect(where.n).toBe(16);
    const [pub] = await s.sql`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
    expect(pub.n).toBe(0);
    // The feed's sequencing function lives there too, and numbers the events of that schema.
    const [fn] = await s.sql`SELECT n.nspname AS schema FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = 'orch_feed_sequence'`;
    expect(fn.schema).toBe("orch");
    await s.sql`INSERT INTO events (kind, entity_id, op, payload) VALUES ('task', 'T1', 'create', ${s.sql.json({})})`;
    expect(await sequencePending(s.sql)).toEqual({ numbered: 1, lastSeq: 1, handedOff: false });
    await s.close();
    await db.drop();
  });
});

pgDescribe("PostgreSQL: failures are one line, exit 1, never the password", () => {
  test("wrong password", async () => {
    const err = await failure(openPostgres(pgUrlWith({ password: SECRET })));
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/^cannot open database postgres:\/\/postgres:\*\*\*@.*: the server refused the login of user "postgres": wrong password/);
    expectSafe(err, new URL(PG_URL!).password);
  });

  test("unknown user", async () => {
    const err = await failure(openPostgres(pgUrlWith({ username: "orch_nobody", password: SECRET })));
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain('login of user "orch_nobody"');
    expectSafe(err);
  });

  test("missing database", async () => {
    const err = await failure(openPostgres(pgUrlWith({ database: "orch_no_such_db" })));
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain('there is no database "orch_no_such_db"');
    expectSafe(err, new URL(PG_URL!).password);
  });

  test("refused connection", async () => {
    const port = await closedPort();
    const err = await failure(openPostgres(`postgres://orch:${encodeURIComponent(SECRET)}@127.0.0.1:${port}/orch`));
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(`cannot open database postgres://orch:***@127.0.0.1:${port}/orch: cannot connect to 127.0.0.1:${port}: connection refused or host not found (is PostgreSQL running there?)`);
    expectSafe(err);
  });

  test("a parameter the server does not know", async () => {
    const err = await failure(openPostgres(`${pgUrlWith({})}?no_such_setting=1`));
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain("the server refused a URL parameter");
    expectSafe(err, new URL(PG_URL!).password);
  });

  test("a user without CREATE on the schema: what orch needs, said once", async () => {
    const db = await freshDatabase("noperm");
    const role = `orch_t_limited_${process.pid}`;
    await withAdmin((sql) => sql.unsafe(`CREATE ROLE ${role} LOGIN PASSWORD '${SECRET.replaceAll("'", "''")}'`));
    try {
      const admin = new SQL(db.url, { max: 1 });
      await admin.unsafe("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
      await admin.close();
      const u = new URL(db.url);
      u.username = role;
      u.password = encodeURIComponent(SECRET);
      const err = await failure(openPostgres(u.toString()));
      expect(err.exitCode).toBe(1);
      expect(err.message).toContain(`user "${role}" lacks a privilege orch needs`);
      expectSafe(err);
    } finally {
      await db.drop();
      await withAdmin((sql) => sql.unsafe(`DROP ROLE IF EXISTS ${role}`));
    }
  });

  test("a database holding someone else's tables is refused, and nothing of theirs is touched", async () => {
    const db = await freshDatabase("foreign");
    const theirs = new SQL(db.url, { max: 1 });
    await theirs.unsafe("CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL); INSERT INTO customers (name) VALUES ('Ada'), ('Grace'); CREATE VIEW customer_names AS SELECT name FROM customers");
    const snapshot = async () =>
      (await theirs`SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1`).map(
        (r: { relname: string; relkind: string }) => `${r.relname}:${r.relkind}`,
      );
    const before = await snapshot();
    const err = await failure(openPostgres(db.url));
    expect(err.kind).toBe("conflict");
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain(`schema "public" already holds tables that are not orch's (customer_names, customers)`);
    expect(err.message).toContain("nothing was changed");
    expectSafe(err, new URL(PG_URL!).password);
    expect(await snapshot()).toEqual(before);
    expect((await theirs`SELECT name FROM customers ORDER BY id`).map((r: { name: string }) => r.name)).toEqual(["Ada", "Grace"]);
    await theirs.close();
    await db.drop();
  });
});

pgDescribe("PostgreSQL: migrations under the advisory lock", () => {
  test("eight processes opening one fresh database at once all succeed; it is migrated exactly once", async () => {
    const db = await freshDatabase("eight");
    const script = join(import.meta.dir, "fixtures", "pg-open.ts");
    const at = Date.now() + 1500; // every process waits for this moment, so the opens overlap
    const procs = Array.from({ length: 8 }, () =>
      Bun.spawn([process.execPath, script, db.url, String(at)], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "" } }),
    );
    const results = await Promise.all(
      procs.map(async (p) => {
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        return { code, out: out.trim(), err: err.trim() };
      }),
    );
    for (const r of results) expect(r).toMatchObject({ code: 0 });
    const migrated = results.map((r) => (JSON.parse(r.out) as { migrated: number }).migrated).sort();
    expect(migrated).toEqual([0, 0, 0, 0, 0, 0, 0, pgMigrations.length]);
    const check = new SQL(db.url, { max: 1 });
    const rows = await check.unsafe(`SELECT version FROM ${PG_TRACK} ORDER BY version`);
    expect(rows.map((r: { version: number }) => r.version)).toEqual(pgMigrations.map((m) => m.version));
    await check.close();
    await db.drop();
  }, 60_000);
});
