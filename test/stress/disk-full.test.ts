/**
 * A full disk under `orch mcp` (issue #16): the session kept serving but printed a seven-line
 * stack trace on stderr for every failed call. Now each failure is one log line, and the call
 * answers `isError` with one line that says the disk is full and what to do.
 *
 * Two ways to fill the disk, each with a seeded mix of writes (task_create with long
 * descriptions, task_update notes, work_product_store, agent_heartbeat, prd_create) and reads:
 * - in process: the server over a store whose `PRAGMA max_page_count` is a few pages above its
 *   size (SQLITE_FULL exactly as SQLite reports it), then raised again;
 * - the compiled binary on a real full file system: a tmpfs of 1–3 MB mounted for the test (needs
 *   root; skipped, and said, otherwise), filled with a file, sometimes with the REST API served
 *   from the same session (HTTP_API_PORT), then the file removed.
 * Every failed call: isError, one line, naming the full disk; the log: one line per failure, no
 * stack; reads answer throughout; once space is back, writes succeed and the database is intact.
 *
 * Quick: 300 calls in process, 2 mounts × 120 calls. STRESS=full: 3,000 and 6 × 400.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, openSync, closeSync, writeSync, rmSync } from "node:fs";
import { join } from "node:path";
import { importPrdMarkdown } from "../../src/core/index.ts";
import { openStore } from "../../src/db/client.ts";
import { rawSqlite, tempDir } from "../helpers.ts";
import { connect } from "../mcp/helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { McpProc } from "./harness/mcp-proc.ts";
import { cleanEnv, orchBin } from "./harness/orch.ts";
import { Random, seeded } from "./harness/prng.ts";
import { freePort } from "../net.ts";

const IN_PROCESS_CALLS = size(300, 3000);
const MOUNTS = size(2, 6);
const BINARY_CALLS = size(120, 400);

const PRD = "# Initiative: Disk\n## Foundation Phase\n### Stream-A: Core\n- TASK-1: one\n- TASK-2: two\n";

/** A random tool call: a write (most) or a read. */
function drawCall(rnd: Random, n: number): { name: string; args: Record<string, unknown>; write: boolean } {
  const text = (lo: number, hi: number) => "x".repeat(rnd.range(lo, hi));
  const task = rnd.pick(["TASK-1", "TASK-2"]);
  switch (rnd.int(8)) {
    case 0:
      return { name: "task_create", args: { title: `t${n}`, description: text(100, 60_000) }, write: true };
    case 1:
      return { name: "task_update", args: { id: task, notes: text(1, 20_000) }, write: true };
    case 2:
      return { name: "work_product_store", args: { taskId: task, type: "implementation", title: `w${n}`, content: text(1000, 200_000) }, write: true };
    case 3:
      return { name: "agent_heartbeat", args: { taskId: task, agentId: `agent-${rnd.int(4)}`, notes: text(0, 2000) }, write: true };
    case 4:
      return { name: "prd_create", args: { title: `p${n}`, content: text(100, 100_000) }, write: true };
    case 5:
      return { name: "task_get", args: { id: task }, write: false };
    case 6:
      return { name: "task_list", args: { limit: rnd.range(1, 50) }, write: false };
    default:
      return { name: "stream_list", args: {}, write: false };
  }
}

/** The checks every failed call and the log must pass; returns problems. */
function judge(what: string, failures: { name: string; text: string }[], log: string[]): string[] {
  const problems: string[] = [];
  for (const f of failures) {
    if (/[\r\n]/.test(f.text) || f.text.length > 400) problems.push(`${what}: ${f.name} answered over one line: ${JSON.stringify(f.text.slice(0, 300))}`);
    else if (!/^\w+ failed: the disk (holding the database )?is full \((SQLITE_FULL|ENOSPC)\): free some space and call again$|I\/O error/.test(f.text))
      problems.push(`${what}: ${f.name} answered ${JSON.stringify(f.text)}`);
  }
  const stack = log.filter((l) => /^\s+at /.test(l) || /\.(js|ts):\d+/.test(l));
  if (stack.length) problems.push(`${what}: ${stack.length} stack lines in the log, e.g. ${JSON.stringify(stack[0])}`);
  const failureLines = log.filter((l) => / failed: /.test(l));
  if (failureLines.length !== failures.length) problems.push(`${what}: ${failures.length} failures but ${failureLines.length} log lines about them`);
  return problems;
}

describe("stress: a full disk under orch mcp", () => {
  test(
    `in process: ${IN_PROCESS_CALLS} calls against a database capped by max_page_count`,
    () =>
      seeded("disk-full-in-process", async (rnd) => {
        const dir = tempDir("orch-stress-full-");
        const store = await openStore(join(dir, "tasks.db"));
        await importPrdMarkdown(store, PRD);
        const log: string[] = [];
        const s = await connect(store, { log: (l) => log.push(...l.split("\n")) });
        const pages = () => (rawSqlite(store).query("PRAGMA page_count").get() as { page_count: number }).page_count;
        const failures: { name: string; text: string }[] = [];
        const problems: string[] = [];
        let reads = 0;
        let writesAfter = 0;
        for (let round = 0; round < 3; round++) {
          rawSqlite(store).run(`PRAGMA max_page_count = ${pages() + rnd.range(1, 40)}`);
          for (let i = 0; i < IN_PROCESS_CALLS / 3; i++) {
            const c = drawCall(rnd, i);
            const r = await s.raw(c.name, c.args);
            const text = (r.content[0] as { text: string }).text;
            if (r.isError) {
              if (!c.write) problems.push(`a read failed: ${c.name}: ${text}`);
              failures.push({ name: c.name, text });
            } else if (!c.write) reads++;
          }
          // Space again: every kind of write goes through.
          rawSqlite(store).run("PRAGMA max_page_count = 1073741823");
          for (let i = 0; i < 10; i++) {
            const c = drawCall(rnd, 10_000 + i);
            const r = await s.raw(c.name, c.args);
            if (r.isError) problems.push(`after space came back, ${c.name} failed: ${(r.content[0] as { text: string }).text}`);
            else writesAfter++;
          }
        }
        problems.push(...judge("in process", failures, log));
        const integrity = (rawSqlite(store).query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
        console.error(`disk-full (in process): ${IN_PROCESS_CALLS} calls, ${failures.length} failed on the full database with one line each, ${reads} reads answered, ${writesAfter} writes after space came back${FULL ? " [full]" : ""}`);
        expect(failures.length).toBeGreaterThan(0);
        expect(problems).toEqual([]);
        expect(integrity).toBe("ok");
      }),
    size(60_000, 300_000),
  );

  const canMount = process.getuid?.() === 0 && Bun.spawnSync(["sh", "-c", "command -v mount && command -v umount"]).exitCode === 0;
  test.skipIf(!canMount)(
    `the binary on a full tmpfs: ${MOUNTS} mounts × ${BINARY_CALLS} calls`,
    () =>
      seeded("disk-full-tmpfs", async (rnd) => {
        const problems: string[] = [];
        let failed = 0;
        let reads = 0;
        let recovered = 0;
        for (let m = 0; m < MOUNTS; m++) {
          const dir = tempDir("orch-stress-tmpfs-");
          const mnt = join(dir, "mnt");
          mkdirSync(mnt);
          const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${rnd.range(1024, 3072)}k`, "tmpfs", mnt], { stderr: "pipe" });
          if (mounted.exitCode !== 0) {
            console.error(`disk-full: cannot mount a tmpfs here (${mounted.stderr.toString().trim()}): the binary part is skipped`);
            return;
          }
          try {
            const db = join(mnt, "tasks.db");
            const prd = join(dir, "prd.md");
            await Bun.write(prd, PRD);
            const env = cleanEnv({ HOME: dir });
            if (rnd.chance(0.5)) env.HTTP_API_PORT = String(freePort());
            expect(Bun.spawnSync([orchBin(), "prd", "import", prd, "--db", db], { env, stdout: "pipe", stderr: "pipe" }).exitCode).toBe(0);
            const proc = McpProc.spawn(orchBin(), ["mcp", "--db", db], { env, cwd: dir });
            await proc.initialize();
            await proc.call("task_update", { id: "TASK-1", notes: "before" });
            // Fill what is left, but for a random slack (a few writes still fit, then none).
            const filler = join(mnt, "filler");
            const fd = openSync(filler, "w");
            const chunk = Buffer.alloc(4096, 1);
            let written = 0;
            const slack = rnd.range(0, 64) * 4096;
            try {
              for (;;) written += writeSync(fd, chunk);
            } catch {
              // ENOSPC: full
            }
            closeSync(fd);
            if (slack) Bun.spawnSync(["truncate", "-s", String(Math.max(0, written - slack)), filler]);
            const failures: { name: string; text: string }[] = [];
            for (let i = 0; i < BINARY_CALLS; i++) {
              const c = drawCall(rnd, i);
              const r = await proc.call(c.name, c.args);
              if (r.isError) {
                if (!c.write) problems.push(`mount ${m}: a read failed: ${c.name}: ${r.text}`);
                failures.push({ name: c.name, text: r.text });
              } else if (!c.write) reads++;
            }
            rmSync(filler);
            const after = await proc.call("task_update", { id: "TASK-2", notes: "after" });
            if (after.isError) problems.push(`mount ${m}: after space came back: ${after.text}`);
            else recovered++;
            proc.closeStdin();
            const code = await proc.exited;
            if (code !== 0) problems.push(`mount ${m}: orch mcp exited ${code}`);
            const log = proc.stderr.split("\n").filter(Boolean);
            problems.push(...judge(`mount ${m}`, failures, log));
            const other = log.filter((l) => !/ failed: |^orch mcp: (serving|stdin closed)|HTTP server listening|REST API/.test(l));
            if (other.length > 3) problems.push(`mount ${m}: ${other.length} other log lines, e.g. ${JSON.stringify(other.slice(0, 3))}`);
            failed += failures.length;
            if (!failures.length) problems.push(`mount ${m}: the disk never filled (${written} bytes of filler)`);
          } finally {
            Bun.spawnSync(["umount", "-l", mnt]);
          }
        }
        console.error(`disk-full (binary, tmpfs): ${MOUNTS} mounts × ${BINARY_CALLS} calls: ${failed} failed with one line each, ${reads} reads answered, ${recovered} sessions wrote again once space came back${FULL ? " [full]" : ""}`);
        expect(problems).toEqual([]);
      }),
    size(120_000, 600_000),
  );
});

