/**
 * `bun run bench [entry …] [--quick]`: runs scripts/bench/entries/*.ts (or the named ones),
 * keeps every row in docs/benchmarks.json and rewrites docs/benchmarks.md as one table.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { build } from "../build.ts";
import type { BenchContext, BenchRow } from "./lib.ts";

const root = join(import.meta.dir, "..", "..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const wanted = args.filter((a) => !a.startsWith("--"));

const entriesDir = join(import.meta.dir, "entries");
const entries = readdirSync(entriesDir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => basename(f, ".ts"))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();

const orchBin = await build();
const ctx: BenchContext = { root, orchBin, quick, scratch: () => mkdtempSync(join(tmpdir(), "orch-bench-")) };

const fmtRatio = (r: number | null) => (r === null || Number.isNaN(r) ? "n/a" : `${r}×`);
const jsonPath = join(root, "docs", "benchmarks.json");
const store: { machine: string; rows: Record<string, BenchRow[]>; dates: Record<string, string>; about?: Record<string, string> } =
  existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, "utf8")) : { machine: "", rows: {}, dates: {} };
store.about ??= {};
store.machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${process.platform}-${process.arch}, bun ${Bun.version}`;

for (const name of entries) {
  process.stderr.write(`bench ${name} …\n`);
  const mod = (await import(join(entriesDir, `${name}.ts`))) as { run(ctx: BenchContext): Promise<BenchRow[]>; about?: string };
  const rows = await mod.run(ctx);
  store.rows[name] = rows;
  if (mod.about) store.about[name] = mod.about;
  else delete store.about[name];
  store.dates[name] = new Date().toISOString().slice(0, 10);
  for (const r of rows) {
    process.stderr.write(`  ${r.pass ? "✓" : "✗"} ${r.metric}: ${r.orch} ${r.unit} vs ${r.baseline} ${r.unit} (${r.baselineName}) → ${fmtRatio(r.ratio)} (target ${r.target})\n`);
  }
}

writeFileSync(jsonPath, `${JSON.stringify(store, null, 2)}\n`);
const lines = [
  "# Benchmarks",
  "",
  "Every entry is measured against a baseline run in the same invocation on the same machine, and",
  "reported as a ratio. Regenerate with `npm run bench` (all entries) or `npm run bench -- <entry>`;",
  "add `--quick` for fewer repetitions. Raw rows live in `docs/benchmarks.json`.",
  "",
  `Machine: ${store.machine}`,
  "",
  "| entry | metric | orch | baseline | ratio | target | ok | date |",
  "|---|---|---|---|---|---|---|---|",
];
for (const [name, rows] of Object.entries(store.rows).sort()) {
  for (const r of rows) {
    lines.push(
      `| ${name} | ${r.metric} | ${r.orch} ${r.unit} | ${r.baseline} ${r.unit} (${r.baselineName}) | ${fmtRatio(r.ratio)} | ${r.target} | ${r.pass ? "✓" : "✗"} | ${store.dates[name] ?? ""} |`,
    );
  }
}
const notes = Object.entries(store.about).sort();
if (notes.length) {
  lines.push("", "## How some entries measure", "");
  for (const [name, text] of notes) lines.push(`- **${name}**: ${text}`);
}
writeFileSync(join(root, "docs", "benchmarks.md"), `${lines.join("\n")}\n`);
process.stderr.write(`wrote docs/benchmarks.md\n`);
