/**
 * Worktree manager costs against raw git doing the same job in the same run:
 * - `orch stream conflicts` over 5 live stream branches (10 pairs) vs the 10 bare
 *   `git merge-tree --write-tree` calls it predicts with;
 * - `orch worktree merge` refusing a conflicting merge (predicted, nothing touched) vs the
 *   old way of finding out: `git merge --no-ff --no-commit` then `git merge --abort` (which
 *   writes the work tree twice and leaves it mid-merge if interrupted).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { median, row, type BenchContext, type BenchRow, round } from "../lib.ts";

function sh(cwd: string, cmd: string[], env?: Record<string, string>, okCodes = [0]): void {
  const p = Bun.spawnSync(cmd, { cwd, env: env ? { ...process.env, ...env } : undefined, stdout: "ignore", stderr: "pipe" });
  if (!okCodes.includes(p.exitCode ?? -1)) throw new Error(`${cmd.join(" ")} exited ${p.exitCode}: ${p.stderr.toString()}`);
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const dir = ctx.scratch();
  const root = join(dir, "repo");
  mkdirSync(join(root, "src"), { recursive: true });
  const env = { ORCH_DB: join(dir, "tasks.db") };
  const git = (cwd: string, ...args: string[]) => sh(cwd, ["git", ...args]);
  git(root, "init", "-q", "-b", "main");
  git(root, "config", "user.email", "bench@example.com");
  git(root, "config", "user.name", "bench");
  for (let i = 0; i < 200; i++) writeFileSync(join(root, "src", `f${i}.ts`), `export const v${i} = ${i};\n`);
  writeFileSync(join(root, "src", "shared.ts"), "export const a = 0;\n");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "init");

  const ids = ["Stream-B", "Stream-C", "Stream-D", "Stream-E", "Stream-F"];
  for (const [i, id] of ids.entries()) {
    sh(root, [ctx.orchBin, "task", "create", "--title", `work ${id}`, "--stream", id, "--phase", "parallel", "--files", `src/f${i}.ts,src/shared.ts`], env);
    sh(root, [ctx.orchBin, "worktree", "create", id], env);
    const wt = join(root, ".claude", "worktrees", id);
    writeFileSync(join(wt, "src", `f${i}.ts`), `export const v${i} = "${id}";\n`);
    // B and C both rewrite shared.ts: one conflicting pair.
    if (i < 2) writeFileSync(join(wt, "src", "shared.ts"), `export const a = "${id}";\n`);
    git(wt, "commit", "-q", "-am", `${id} work`);
  }
  const branches = ids.map((s) => s.toLowerCase());

  const runs = ctx.quick ? 5 : 20;
  const orchConflicts: number[] = [];
  const rawConflicts: number[] = [];
  const orchMerge: number[] = [];
  const rawMerge: number[] = [];
  const mergeTreeAll = () => {
    for (let i = 0; i < branches.length; i++)
      for (let j = i + 1; j < branches.length; j++) sh(root, ["git", "merge-tree", "--write-tree", "--name-only", branches[i]!, branches[j]!], undefined, [0, 1]);
  };
  // main moves on so merging stream-b conflicts
  writeFileSync(join(root, "src", "shared.ts"), `export const a = "main";\n`);
  git(root, "commit", "-q", "-am", "main edit");

  sh(root, [ctx.orchBin, "stream", "conflicts", "--json"], env); // warm
  mergeTreeAll();
  for (let k = 0; k < runs; k++) {
    orchConflicts.push(time(() => sh(root, [ctx.orchBin, "stream", "conflicts", "--json"], env)));
    rawConflicts.push(time(mergeTreeAll));
    orchMerge.push(time(() => sh(root, [ctx.orchBin, "worktree", "merge", "Stream-B", "--json"], env, [1])));
    rawMerge.push(
      time(() => {
        sh(root, ["git", "merge", "--no-ff", "--no-commit", "stream-b"], undefined, [1]);
        sh(root, ["git", "merge", "--abort"]);
      }),
    );
  }
  const r2 = (x: number) => round(x, 2);
  return [
    row({
      entry: "worktrees",
      metric: "`orch stream conflicts` over 5 live branches (10 pairs), median",
      orch: r2(median(orchConflicts)),
      baseline: r2(median(rawConflicts)),
      baselineName: "10 bare git merge-tree calls",
      unit: "ms",
      target: "≤ 2.5× raw merge-tree",
      maxRatio: 2.5,
    }),
    row({
      entry: "worktrees",
      metric: "`orch worktree merge` refusing a conflict (predicted, nothing touched), median",
      orch: r2(median(orchMerge)),
      baseline: r2(median(rawMerge)),
      baselineName: "git merge --no-commit + merge --abort (200-file repo)",
      unit: "ms",
      // orch's figure includes its ≈19 ms start-up with the database (shared by every data
      // command) and the checks that make it safe: branch, clean checkout, no merge in progress.
      target: "≤ 5× the merge-and-abort way",
      maxRatio: 5,
    }),
  ];
}
