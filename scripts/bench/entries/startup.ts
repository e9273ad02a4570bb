/** `orch --version` start time against a bare compiled Bun "hello" binary, ratio of medians. */
import { compileBare, median, row, timeSpawn, type BenchContext, type BenchRow, round } from "../lib.ts";

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const bare = compileBare(`console.log("orch 0.0.0");`, "hello");
  const runs = ctx.quick ? 15 : 60;
  const orch: number[] = [];
  const base: number[] = [];
  // Warm the page cache, then interleave so drift hits both equally.
  timeSpawn([ctx.orchBin, "--version"]);
  timeSpawn([bare]);
  for (let i = 0; i < runs; i++) {
    orch.push(timeSpawn([ctx.orchBin, "--version"]));
    base.push(timeSpawn([bare]));
  }
  return [
    row({
      entry: "startup",
      metric: "`orch --version` wall time, median",
      orch: round(median(orch)),
      baseline: round(median(base)),
      baselineName: "bare compiled Bun hello",
      unit: "ms",
      target: "≤ 1.3× bare",
      maxRatio: 1.3,
    }),
  ];
}
