/**
 * Dependencies on archived streams (issue #16): a foundation stream that was completed and then
 * archived showed as `⚠ Waiting on: Stream-A` under every dependent in `orch generate status`,
 * and `orch generate` refused the plan ("At least one foundation stream required").
 *
 * Random plans (1–3 foundation, 0–6 parallel, 0–2 integration streams, explicit or default
 * dependencies), each stream's tasks completed all, some or none, random streams archived. The
 * truth: a stream waits on exactly its dependencies that are not complete, archived or not. It
 * must hold for statusReport (and its rendering), generate must accept every plan the import
 * accepted, and the binary's `orch generate status` must say the same as the library.
 *
 * Quick: 400 plans (20 through the binary). STRESS=full: 3,000 (100).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { archiveStream, importPrdMarkdown, updateTask } from "../../src/core/index.ts";
import { openStore } from "../../src/db/client.ts";
import { generateOrchestration, planSource } from "../../src/generate/orchestration.ts";
import { renderStatus, statusReport } from "../../src/generate/status.ts";
import { tempDir } from "../helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { cleanEnv, orchBin } from "./harness/orch.ts";
import { Random, seeded } from "./harness/prng.ts";

const PLANS = size(400, 3000);
const THROUGH_BINARY = size(20, 100);

interface Drawn {
  prd: string;
  streams: { id: string; phase: string; deps: string[] | null; tasks: string[] }[];
}

/** A valid plan: dependencies only on earlier phases (or the same phase, earlier in the list). */
function drawPlan(rnd: Random, n: number): Drawn {
  const streams: Drawn["streams"] = [];
  const lines = [`# Initiative: Archived ${n}`];
  let task = 0;
  for (const [phase, lo, hi] of [["Foundation", 1, 3], ["Parallel", 0, 6], ["Integration", 0, 2]] as const) {
    const count = rnd.range(lo, hi);
    if (!count) continue;
    lines.push(`## ${phase} Phase`);
    for (let i = 0; i < count; i++) {
      const id = `P${n}-${phase[0]}${i}`;
      const earlier = streams.filter((s) => s.phase !== phase.toLowerCase() || rnd.chance(0.2)).map((s) => s.id);
      const deps = phase !== "Foundation" && rnd.chance(0.5) && earlier.length ? [...new Set(Array.from({ length: rnd.range(1, 3) }, () => rnd.pick(earlier)))] : null;
      lines.push(`### ${id}: stream ${id}${deps ? ` (depends on ${deps.join(", ")})` : ""}`);
      const tasks = Array.from({ length: rnd.range(1, 3) }, () => `T${n}-${++task}`);
      for (const t of tasks) lines.push(`- ${t}: work ${t}`);
      streams.push({ id, phase: phase.toLowerCase(), deps, tasks });
    }
  }
  return { prd: `${lines.join("\n")}\n`, streams };
}

describe("stress: dependencies on archived streams", () => {
  test(
    `${PLANS} random plans with completed and archived streams: waiting on exactly the incomplete dependencies`,
    () =>
      seeded("archived-deps", async (rnd) => {
        const dir = tempDir("orch-stress-archived-");
        const db = join(dir, "tasks.db");
        const store = await openStore(db);
        const problems: string[] = [];
        let archivedDeps = 0;
        let waits = 0;
        const binaryCases: { initiative: string; expected: Record<string, string[]> }[] = [];
        for (let n = 0; n < PLANS && problems.length < 10; n++) {
          const plan = drawPlan(rnd, n);
          await importPrdMarkdown(store, plan.prd, { maxParallel: 6 });
          const complete = new Map<string, boolean>();
          for (const s of plan.streams) {
            const r = rnd.next();
            const done = r < 0.5 ? s.tasks.length : r < 0.75 ? rnd.int(s.tasks.length) : 0;
            for (const t of s.tasks.slice(0, done)) await updateTask(store, { id: t, status: "completed" });
            complete.set(s.id, done === s.tasks.length);
          }
          const archived = new Set(plan.streams.filter(() => rnd.chance(0.3)).map((s) => s.id));
          for (const id of archived) await archiveStream(store, id);

          const src = await planSource(store);
          const report = statusReport(src.initiative, src.streams, src.archived);
          const got = Object.fromEntries(report.phases.flatMap((p) => p.streams.map((s) => [s.streamId, s.waitingOn])));
          const expected: Record<string, string[]> = {};
          for (const s of src.streams) {
            const deps = s.dependencies.filter((d) => d !== s.streamId);
            expected[s.streamId] = complete.get(s.streamId) ? [] : [...new Set(deps.filter((d) => !complete.get(d)))];
            archivedDeps += deps.filter((d) => archived.has(d)).length;
            waits += expected[s.streamId]!.length;
          }
          if (JSON.stringify(got) !== JSON.stringify(expected)) problems.push(`plan ${n}: waiting ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
          const text = renderStatus(report);
          for (const line of text.split("\n")) {
            const m = /Waiting on: (.*)$/.exec(line);
            for (const d of m ? m[1]!.split(", ") : []) if (complete.get(d)) problems.push(`plan ${n}: "${line.trim()}" names ${d}, which is complete`);
          }
          if (src.streams.length) {
            try {
              await generateOrchestration(store, { projectRoot: dir, host: "127.0.0.1", port: 9090, maxParallel: 6, now: "2026-01-01T00:00:00.000Z" });
            } catch (err) {
              problems.push(`plan ${n}: generate refused a plan the import accepted (archived: ${[...archived].join(", ")}): ${(err as Error).message}`);
            }
          }
          if (binaryCases.length < THROUGH_BINARY && rnd.chance((THROUGH_BINARY / PLANS) * 2)) binaryCases.push({ initiative: src.initiative!.id!, expected });
        }
        await store.close();

        for (const c of binaryCases) {
          const p = Bun.spawnSync([orchBin(), "generate", "status", "--json", "--initiative", c.initiative, "--db", db], { cwd: dir, env: cleanEnv({ HOME: dir }), stdout: "pipe", stderr: "pipe" });
          if (p.exitCode !== 0) {
            problems.push(`orch generate status --initiative ${c.initiative}: exit ${p.exitCode} ${p.stderr.toString().slice(0, 200)}`);
            continue;
          }
          const r = JSON.parse(p.stdout.toString()) as { phases: { streams: { streamId: string; waitingOn: string[] }[] }[] };
          const got = Object.fromEntries(r.phases.flatMap((ph) => ph.streams.map((s) => [s.streamId, s.waitingOn])));
          if (JSON.stringify(got) !== JSON.stringify(c.expected)) problems.push(`binary, ${c.initiative}: ${JSON.stringify(got)} ≠ ${JSON.stringify(c.expected)}`);
        }
        console.error(
          `archived-deps: ${PLANS} plans, ${archivedDeps} dependencies on archived streams, ${waits} true waits; ${binaryCases.length} through the binary${FULL ? " [full]" : ""}`,
        );
        expect(problems).toEqual([]);
      }),
    size(120_000, 900_000),
  );
});
