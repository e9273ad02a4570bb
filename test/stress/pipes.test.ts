/**
 * A reader that closes the pipe is a normal end (issue #16): `orch task list | head -1` used to
 * end with `orch: unexpected error: EPIPE` and exit 1 most times. Every command that prints,
 * from the compiled binary, through real OS pipes (bash, `set -o pipefail`): its stdout read by
 * `head -c K` for a random K (0 included: the reader is gone before the first write), or stdout
 * and stderr both into the pipe, or stdout closed under a running `orch mcp`. Each must exit 0
 * and print nothing on stderr. The data is large (thousands of tasks, so the output outlasts the
 * pipe's 64 KB buffer) and `--json` is drawn as often as the table.
 *
 * Quick: 3,000 tasks, 70 pipelines. STRESS=full: 20,000 tasks, 400 pipelines.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { cleanEnv, orchBin } from "./harness/orch.ts";
import { Random, seeded } from "./harness/prng.ts";

const TASKS = size(3000, 20_000);
const PIPELINES = size(70, 400);

function bigPrd(tasks: number): string {
  const lines = ["# Initiative: Pipes", "## Foundation Phase", "### Stream-A: Core"];
  const per = Math.ceil(tasks / 3);
  for (let i = 1; i <= tasks; i++) {
    if (i === per + 1) lines.push("## Parallel Phase", "### Stream-B: Wide");
    if (i === 2 * per + 1) lines.push("### Stream-C: Wider");
    lines.push(`- TASK-${i}: task number ${i}, long enough a title that the table is wide [files: src/f${i % 97}.ts]`);
  }
  return `${lines.join("\n")}\n`;
}

/** Commands that print, each with and without --json where it has one. */
const COMMANDS: string[][] = [
  ["task", "list"],
  ["task", "list", "--all"],
  ["task", "list", "--stream", "Stream-B"],
  ["task", "get", "TASK-1"],
  ["stream", "list"],
  ["stream", "get", "Stream-A"],
  ["stream", "get", "Stream-B"],
  ["prd", "list"],
  ["generate", "status"],
  ["stream", "conflicts"],
  ["watch", "--once", "--no-color"],
  ["start", "--dry-run"],
  ["start", "--status"],
];
const HELP: string[][] = [["--help"], ["task", "--help"], ["task", "list", "--help"], ["start", "--help"], ["--version"]];

function pipeline(rnd: Random): { args: string[]; reader: string; both: boolean } {
  const help = rnd.chance(0.1);
  let args = [...rnd.pick(help ? HELP : COMMANDS)];
  if (!help && rnd.chance(0.5) && !args.includes("--once")) args.push("--json");
  const k = rnd.pick([0, 1, 10, 100, 4096, 65_536, 200_000]);
  const reader = rnd.chance(0.2) ? `head -${rnd.range(1, 3)}` : `head -c ${k}`;
  return { args, reader, both: rnd.chance(0.25) };
}

const shq = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

describe("stress: a closed pipe ends a command quietly", () => {
  test(
    `${PIPELINES} pipelines over ${TASKS} tasks: exit 0, nothing on stderr`,
    () =>
      seeded("pipes", async (rnd) => {
        const dir = tempDir("orch-stress-pipes-");
        const db = join(dir, "tasks.db");
        writeFileSync(join(dir, "prd.md"), bigPrd(TASKS));
        const env = cleanEnv({ HOME: dir, ORCH_DB: db, NO_COLOR: "1" });
        const imp = Bun.spawnSync([orchBin(), "prd", "import", join(dir, "prd.md")], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
        expect(imp.stderr.toString()).toBe("");
        expect(imp.exitCode).toBe(0);

        const problems: string[] = [];
        let cut = 0;
        for (let i = 0; i < PIPELINES; i++) {
          const p = pipeline(rnd);
          const cmd = [orchBin(), ...p.args].map(shq).join(" ");
          // stderr of orch goes to a file (or into the pipe too); the script prints orch's status.
          const script = `set -o pipefail; ${cmd} ${p.both ? "2>&1" : "2>err.txt"} | ${p.reader} >/dev/null; echo "\${PIPESTATUS[0]}"`;
          const r = Bun.spawnSync(["bash", "-c", script], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
          const status = r.stdout.toString().trim();
          const err = p.both ? "" : await Bun.file(join(dir, "err.txt")).text();
          if (status !== "0" || err || r.stderr.toString()) problems.push(`${p.args.join(" ")} | ${p.reader}${p.both ? " (2>&1)" : ""}: exit ${status}, stderr ${JSON.stringify((err || r.stderr.toString()).slice(0, 300))}`);
          else cut++;
          if (problems.length > 5) break;
        }

        // orch mcp: the client stops reading after the first answer while stdin stays open; the
        // next answer finds the pipe closed and the session ends 0, with no stack on stderr.
        let mcpRuns = 0;
        const init = JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "pipes", version: "0" } } });
        for (let i = 0; i < size(3, 10); i++) {
          const call = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "task_list", arguments: { limit: rnd.range(1, 2000) } } });
          writeFileSync(join(dir, "mcp-in.txt"), `${init}\n${call}\n`);
          // The feeder keeps stdin open until orch has ended (or 15 s), pinging so orch keeps answering
          // (a process learns its reader left only when it writes): only a closed stdout can end it.
          const script = `rm -f done rc.txt; (cat mcp-in.txt; for i in $(seq 150); do [ -e done ] && break; sleep 0.1; echo '{"jsonrpc":"2.0","id":"p'$i'","method":"ping"}'; done) | { ${shq(orchBin())} mcp 2>err.txt; echo $? >rc.txt; touch done; } | head -c ${rnd.pick([1, 100])} >/dev/null`;
          const t0 = Date.now();
          Bun.spawnSync(["bash", "-c", script], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
          const err = (await Bun.file(join(dir, "err.txt")).text()).split("\n").filter((l) => l && !/^orch mcp: (serving|stdout closed)/.test(l));
          const status = (await Bun.file(join(dir, "rc.txt")).text()).trim();
          if (status !== "0" || err.length) problems.push(`orch mcp | head: exit ${status}, stderr ${JSON.stringify(err.join("\n").slice(0, 300))}`);
          else if (Date.now() - t0 > 12_000) problems.push("orch mcp went on after its stdout closed (until stdin ended)");
          else mcpRuns++;
        }
        console.error(`pipes: ${cut}/${PIPELINES} pipelines cut short over ${TASKS} tasks ended 0 and quiet; ${mcpRuns} orch mcp sessions ended 0 when stdout closed${FULL ? " [full]" : ""}`);
        expect(problems).toEqual([]);
      }),
    size(120_000, 900_000),
  );
});
