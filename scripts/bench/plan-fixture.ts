/**
 * A synthetic PRD of N streams × T tasks with a dependency count linear in N: 10 % foundation,
 * 80 % parallel (each on one foundation stream and, every other stream, the parallel stream
 * before it), 10 % integration (each on two parallel streams). Used by the `plans` bench entry
 * and the scale tests.
 */
export function syntheticPrd(streamCount: number, tasksPerStream = 20): string {
  const f = Math.max(1, Math.round(streamCount / 10));
  const i = Math.max(1, Math.round(streamCount / 10));
  const p = Math.max(0, streamCount - f - i);
  const lines = [`# Initiative: Scale ${streamCount}`, "", "Synthetic plan for benchmarks.", ""];
  let task = 0;
  const tasks = (sid: string) => {
    for (let k = 0; k < tasksPerStream; k++) {
      task++;
      lines.push(`- T${task}: Task ${k + 1} of ${sid} [files: src/${sid}/f${k}.ts] @agent-me`);
    }
    lines.push("");
  };
  lines.push("## Foundation Phase");
  for (let k = 0; k < f; k++) {
    lines.push(`### F${k}: Foundation ${k}`);
    tasks(`F${k}`);
  }
  lines.push("## Parallel Phase");
  for (let k = 0; k < p; k++) {
    const deps = [`F${k % f}`, ...(k % 2 === 1 ? [`P${k - 1}`] : [])];
    lines.push(`### P${k}: Parallel ${k} (depends on ${deps.join(", ")})`);
    tasks(`P${k}`);
  }
  lines.push("## Integration Phase");
  for (let k = 0; k < i; k++) {
    const deps = p ? [`P${(2 * k) % p}`, `P${(2 * k + 1) % p}`] : [`F0`];
    lines.push(`### I${k}: Integration ${k} (depends on ${[...new Set(deps)].join(", ")})`);
    tasks(`I${k}`);
  }
  return lines.join("\n");
}
