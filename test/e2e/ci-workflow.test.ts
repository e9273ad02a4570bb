/**
 * The workflow `orch generate --ci github` writes, run the way GitHub would run it: every job on
 * its own "runner" — a fresh clone of one bare remote, its own processes and ORCH_MACHINE — in
 * the order its `needs:` give (parallel jobs at the same time), against one shared database. Each
 * job's `run:` steps are executed as written (bash -e), with the secrets and `github.*` values
 * filled in; `uses:` steps are what the clone already did, and the install step is what PATH
 * already has: the compiled orch, and a `claude` that is the simulated agent (the npm install
 * itself is tested in test/release/npm.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commit, sh, tempRepo } from "../git/repo-helpers.ts";
import { cleanEnv, orchBin, runOrch, tempDir } from "../helpers.ts";
import { PRD_GUIDE, readRecords, startsOf } from "./start-helpers.ts";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
}
interface Job {
  needs?: string[];
  env: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, Job>;
}

/** GitHub's expressions, as this test's "GitHub" fills them in. */
function expand(value: string, ctx: Record<string, string>): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    if (!(expr in ctx)) throw new Error(`the workflow uses \${{ ${expr} }}, which this test does not provide`);
    return ctx[expr]!;
  });
}

/** Jobs in waves: each wave's jobs need only jobs of earlier waves. */
function waves(jobs: Record<string, Job>): string[][] {
  const done = new Set<string>();
  const out: string[][] = [];
  while (done.size < Object.keys(jobs).length) {
    const wave = Object.keys(jobs).filter((j) => !done.has(j) && (jobs[j]!.needs ?? []).every((n) => done.has(n)));
    if (!wave.length) throw new Error("the workflow's needs form a cycle");
    for (const j of wave) done.add(j);
    out.push(wave);
  }
  return out;
}

describe("orch generate --ci github", () => {
  test("every job on a fresh clone, in its needs' order, completes the initiative: plan imported by each, streams run headless, branches pushed and merged, main on the remote has every task", async () => {
    // The project: its PRD committed in the repository, imported from there.
    const root = tempRepo();
    mkdirSync(join(root, "docs"));
    commit(root, { "docs/PRD.md": PRD_GUIDE }, "the PRD");
    const dir = tempDir("orch-ci-");
    const db = join(dir, "team.db");
    const records = join(dir, "timeline.jsonl");
    const imported = await runOrch(["prd", "import", "docs/PRD.md"], { cwd: root, env: { ORCH_DB: db } });
    expect(imported.code).toBe(0);
    const gen = await runOrch(["generate", "--ci", "github"], { cwd: root, env: { ORCH_DB: db } });
    expect(gen.stderr).toBe("");
    // As the workflow's header asks: orch init's files are in the repository.
    expect((await runOrch(["init"], { cwd: root, env: { ORCH_DB: db } })).code).toBe(0);
    sh(root, "add", "-A");
    sh(root, "commit", "-q", "-m", "orchestration files");
    const bare = join(dir, "remote.git");
    sh(dir, "clone", "-q", "--bare", root, bare);

    const wf = Bun.YAML.parse(readFileSync(join(root, ".github/workflows/orchestration.yml"), "utf8")) as Workflow;
    expect(wf.env.PRD_FILE).toBe("docs/PRD.md");
    const initiativeId = JSON.parse((await runOrch(["stream", "list", "--json"], { cwd: root, env: { ORCH_DB: db } })).stdout).streams[0].initiativeId;

    // What every runner has on PATH after the install step.
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync(orchBin(), join(bin, "orch"));
    writeFileSync(join(bin, "claude"), `#!/bin/sh\nexec "${orchBin()}" agent-sim "$ORCH_STREAM_ID" --pause 40 --record "${records}"\n`);
    chmodSync(join(bin, "claude"), 0o755);
    const ctx = { "secrets.ORCH_DB": db, "secrets.ANTHROPIC_API_KEY": "sk-test-not-used", "github.run_id": "4242", "inputs.initiative_id": initiativeId };

    async function runJob(id: string): Promise<string> {
      const job = wf.jobs[id]!;
      const clone = join(tempDir(`orch-runner-${id}-`), "work");
      sh(dir, "clone", "-q", bare, clone);
      const env: Record<string, string> = { PATH: `${bin}:${process.env.PATH}`, HOME: tempDir("orch-runner-home-") };
      for (const [k, v] of Object.entries({ ...wf.env, ...job.env })) env[k] = expand(String(v), ctx);
      let log = "";
      for (const step of job.steps) {
        if (step.uses || step.name === "Install orch and Claude Code") continue;
        const p = Bun.spawn(["bash", "-e", "-c", step.run!], { cwd: clone, env: cleanEnv(env), stdout: "pipe", stderr: "pipe" });
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        log += `$ ${step.run}\n${out}${err}`;
        if (code !== 0) throw new Error(`job ${id}, step "${step.name}" exited ${code}:\n${log}`);
      }
      return log;
    }

    const logs: Record<string, string> = {};
    for (const wave of waves(wf.jobs)) {
      const done = await Promise.all(wave.map(runJob));
      wave.forEach((j, k) => (logs[j] = done[k]!));
    }
    expect(waves(wf.jobs)).toEqual([["stream-a"], ["stream-b", "stream-c"], ["stream-d"]]);

    // Each stream ran once, on its own job's runner; the remote's main has every task's commit.
    const recs = readRecords(records);
    for (const id of ["Stream-A", "Stream-B", "Stream-C", "Stream-D"]) expect(startsOf(recs, id)).toHaveLength(1);
    const subjects = sh(bare, "log", "--format=%s", "main");
    for (const t of ["TASK-001", "TASK-002", "TASK-003", "TASK-004", "TASK-005"]) expect(subjects).toContain(t);
    expect(logs["stream-b"]).toContain("⇡ Stream-B: pushed stream-b to origin");
    expect(logs["stream-d"]).toContain("Stream-B merged into main");
    expect(logs["stream-d"]).toContain("⇡ Stream-D: pushed main to origin");
    // Importing the plan again on each runner changed nothing.
    for (const j of ["stream-b", "stream-c", "stream-d"]) expect(logs[j]).toMatch(/unchanged|Imported/);
  }, 120_000);
});
