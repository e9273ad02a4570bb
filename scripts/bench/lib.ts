/** Shared benchmark helpers: every entry compares orch to a baseline measured in the same run. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface BenchRow {
  /** Entry file name, e.g. "startup". */
  entry: string;
  /** What was measured, e.g. "`orch --version` wall time (median)". */
  metric: string;
  orch: number;
  baseline: number;
  baselineName: string;
  unit: string;
  /** orch / baseline (or baseline / orch for higher-is-better metrics, see `higherIsBetter`). */
  ratio: number;
  target: string;
  pass: boolean;
  higherIsBetter?: boolean;
}

export interface BenchContext {
  root: string;
  orchBin: string;
  /** A fresh scratch directory for this entry. */
  scratch(): string;
  quick: boolean;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** `round(3.14159, 2)` → 3.14: every entry reports figures the same way. */
export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export function timeSpawn(cmd: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): number {
  const t0 = performance.now();
  const p = Bun.spawnSync(cmd, { cwd: opts.cwd, env: opts.env, stdout: "ignore", stderr: "ignore" });
  const dt = performance.now() - t0;
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${p.exitCode}`);
  return dt;
}

/** Compile a tiny script to a standalone binary with the same flags as orch: the bare-Bun baseline. */
export function compileBare(source: string, name = "bare"): string {
  const dir = mkdtempSync(join(tmpdir(), "orch-bench-bare-"));
  const src = join(dir, `${name}.ts`);
  Bun.write(src, source);
  const out = join(dir, name);
  const p = Bun.spawnSync(
    [process.execPath, "build", src, "--compile", "--minify", "--bytecode", "--format=esm", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", `--outfile=${out}`],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (p.exitCode !== 0) throw new Error(p.stderr.toString());
  return out;
}

export function row(r: Omit<BenchRow, "ratio" | "pass"> & { maxRatio?: number; minRatio?: number; pass?: boolean }): BenchRow {
  // A baseline of zero (an idle process that used no CPU) has no meaningful ratio.
  const ratio = r.baseline > 0 ? r.orch / r.baseline : Number.NaN;
  const pass = r.pass ?? (r.maxRatio !== undefined ? ratio <= r.maxRatio : r.minRatio !== undefined ? ratio >= r.minRatio : true);
  const { maxRatio: _a, minRatio: _b, ...rest } = r;
  return { ...rest, ratio: Number.isNaN(ratio) ? Number.NaN : Math.round(ratio * 1000) / 1000, pass };
}

/** Lines from a child's stdout, one at a time. */
export function lineReader(stream: ReadableStream<Uint8Array>): () => Promise<string> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let buf = "";
  return async () => {
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return line;
      }
      const { done, value } = await reader.read();
      if (done) throw new Error(`child ended mid-line: ${buf}`);
      buf += dec.decode(value, { stream: true });
    }
  };
}
