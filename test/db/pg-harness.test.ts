/**
 * The PostgreSQL the tests run against: npm test's cluster (or ORCH_TEST_PG_URL) answers, and
 * freshDatabase() gives each test file its own database and drops it again.
 */
import { expect, test } from "bun:test";
import { SQL } from "bun";
import { freshDatabase, PG_URL, pgDescribe, withAdmin } from "../pg.ts";

pgDescribe("test PostgreSQL", () => {
  test("answers on loopback with a password login", async () => {
    expect(PG_URL!).toMatch(/^postgres(ql)?:\/\//);
    const version = await withAdmin(async (sql) => (await sql`SHOW server_version_num`)[0].server_version_num as string);
    expect(Number(version)).toBeGreaterThanOrEqual(130000);
  });

  test("freshDatabase: an empty database of its own, gone after drop", async () => {
    const db = await freshDatabase("harness");
    expect(db.name).toMatch(/^orch_t_harness_/);
    const sql = new SQL(db.url, { max: 1 });
    try {
      const [row] = await sql`SELECT current_database() AS name, count(*)::int AS tables FROM information_schema.tables WHERE table_schema = 'public'`;
      expect(row).toEqual({ name: db.name, tables: 0 });
    } finally {
      await sql.close();
    }
    await db.drop();
    const left = await withAdmin((sql) => sql`SELECT 1 FROM pg_database WHERE datname = ${db.name}`);
    expect(left.length).toBe(0);
  });
});
