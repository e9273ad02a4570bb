/**
 * Load (issue #9): 16 writer processes on one database — `orch mcp` sessions and `orch task
 * update` loops — while `orch serve` streams events to a listening client and `orch watch --once`
 * polls the API. Every update must be in the database, every update must arrive as an SSE event,
 * and nobody may see an error: no failed call, no non-zero exit, nothing on stderr, no monitor
 * frame saying the API is down.
 *
 * Quick (npm test): 16 processes × 40 updates. STRESS=full: 16 × 1,000.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { createTask } from "../../src/core/index.ts";
import { openStore } from "../../src/db/client.ts";
import { tempDir } from "../helpers.ts";
import { SseTap } from "../api/sse-tap.ts";
import { FULL, size } from "./harness/mode.ts";
import { McpProc } from "./harness/mcp-proc.ts";
import { cleanEnv, LineReader, orchBin, serve } from "./harness/orch.ts";
import { seeded } from "./harness/prng.ts";

const PROCESSES = 16;
const CLI_LOOPS = 6; // the other 10 are orch mcp sessions
const UPDATES = size(40, 1000);

describe("load: 16 writers, SSE and the monitor on one database", () => {
  test(
    `${PROCESSES} processes × ${UPDATES} updates: all stored, all streamed, no errors`,
    () =>
      seeded("load", async (rnd) => {
        const dir = tempDir("orch-stress-load-");
        const db = join(dir, "tasks.db");
        const env = cleanEnv({ HOME: dir });
        {
          const store = await openStore(db);
          for (let k = 1; k <= PROCESSES; k++)
            await createTask(store, { id: `L${k}`, title: `load task ${k}`, metadata: { streamId: `Load-${k % 4}`, streamName: `Load ${k % 4}`, files: [`src/f${k}.ts`] } });
          await store.close();
        }

        const server = await serve(db, { env: { HOME: dir } });
        let tap = await SseTap.open(`${server.url}/api/events`);
        await tap.until((t) => t.messages.some((m) => m.event === "snapshot"), 10_000, "the SSE snapshot");

        // Every (writer, seq) an SSE client saw, from the notes of each task event. A client the
        // server cut off for reading too slowly reconnects with Last-Event-ID, as the monitor does.
        const seen = new Set<string>();
        let scanned = 0;
        let lastId: string | undefined;
        let reconnects = 0;
        const scan = () => {
          for (; scanned < tap.messages.length; scanned++) {
            const m = tap.messages[scanned]!;
            lastId = m.id ?? lastId;
            if (m.event !== "task") continue;
            const notes = (JSON.parse(m.data) as { data: { notes: string | null } }).data.notes;
            if (notes?.startsWith("L")) seen.add(notes);
          }
          return seen.size;
        };
        let reconnecting = false;
        const follow = async () => {
          scan();
          if (!tap.closed || reconnecting) return;
          reconnecting = true;
          reconnects++;
          const next = await SseTap.open(`${server.url}/api/events`, lastId ? { "Last-Event-ID": lastId } : {});
          scan(); // nothing arrives on a closed stream: the old one is read to its end
          tap = next;
          scanned = 0;
          reconnecting = false;
        };
        const following = setInterval(() => void follow(), 200);

        const problems: string[] = [];
        const t0 = performance.now();

        // 10 agent sessions: one call in flight each, as an agent works.
        const sessions = Array.from({ length: PROCESSES - CLI_LOOPS }, () => McpProc.spawn(orchBin(), ["mcp", "--db", db], { env }));
        const sessionWork = sessions.map(async (s, i) => {
          const k = i + 1;
          await s.initialize();
          for (let n = 1; n <= UPDATES; n++) {
            const args: Record<string, unknown> = { id: `L${k}`, notes: `L${k}-${n}` };
            if (n % 10 === 0) args.status = n % 20 === 0 ? "pending" : "in_progress";
            if (rnd.chance(0.05)) await s.call("agent_heartbeat", { taskId: `L${k}`, agentId: `agent-${k}` });
            const r = await s.call("task_update", args, 120_000);
            if (r.isError) problems.push(`mcp L${k} update ${n}: ${r.text}`);
          }
          s.closeStdin();
          const code = await s.exited;
          if (code !== 0) problems.push(`orch mcp L${k} exited ${code}`);
          if (s.violations.length) problems.push(`orch mcp L${k} wrote non-JSON-RPC lines: ${s.violations.slice(0, 3).join(" | ")}`);
          const stderr = s.stderr.split("\n").filter((l) => l && !/^orch mcp: (serving|stdin closed)/.test(l));
          if (stderr.length) problems.push(`orch mcp L${k} stderr: ${stderr.slice(0, 3).join(" | ")}`);
        });

        // 6 scripts: `orch task update` in a loop, one process per update.
        const loops = Array.from({ length: CLI_LOOPS }, (_, i) => {
          const k = PROCESSES - CLI_LOOPS + i + 1;
          const p = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "cli-loop.ts"), orchBin(), db, `L${k}`, String(UPDATES), `L${k}`], {
            env,
            stdout: "pipe",
            stderr: "pipe",
          });
          const out = new LineReader(p.stdout);
          return (async () => {
            const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
            await out.until((l) => l.some((x) => x.startsWith("done ")), 5000, "the loop's summary");
            for (const l of out.lines.filter((x) => x.startsWith("fail "))) problems.push(`cli L${k}: ${l}`);
            if (code !== 0 || err) problems.push(`cli loop L${k} exited ${code}: ${err.slice(0, 500)}`);
          })();
        });

        // The monitor polling the API while all that runs.
        let writing = true;
        let frames = 0;
        const monitor = (async () => {
          while (writing) {
            const p = Bun.spawnSync([orchBin(), "watch", "--once", "--api", server.url], { env: cleanEnv({ HOME: dir, COLUMNS: "100" }), stdout: "pipe", stderr: "pipe" });
            const out = p.stdout.toString();
            frames++;
            if (p.exitCode !== 0 || p.stderr.length) problems.push(`watch --once exited ${p.exitCode}: ${p.stderr.toString().slice(0, 300)}`);
            else if (!out.includes("ORCHESTRATION STATUS") || out.includes("[API down]") || !out.includes("Load-0")) problems.push(`watch --once frame without the API's data: ${out.slice(0, 300)}`);
            await Bun.sleep(rnd.range(50, 400));
          }
        })();

        await Promise.all([...sessionWork, ...loops]);
        const writeMs = performance.now() - t0;
        writing = false;
        await monitor;

        const total = PROCESSES * UPDATES;
        // Every update reaches the listening client (the feed is nudged by the WAL file watch).
        const deadline = Date.now() + 60_000;
        while (scan() < total && Date.now() < deadline) {
          await follow();
          await tap.until((t) => t.closed || t.messages.length > scanned, 1000, "more events").catch(() => {});
        }
        clearInterval(following);
        tap.close();
        const serverCode = await server.stop();

        // Every update is in the database: the change log holds each (writer, seq) once.
        const check = new Database(db, { readonly: true });
        const rows = check
          .query("SELECT json_extract(payload, '$.notes') AS notes FROM events WHERE kind = 'task' AND op = 'update'")
          .all() as { notes: string | null }[];
        const stored = new Set(rows.map((r) => r.notes).filter((n): n is string => !!n && n.startsWith("L")));
        const finals = check.query("SELECT id, notes FROM tasks ORDER BY id").all() as { id: string; notes: string }[];
        const integrity = (check.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
        check.close();

        const missing: string[] = [];
        for (let k = 1; k <= PROCESSES; k++) for (let n = 1; n <= UPDATES; n++) if (!stored.has(`L${k}-${n}`)) missing.push(`L${k}-${n}`);
        const unseen: string[] = [];
        for (const m of stored) if (!seen.has(m)) unseen.push(m);

        console.error(
          `load: ${total} updates from ${PROCESSES} processes in ${Math.round(writeMs)} ms (${Math.round((total * 1000) / writeMs)}/s), ` +
            `${seen.size} seen over SSE (${reconnects} reconnects), ${frames} monitor frames${FULL ? " [full]" : ""}`,
        );
        expect(problems).toEqual([]);
        expect(integrity).toBe("ok");
        expect(missing).toEqual([]);
        expect(stored.size).toBe(total);
        expect(unseen).toEqual([]);
        expect(seen.size).toBe(total);
        expect(finals.filter((f) => f.notes !== `${f.id}-${UPDATES}`)).toEqual([]); // each task's last update is its final state
        expect(frames).toBeGreaterThan(0);
        expect(serverCode).toBe(0);
        expect(server.stderr.lines.filter((l) => !l.startsWith("HTTP server listening") && !l.startsWith("Dashboard: "))).toEqual([]);
      }),
    size(90_000, 900_000),
  );
});
