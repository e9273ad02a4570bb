import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
// Skipped on PostgreSQL (test/backend.ts): the SQLite file itself — where it goes, what a bad path says.
import { ON_POSTGRES } from "../backend.ts";
import { runOrch, tempDir } from "../helpers.ts";

function dbEnv() {
  return { ORCH_DB: join(tempDir(), "tasks.db") };
}

describe("orch (compiled binary)", () => {
  test("--version and --help", async () => {
    const v = await runOrch(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^orch \d+\.\d+\.\d+\n$/);
    const h = await runOrch(["--help"]);
    expect(h.code).toBe(0);
    for (const c of ["serve", "mcp", "watch", "task", "stream", "start"]) expect(h.stdout).toContain(`  ${c}`);
    const th = await runOrch(["task", "update", "--help"]);
    expect(th.code).toBe(0);
    expect(th.stdout).toContain("--blocked-reason R");
  });

  test("unknown command or flag: exit 2, one line, a suggestion", async () => {
    const r = await runOrch(["strat"]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: 'orch: unknown command "strat" (did you mean "start"?)\n' });
    const f = await runOrch(["task", "list", "--stat", "x"], { env: dbEnv() });
    expect(f.code).toBe(2);
    expect(f.stderr).toBe('orch: unknown flag "--stat" for "orch task list" (did you mean "--status"?)\n');
  });

  test("create, update, get, list as JSON with the API's shapes", async () => {
    const env = dbEnv();
    const c = await runOrch(
      ["task", "create", "--title", "Create theme types", "--id", "TASK-001", "--stream", "Stream-A", "--stream-name", "Core",
        "--phase", "foundation", "--files", "src/a.ts,src/b.ts", "--agent", "me", "--json"],
      { env },
    );
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ id: "TASK-001", status: "pending", metadata: { streamId: "Stream-A", files: ["src/a.ts", "src/b.ts"] } });
    const u = await runOrch(["task", "update", "TASK-001", "--status", "completed", "--notes", "done", "--json"], { env });
    expect(JSON.parse(u.stdout)).toMatchObject({ status: "completed", notes: "done" });
    const l = JSON.parse((await runOrch(["task", "list", "--json"], { env })).stdout);
    expect(l.totalTasks).toBe(1);
    expect(Object.keys(l.tasks[0]).sort()).toEqual(
      ["archived", "assignedAgent", "blockedReason", "createdAt", "description", "id", "metadata", "notes", "parentId", "prdId", "status", "title", "updatedAt"].sort(),
    );
    const s = JSON.parse((await runOrch(["stream", "list", "--json"], { env })).stdout);
    expect(s).toMatchObject({ totalStreams: 1, streams: [{ streamId: "Stream-A", progressPercentage: 100, status: "completed" }] });
    const table = await runOrch(["stream", "list"], { env });
    expect(table.stdout).toContain("Stream-A");
    expect(table.stdout).toContain("100.0%");
    const a = await runOrch(["stream", "archive", "Stream-A"], { env });
    expect(a.stdout).toBe("Archived Stream-A (1 tasks)\n");
    expect((await runOrch(["stream", "list"], { env })).stdout).toBe("No streams.\n");
  });

  test("bad input: status, unknown id, malformed metadata", async () => {
    const env = dbEnv();
    await runOrch(["task", "create", "--title", "x", "--id", "TASK-2"], { env });
    const bad = await runOrch(["task", "update", "TASK-1", "--status", "done"], { env });
    expect(bad).toMatchObject({
      code: 2,
      stderr: 'orch: invalid status "done" (expected one of pending, in_progress, blocked, completed, cancelled)\n',
    });
    const missing = await runOrch(["task", "update", "TASK-1", "--status", "completed"], { env });
    expect(missing).toMatchObject({ code: 1, stderr: "orch: Task not found: TASK-1\n" });
    const meta = await runOrch(["task", "update", "TASK-2", "--metadata", "{not json"], { env });
    expect(meta.code).toBe(2);
    expect(meta.stderr).toStartWith("orch: flag --metadata is not valid JSON");
    const arr = await runOrch(["task", "update", "TASK-2", "--metadata", "[1]"], { env });
    expect(arr).toMatchObject({ code: 2, stderr: "orch: flag --metadata must be a JSON object\n" });
    const noStream = await runOrch(["stream", "get", "Stream-X"], { env });
    expect(noStream).toMatchObject({ code: 1, stderr: "orch: Stream not found: Stream-X\n" });
    const noTitle = await runOrch(["task", "create"], { env });
    expect(noTitle).toMatchObject({ code: 2, stderr: "orch: orch task create needs --title\n" });
    const extra = await runOrch(["task", "get", "A", "B"], { env });
    expect(extra).toMatchObject({ code: 2, stderr: 'orch: orch task get: unexpected argument "B"\n' });
    const traversal = await runOrch(["task", "create", "--title", "x", "--stream", "../../etc"], { env });
    expect(traversal.code).toBe(2);
    expect(traversal.stderr).toContain("id must start with a letter or digit");
  });

  test.skipIf(ON_POSTGRES)("database in a missing directory, or not a database: one line, exit 1, file untouched", async () => {
    const dir = tempDir();
    const missing = await runOrch(["task", "list", "--db", join(dir, "nope", "tasks.db")]);
    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toBe(`orch: cannot open database ${join(dir, "nope", "tasks.db")}: directory ${join(dir, "nope")} does not exist\n`);
    const notDb = join(dir, "notes.txt");
    writeFileSync(notDb, "these are my precious notes, not a database\n".repeat(10));
    const before = createHash("sha256").update(readFileSync(notDb)).digest("hex");
    const r = await runOrch(["task", "list", "--db", notDb]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`orch: cannot open database ${notDb}: not a SQLite database (file left untouched)\n`);
    expect(createHash("sha256").update(readFileSync(notDb)).digest("hex")).toBe(before);
    expect(existsSync(`${notDb}-wal`)).toBe(false);
  });

  test.skipIf(ON_POSTGRES)("unwritable directory: one clear line, exit 1", async () => {
    if (process.getuid?.() === 0) {
      // root ignores permissions; a path through a regular file is unwritable for everyone.
      const dir = tempDir();
      writeFileSync(join(dir, "file"), "");
      const r = await runOrch(["task", "list", "--db", join(dir, "file", "tasks.db")]);
      expect(r.code).toBe(1);
      expect(r.stderr).toStartWith("orch: cannot open database");
      expect(r.stderr.split("\n").length).toBe(2);
      return;
    }
    const dir = tempDir();
    const ro = join(dir, "ro");
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    const r = await runOrch(["task", "list", "--db", join(ro, "tasks.db")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("orch: cannot open database");
  });

  test.skipIf(ON_POSTGRES)("default location: TASK_DB_PATH/<workspace>/tasks.db, WORKSPACE_ID or md5 of the project root", async () => {
    const base = tempDir();
    const project = tempDir();
    await runOrch(["task", "create", "--title", "x"], { env: { TASK_DB_PATH: base, WORKSPACE_ID: "ws1" }, cwd: project });
    expect(existsSync(join(base, "ws1", "tasks.db"))).toBe(true);
    await runOrch(["task", "create", "--title", "x"], { env: { TASK_DB_PATH: base }, cwd: project });
    const { realpathSync } = await import("node:fs");
    const ws = createHash("md5").update(realpathSync(project)).digest("hex").slice(0, 12);
    expect(existsSync(join(base, ws, "tasks.db"))).toBe(true);
    const bad = await runOrch(["task", "list"], { env: { TASK_DB_PATH: base, WORKSPACE_ID: "../x" }, cwd: project });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toStartWith("orch: invalid environment: WORKSPACE_ID");
  });

  test.skipIf(ON_POSTGRES)("a .env or bunfig.toml in the user's directory is not loaded", async () => {
    const dir = tempDir();
    const trap = join(dir, "trap.db");
    writeFileSync(join(dir, ".env"), `ORCH_DB=${trap}\n`);
    writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./nope.ts"]\n');
    const db = join(tempDir(), "real.db");
    const r = await runOrch(["task", "create", "--title", "x", "--db", db], { cwd: dir });
    expect(r.code).toBe(0);
    expect(existsSync(trap)).toBe(false);
    expect(existsSync(db)).toBe(true);
  });
});

describe("concurrency", () => {
  test("8 processes updating one task at once: every merge lands, no busy error", async () => {
    const env = dbEnv();
    await runOrch(["task", "create", "--title", "shared", "--id", "T", "--stream", "S"], { env });
    const PROCS = 8;
    const EACH = 12;
    const results = await Promise.all(
      Array.from({ length: PROCS }, async (_, p) => {
        const out = [];
        for (let i = 0; i < EACH; i++)
          out.push(await runOrch(["task", "update", "T", "--metadata", JSON.stringify({ [`p${p}_${i}`]: true }), "--notes", `p${p}`], { env }));
        return out;
      }),
    );
    const all = results.flat();
    expect(all.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
    const t = JSON.parse((await runOrch(["task", "get", "T", "--json"], { env })).stdout);
    const keys = Object.keys(t.metadata).filter((k) => /^p\d+_\d+$/.test(k));
    expect(keys.length).toBe(PROCS * EACH);
  }, 120_000);

  test.skipIf(ON_POSTGRES)("processes opening a fresh database at once migrate it exactly once", async () => {
    const env = dbEnv();
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => runOrch(["task", "create", "--title", `t${i}`], { env })));
    expect(rs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    const { Database } = await import("bun:sqlite");
    const db = new Database(env.ORCH_DB, { readonly: true });
    const { migrations } = await import("../../src/db/migrations/index.ts");
    // One row per embedded migration: none applied twice by racing processes.
    expect(db.query("SELECT count(*) AS n, count(DISTINCT version) AS v FROM __orch_migrations").get()).toEqual({ n: migrations.length, v: migrations.length });
    expect(db.query("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 6 });
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    db.close();
  });
});
