/**
 * Plans at scale: `orch prd import` + `orch generate` (the compiled binary, a fresh database each
 * time) for 1,000 streams × 20 tasks against 100 × 20 in the same run. Linear growth means 10×
 * the streams costs at most 12× the time. A second row times the graph validation alone.
 */
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { graphIssues, parsePrd } from "../../../src/core/index.ts";
import { median, row, timeSpawn, type BenchContext, type BenchRow, round } from "../lib.ts";
import { syntheticPrd } from "../plan-fixture.ts";

function importAndGenerate(ctx: BenchContext, prdPath: string): number {
  const dir = ctx.scratch(); // not a git repository: the project root is this folder
  const db = join(dir, "tasks.db");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
  const flags = ["--db", db, "--max-parallel", "100000"];
  return (
    timeSpawn([ctx.orchBin, "prd", "import", prdPath, ...flags], { cwd: dir, env }) +
    timeSpawn([ctx.orchBin, "generate", "--ci", "github", ...flags], { cwd: dir, env })
  );
}

/** The stream graph of a synthetic plan (parsed once, outside any timing). */
function graphOf(streams: number) {
  const r = parsePrd(syntheticPrd(streams, 1));
  if (!r.ok) throw new Error("synthetic PRD did not parse");
  return r.plan.streams;
}

/** Mean time of one graph check over `reps` back-to-back runs (short runs are timed in batches). */
function validate(streams: ReturnType<typeof graphOf>, reps: number): number {
  const t0 = performance.now();
  for (let k = 0; k < reps; k++)
    if (graphIssues(streams, { maxParallel: 1_000_000 }).length) throw new Error("synthetic plan is not valid");
  return (performance.now() - t0) / reps;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const reps = ctx.quick ? 1 : 3;
  const dir = ctx.scratch();
  const texts = { small: syntheticPrd(100), large: syntheticPrd(1000) };
  const paths = { small: join(dir, "prd-100.md"), large: join(dir, "prd-1000.md") };
  writeFileSync(paths.small, texts.small);
  writeFileSync(paths.large, texts.large);

  importAndGenerate(ctx, paths.small); // warm the page cache
  const small: number[] = [];
  const large: number[] = [];
  for (let k = 0; k < reps; k++) {
    small.push(importAndGenerate(ctx, paths.small));
    large.push(importAndGenerate(ctx, paths.large));
  }
  // The graph check alone (graph.ts, meant to be linear in streams + dependencies), 1,000
  // streams against 100, each timed over the same total work (20 × 1,000 and 200 × 100 streams),
  // both warmed first and garbage collected before each timing.
  const g100 = graphOf(100);
  const g1k = graphOf(1000);
  for (let k = 0; k < 3; k++) {
    validate(g100, 200);
    validate(g1k, 20);
  }
  const pureSmall: number[] = [];
  const pureLarge: number[] = [];
  for (let k = 0; k < (ctx.quick ? 9 : 31); k++) {
    Bun.gc(true);
    pureSmall.push(validate(g100, 200));
    Bun.gc(true);
    pureLarge.push(validate(g1k, 20));
  }
  const ms = (x: number) => round(x, 1);
  return [
    row({
      entry: "plans",
      metric: "`orch prd import` + `orch generate --ci github`, 1,000 streams × 20 tasks (median)",
      orch: ms(median(large)),
      baseline: ms(median(small)),
      baselineName: "the same for 100 streams × 20 tasks",
      unit: "ms",
      target: "≤ 12× (linear: 10× the streams)",
      maxRatio: 12,
    }),
    row({
      entry: "plans",
      metric: "validate the stream graph (graph.ts, in-process), 1,000 streams (median)",
      orch: round(median(pureLarge), 3),
      baseline: round(median(pureSmall), 3),
      baselineName: "the same for 100 streams",
      unit: "ms",
      target: "≤ 12× (linear: 10× the streams)",
      maxRatio: 12,
    }),
  ];
}
