/**
 * Every answer is bounded, at any size: a large workspace (10,000 tasks quick, 100,000 full) read
 * through `orch serve` and `orch mcp` with random filters, limits and cursors. Each answer holds
 * at most a page; walking the pages gives every matching task exactly once; agents' default
 * answers stay small; hostile cursors and limits are refused with a 400 or isError, never served
 * unbounded. (Speed is the benchmark's job — `npm run bench -- scale` — not a timed test's.)
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { syntheticPrd } from "../../scripts/bench/plan-fixture.ts";
import { cleanEnv, orchBin, tempDir } from "../helpers.ts";
import { freePort } from "../net.ts";
import { McpProc } from "./harness/mcp-proc.ts";
import { size, timeout } from "./harness/mode.ts";
import { seeded } from "./harness/prng.ts";

const STREAMS = size(100, 1000);
const PER_STREAM = 100;
const MAX_PAGE = 5000;

describe("stress: answers are bounded at any size", () => {
  test(
    `${STREAMS * PER_STREAM} tasks: pages through the API and MCP, every task once, nothing unbounded`,
    () =>
      seeded("bounded", async (rnd) => {
        const dir = tempDir("orch-stress-bounded-");
        const db = join(dir, "tasks.db");
        writeFileSync(join(dir, "PRD.md"), syntheticPrd(STREAMS, PER_STREAM));
        const env = cleanEnv({ HOME: dir, ORCH_DB: db });
        const imp = Bun.spawnSync([orchBin(), "prd", "import", join(dir, "PRD.md"), "--max-parallel", "100000"], { env, stdout: "pipe", stderr: "pipe" });
        expect(imp.stderr.toString()).toBe("");
        // Some tasks move on, so status filters have something to find.
        const ids = (n: number) => Array.from({ length: n }, () => `T${rnd.range(1, STREAMS * PER_STREAM)}`);
        for (const id of ids(20)) Bun.spawnSync([orchBin(), "task", "update", id, "--status", rnd.pick(["in_progress", "completed", "blocked"])], { env });

        const port = freePort();
        const serve = Bun.spawn([orchBin(), "serve", "--port", String(port)], { env, stdout: "ignore", stderr: "ignore" });
        let walks = 0;
        let pages = 0;
        let refused = 0;
        try {
          const base = `http://127.0.0.1:${port}`;
          for (let i = 0; i < 100 && !(await fetch(`${base}/health`).then((r) => r.ok, () => false)); i++) await Bun.sleep(50);
          // No limit: one page of the default size, with the way to the rest.
          const first = (await (await fetch(`${base}/api/tasks`)).json()) as { tasks: unknown[]; totalTasks: number; nextCursor?: string; matchingTasks?: number };
          expect(first.tasks.length).toBe(1000);
          expect(first.matchingTasks).toBe(STREAMS * PER_STREAM);
          // Random walks: a filter and a page size, followed to the end.
          for (let w = 0; w < size(6, 20); w++) {
            const filter = rnd.pick(["", `streamId=P${rnd.int(STREAMS - 20)}`, "status=pending", "status=completed", "assignedAgent=me"]);
            const limit = rnd.pick([1, 7, 100, 999, 5000]);
            const seen = new Set<string>();
            let cursor: string | undefined;
            let matching: number | undefined;
            let ended = false;
            // Long walks (small pages over everything) stop after 200 pages: those prove the rest.
            for (let guard = 0; guard < 200; guard++) {
              const r = (await (await fetch(`${base}/api/tasks?${filter}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`)).json()) as typeof first & { tasks: { id: string }[] };
              pages++;
              expect(r.tasks.length).toBeLessThanOrEqual(limit);
              for (const t of r.tasks) {
                expect(seen.has(t.id)).toBe(false);
                seen.add(t.id);
              }
              matching ??= r.matchingTasks ?? r.totalTasks;
              if (r.nextCursor) expect(r.tasks.length).toBe(limit); // only a full page says "more"
              if (!r.nextCursor) {
                ended = true;
                break;
              }
              cursor = r.nextCursor;
            }
            if (ended) expect(seen.size).toBe(matching!);
            else expect(seen.size).toBe(200 * limit);
            walks++;
          }
          // Hostile limits and cursors: refused, never an unbounded answer.
          for (const q of ["limit=100000", "limit=5001", "limit=-1", "cursor=abc", "cursor=1e9", `cursor=${"9".repeat(30)}`, "limit=0"]) {
            const r = await fetch(`${base}/api/tasks?${q}`);
            expect(r.status).toBe(400);
            refused++;
          }
        } finally {
          serve.kill();
        }

        // An agent's default answers.
        const mcp = McpProc.spawn(orchBin(), ["mcp", "--db", db], { env, cwd: dir });
        try {
          await mcp.initialize();
          const call = (name: string, args: Record<string, unknown>) => mcp.call(name, args);
          const list = await call("task_list", {});
          expect(list.text.length).toBeLessThan(16 * 1024);
          expect(JSON.parse(list.text).tasks).toHaveLength(50);
          const streams = await call("stream_list", {});
          expect(streams.text).not.toContain('"files"');
          expect((await call("task_list", { limit: MAX_PAGE + 1 })).isError).toBe(true);
          expect((await call("task_list", { cursor: "../../etc" })).isError).toBe(true);
        } finally {
          mcp.kill();
        }
        console.error(`bounded: ${STREAMS * PER_STREAM} tasks; ${walks} walks over ${pages} pages, every task once; ${refused} hostile queries refused; MCP defaults within 16 KB`);
      }),
    timeout(120_000, 600_000),
  );
});
