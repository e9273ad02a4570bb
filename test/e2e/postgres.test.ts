/**
 * The command line on a PostgreSQL URL (issue 19), from the compiled binary: bad URLs and
 * unreachable or foreign databases are one line with the right exit code, and the password never
 * appears in anything orch prints or serves — stdout, stderr, /health, the API, MCP answers.
 */
import { beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { SseTap } from "../api/sse-tap.ts";
import { cleanEnv, orchBin, runOrch } from "../helpers.ts";
import { serve } from "../stress/harness/orch.ts";
import { freshDatabase, pgDescribe, pgUrlWith, withAdmin } from "../pg.ts";

const SECRET = "Zq9-sekret-Pw";
const USER = `orch_pw_${process.pid}`;

/** The database URL for the test's own user, whose password is SECRET. */
let url = "";

function noSecret(...texts: string[]): void {
  for (const t of texts) {
    expect(t).not.toContain(SECRET);
    expect(t).not.toContain(encodeURIComponent(SECRET));
  }
}

pgDescribe("orch on a postgres:// URL (compiled binary)", () => {
  beforeAll(async () => {
    const db = await freshDatabase("e2e-postgres");
    await withAdmin(async (sql) => {
      await sql.unsafe(`DROP ROLE IF EXISTS ${USER}`);
      await sql.unsafe(`CREATE ROLE ${USER} LOGIN PASSWORD '${SECRET}'`);
      await sql.unsafe(`ALTER DATABASE "${db.name}" OWNER TO ${USER}`);
    });
    const owner = new SQL(pgUrlWith({ database: db.name }), { max: 1 });
    await owner.unsafe(`ALTER SCHEMA public OWNER TO ${USER}`);
    await owner.close();
    url = pgUrlWith({ database: db.name, username: USER, password: SECRET });
  });

  test("a whole flow: tasks, orch serve with /health and SSE, orch mcp — the password in none of it", async () => {
    const env = { ORCH_DB: url };
    const created = await runOrch(["task", "create", "--id", "PG-1", "--title", "on postgres", "--stream", "Stream-A"], { env });
    expect(created).toMatchObject({ code: 0, stderr: "" });
    const listed = await runOrch(["task", "list", "--json"], { env });
    expect(JSON.parse(listed.stdout).tasks.map((t: { id: string }) => t.id)).toEqual(["PG-1"]);
    noSecret(created.stdout, listed.stdout);

    const served = await serve(url);
    try {
      const health = await (await fetch(`${served.url}/health`)).text();
      expect(JSON.parse(health)).toMatchObject({ status: "ok", service: "orch" });
      expect(JSON.parse(health).dbId).toMatch(/^[0-9a-f]{16}$/);
      const tap = await SseTap.open(`${served.url}/api/events`);
      await tap.until((t) => t.messages.length >= 1, 10_000, "snapshot");
      const updated = await runOrch(["task", "update", "PG-1", "--status", "completed"], { env });
      expect(updated.code).toBe(0);
      await tap.until((t) => t.messages.some((m) => m.event === "task"), 10_000, "the task event");
      const streams = await (await fetch(`${served.url}/api/streams`)).json();
      expect(streams).toMatchObject({ totalStreams: 1, streams: [{ streamId: "Stream-A", completedTasks: 1 }] });
      tap.close();
      noSecret(health, JSON.stringify(streams), JSON.stringify(tap.messages), served.stderr.text);
    } finally {
      await served.stop();
    }

    // orch mcp names the database it serves, redacted.
    const mcp = Bun.spawn([orchBin(), "mcp"], { env: cleanEnv(env), stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const call = (id: number, method: string, params: unknown) => mcp.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    call(1, "initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } });
    call(2, "tools/call", { name: "health_check", arguments: {} });
    mcp.stdin.end();
    const [out, err] = await Promise.all([new Response(mcp.stdout).text(), new Response(mcp.stderr).text()]);
    await mcp.exited;
    const health = JSON.parse(out.trim().split("\n").find((l) => l.includes('"id":2'))!).result;
    expect(JSON.parse(health.content[0].text).database).toBe(url.replace(`:${SECRET}@`, ":***@"));
    expect(err).toContain("orch mcp: serving postgres://");
    noSecret(out, err);
  });

  test("bad URLs and databases: one line each, exit 2 for a malformed URL, 1 for the rest, never the password", async () => {
    const cases: [string, number, RegExp][] = [
      [`postgres://u:${SECRET}@127.0.0.1:70000/x`, 2, /^orch: invalid PostgreSQL URL postgres:\/\/u:\*\*\*@127\.0\.0\.1:70000\/x: port "70000"/],
      [`postgresql://u:${SECRET}@/x`, 2, /^orch: invalid PostgreSQL URL .*names no host/],
      [pgUrlWith({ username: USER, password: `${SECRET}x` }), 1, /wrong password \(or no such user\)$/],
      [pgUrlWith({ database: "orch_no_such_db", username: USER, password: SECRET }), 1, /there is no database "orch_no_such_db".*createdb orch_no_such_db\)$/],
      [`postgres://u:${SECRET}@127.0.0.1:1/x`, 1, /cannot connect to 127\.0\.0\.1:1: connection refused/],
    ];
    for (const [db, code, line] of cases) {
      for (const how of [{ args: ["--db", db], env: {} }, { args: [], env: { ORCH_DB: db } }]) {
        const r = await runOrch(["task", "list", ...how.args], { env: how.env });
        expect({ db: db.replace(SECRET, "…"), code: r.code, lines: r.stderr.trimEnd().split("\n").length }).toEqual({ db: db.replace(SECRET, "…"), code, lines: 1 });
        expect(r.stderr.trimEnd()).toMatch(line);
        noSecret(r.stdout, r.stderr);
      }
    }
  });

  test("a database holding someone else's tables: refused with one line, exit 1, their table untouched", async () => {
    const theirs = await freshDatabase("e2e-theirs");
    const sql = new SQL(theirs.url, { max: 1 });
    await sql.unsafe("CREATE TABLE invoices (id int PRIMARY KEY, total numeric); INSERT INTO invoices VALUES (1, 9.5)");
    const r = await runOrch(["task", "create", "--title", "x", "--db", theirs.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^orch: cannot open database postgres:\/\/.*already holds tables that are not orch's \(invoices\); nothing was changed.*\n$/);
    const tables = await sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`;
    expect(tables.map((t: { tablename: string }) => t.tablename)).toEqual(["invoices"]);
    expect(await sql`SELECT id, total::text FROM invoices`).toEqual([{ id: 1, total: "9.5" }]);
    await sql.close();
  });
});
