/**
 * Crashes (issue #9): writers killed with SIGKILL in the middle of their transactions, round after
 * round, on one database — core writers in a tight update loop, `orch mcp` sessions with calls in
 * flight, and `orch prd import` rewriting hundreds of tasks in one transaction. A second test
 * kills processes racing to create and migrate a database that does not exist yet.
 *
 * After every round: `PRAGMA integrity_check` is ok, every acknowledged update is there (an ack is
 * printed or received only after the commit returned), an import is all or nothing, and orch
 * opens the database and serves it (`orch task list`, `orch serve` answering /api/streams).
 *
 * Quick: 3 rounds. STRESS=full: 25 rounds.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "../helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { McpProc } from "./harness/mcp-proc.ts";
import { cleanEnv, LineReader, orchBin, serve } from "./harness/orch.ts";
import { seeded } from "./harness/prng.ts";

const ROUNDS = size(3, 25);
const CORE_WRITERS = 3;
const MCP_WRITERS = 2;
const BIG_TASKS = 300;
const MIGRATION_RACES = size(6, 60);

interface Acks {
  /** writer → acknowledged sequence numbers */
  updates: Map<string, number[]>;
  /** highest acknowledged import version */
  importVersion: number;
}

function lastAck(lines: string[]): number[] {
  return lines.filter((l) => l.startsWith("ack ")).map((l) => Number(l.slice(4)));
}

describe("crash: kill -9 of writers mid-transaction", () => {
  test(
    `${ROUNDS} rounds: integrity ok, every acknowledged update kept, imports atomic, orch serves after`,
    () =>
      seeded("crash-writers", async (rnd) => {
        const dir = tempDir("orch-stress-crash-");
        const db = join(dir, "tasks.db");
        const env = cleanEnv({ HOME: dir });
        const acks: Acks = { updates: new Map(), importVersion: 0 };
        let kills = 0;
        let ackTotal = 0;

        for (let round = 0; round < ROUNDS; round++) {
          // Tasks the writers own.
          const ensure = Bun.spawnSync([orchBin(), "task", "create", "--db", db, "--id", "CW-setup", "--title", "setup"], { env, stdout: "ignore", stderr: "pipe" });
          if (round === 0 && ensure.exitCode !== 0) throw new Error(`setup: ${ensure.stderr}`);
          for (let w = 1; w <= CORE_WRITERS + MCP_WRITERS; w++)
            Bun.spawnSync([orchBin(), "task", "create", "--db", db, "--id", `CW${w}`, "--title", `writer ${w}`, "--stream", `Crash-${w % 2}`], { env, stdout: "ignore", stderr: "ignore" });

          const procs: { kill(): void; exited: Promise<unknown> }[] = [];
          const readers: { name: string; out: LineReader }[] = [];
          for (let w = 1; w <= CORE_WRITERS; w++) {
            const p = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "acking-writer.ts"), db, `CW${w}r${round}`, `CW${w}`], { env, stdout: "pipe", stderr: "pipe" });
            procs.push({ kill: () => p.kill("SIGKILL"), exited: p.exited });
            readers.push({ name: `CW${w}r${round}`, out: new LineReader(p.stdout) });
          }
          const sessions: { name: string; proc: McpProc; acked: number[]; stop: boolean }[] = [];
          for (let m = 1; m <= MCP_WRITERS; m++) {
            const w = CORE_WRITERS + m;
            const proc = McpProc.spawn(orchBin(), ["mcp", "--db", db], { env });
            procs.push({ kill: () => proc.kill("SIGKILL"), exited: proc.exited });
            sessions.push({ name: `CW${w}r${round}`, proc, acked: [], stop: false });
          }
          const mcpWork = sessions.map(async (s, i) => {
            const task = `CW${CORE_WRITERS + i + 1}`;
            try {
              await s.proc.initialize();
              let seq = 0;
              // Four calls in flight: the kill catches some mid-transaction, some unanswered.
              await Promise.all(
                Array.from({ length: 4 }, async () => {
                  while (!s.stop) {
                    const n = ++seq;
                    const r = await s.proc.call("task_update", { id: task, notes: `${s.name}-${n}` }, 60_000);
                    if (r.isError) throw new Error(`task_update failed: ${r.text}`);
                    s.acked.push(n);
                  }
                }),
              );
            } catch {
              // killed: calls in flight are simply not acknowledged
            }
          });
          const importer = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "prd-importer.ts"), orchBin(), db, dir, String(BIG_TASKS), String(round * 100_000 + 1)], {
            env,
            stdout: "pipe",
            stderr: "pipe",
            detached: true, // its own process group: the kill takes its orch child too
          }) as Subprocess<"ignore", "pipe", "pipe">;
          const importOut = new LineReader(importer.stdout);

          // Let them write for a random while, then kill.
          await Bun.sleep(rnd.range(150, 900));
          const order = [...procs.keys()].sort(() => rnd.next() - 0.5);
          for (const i of order) {
            procs[i]!.kill();
            kills++;
            if (rnd.chance(0.5)) await Bun.sleep(rnd.range(0, 15));
          }
          process.kill(-importer.pid, "SIGKILL");
          kills++;
          for (const s of sessions) s.stop = true;
          await Promise.all([...procs.map((p) => p.exited), importer.exited, ...mcpWork]);
          await Bun.sleep(20); // let the readers drain what the pipes still hold

          for (const r of readers) acks.updates.set(r.name, lastAck(r.out.lines));
          for (const s of sessions) acks.updates.set(s.name, s.acked);
          const failedImports = importOut.lines.filter((l) => l.startsWith("fail "));
          const imported = lastAck(importOut.lines);
          if (imported.length) acks.importVersion = Math.max(acks.importVersion, ...imported);
          // An import killed mid-way fails only by its kill, never with an error of its own.
          expect(failedImports).toEqual([]);

          // ── after the crash ──
          const check = new Database(db);
          const integrity = (check.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
          const markers = new Set(
            (check.query("SELECT json_extract(payload, '$.notes') AS n FROM events WHERE kind = 'task' AND op = 'update'").all() as { n: string | null }[]).map((r) => r.n),
          );
          const missing: string[] = [];
          for (const [name, seqs] of acks.updates) {
            for (const n of seqs) if (!markers.has(`${name}-${n}`)) missing.push(`${name}-${n}`);
            ackTotal += name.endsWith(`r${round}`) ? seqs.length : 0;
          }
          // The big import: all its tasks carry one version, at least the last acknowledged one.
          const titles = check.query("SELECT title FROM tasks WHERE id LIKE 'BIG-%'").all() as { title: string }[];
          const versions = new Set(titles.map((t) => /^v(\d+) /.exec(t.title)?.[1]));
          check.close();
          expect(integrity).toBe("ok");
          expect(missing).toEqual([]);
          if (acks.importVersion > 0) {
            expect(titles).toHaveLength(BIG_TASKS);
            expect(versions.size).toBe(1);
            expect(Number([...versions][0])).toBeGreaterThanOrEqual(acks.importVersion);
          } else {
            expect(titles.length === 0 || titles.length === BIG_TASKS).toBe(true);
            expect(versions.size).toBeLessThanOrEqual(1);
          }

          // orch opens it and serves it.
          const list = Bun.spawnSync([orchBin(), "task", "list", "--db", db, "--json", "--all"], { env, stdout: "pipe", stderr: "pipe" });
          expect(list.stderr.toString()).toBe("");
          expect(list.exitCode).toBe(0);
          expect(JSON.parse(list.stdout.toString()).totalTasks).toBeGreaterThanOrEqual(CORE_WRITERS + MCP_WRITERS);
          if (round === ROUNDS - 1 || rnd.chance(0.3)) {
            const server = await serve(db, { env: { HOME: dir } });
            const res = await fetch(`${server.url}/api/streams`);
            expect(res.status).toBe(200);
            expect(((await res.json()) as { totalStreams: number }).totalStreams).toBeGreaterThanOrEqual(2);
            expect(await server.stop()).toBe(0);
          }
        }
        console.error(`crash-writers: ${ROUNDS} rounds, ${kills} kill -9, ${ackTotal} acknowledged updates all kept, last import v${acks.importVersion} intact${FULL ? " [full]" : ""}`);
      }),
    size(90_000, 900_000),
  );

  test(
    `${MIGRATION_RACES} fresh databases: processes racing to create and migrate one, killed at random`,
    () =>
      seeded("crash-migrate", async (rnd) => {
        const dir = tempDir("orch-stress-migrate-");
        const env = cleanEnv({ HOME: dir });
        let kills = 0;
        for (let i = 0; i < MIGRATION_RACES; i++) {
          const db = join(dir, `fresh-${i}.db`);
          const procs = Array.from({ length: 4 }, (_, k) =>
            Bun.spawn([orchBin(), "task", "create", "--db", db, "--id", `M${k}`, "--title", `race ${k}`], { env, stdout: "ignore", stderr: "pipe" }),
          );
          await Bun.sleep(rnd.range(0, 40));
          const killed = new Set<number>();
          for (const [k, p] of procs.entries())
            if (rnd.chance(0.6)) {
              p.kill("SIGKILL");
              killed.add(k);
              kills++;
            }
          const results = await Promise.all(procs.map(async (p) => ({ code: await p.exited, err: await new Response(p.stderr).text() })));
          // Whoever was not killed succeeded, whatever the others were doing.
          for (const [k, r] of results.entries()) if (!killed.has(k) || r.code === 0) expect({ k, ...r }).toEqual({ k, code: 0, err: "" });
          const list = Bun.spawnSync([orchBin(), "task", "list", "--db", db, "--json"], { env, stdout: "pipe", stderr: "pipe" });
          expect(list.stderr.toString()).toBe("");
          expect(list.exitCode).toBe(0);
          const ids = (JSON.parse(list.stdout.toString()).tasks as { id: string }[]).map((t) => t.id);
          for (const [k, r] of results.entries()) if (r.code === 0) expect(ids).toContain(`M${k}`);
          const check = new Database(db, { readonly: true });
          expect((check.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
          check.close();
        }
        console.error(`crash-migrate: ${MIGRATION_RACES} fresh databases, ${kills} kill -9 during create/migrate, every survivor's write kept${FULL ? " [full]" : ""}`);
      }),
    size(60_000, 600_000),
  );
});
