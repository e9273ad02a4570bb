/**
 * Crashes around git (issue #9): kill -9 of `orch worktree merge` and of `orch start` at random
 * instants. After each kill the main checkout has no MERGE_HEAD and no conflict markers, no
 * commit that existed before is lost, and a retry (`orch worktree merge` again, `orch start
 * --resume`) finishes the job with a clean checkout. Kills take either orch alone (its git runs
 * on) or its whole process group (orch and the git it was running).
 *
 * Quick: 8 merge kills, one orchestrated run killed twice. STRESS=full: 60 merge kills, four runs
 * killed three times each.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { cleanEnv, LineReader, orchBin } from "./harness/orch.ts";
import { type Random, seeded } from "./harness/prng.ts";

const MERGE_KILLS = size(8, 60);
const RUNS = size(1, 4);
const KILLS_PER_RUN = size(2, 3);

function git(cwd: string, ...args: string[]): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

function ok(cwd: string, ...args: string[]): string {
  const r = git(cwd, ...args);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.err}`);
  return r.out;
}

function newRepo(dir: string): string {
  const root = join(dir, "project");
  mkdirSync(root);
  ok(root, "init", "-q", "-b", "main");
  ok(root, "config", "user.email", "stress@orch.invalid");
  ok(root, "config", "user.name", "orch stress");
  ok(root, "config", "commit.gpgsign", "false");
  for (let i = 0; i < 40; i++) {
    mkdirSync(join(root, "src", `m${i % 8}`), { recursive: true });
    writeFileSync(join(root, "src", `m${i % 8}`, `base${i}.ts`), `export const base${i} = ${i};\n`);
  }
  ok(root, "add", "-A");
  ok(root, "commit", "-q", "-m", "initial");
  return root;
}

/** The checkout is not mid-anything: no merge state, no markers, no lock nobody can explain. */
function checkNotMidMerge(root: string): string[] {
  const problems: string[] = [];
  for (const f of ["MERGE_HEAD", "MERGE_MSG", "CHERRY_PICK_HEAD", "REVERT_HEAD"]) if (existsSync(join(root, ".git", f))) problems.push(`.git/${f} exists`);
  const markers = git(root, "grep", "-l", "-E", "^(<<<<<<<|>>>>>>>) ", "--", ".");
  if (markers.code === 0 && markers.out.trim()) problems.push(`conflict markers in ${markers.out.trim()}`);
  // Any index.lock left must be explained by an interrupted orch merge (its journal) — or belong
  // to a git still running: agents outlive a killed `orch start` and commit in the main checkout,
  // so a lock that goes away within a few seconds was theirs, not a stale one.
  const lock = join(root, ".git", "index.lock");
  const journal = join(root, ".git", "orch-merge.json");
  for (let waited = 0; waited < 5000 && existsSync(lock) && !existsSync(journal); waited += 50) Bun.sleepSync(50);
  if (existsSync(lock) && !existsSync(journal)) problems.push("a stale .git/index.lock without a merge journal");
  return problems;
}

/** Every commit reachable now from any branch or orch ref. */
function allCommits(root: string): Set<string> {
  return new Set(ok(root, "rev-list", "--all").trim().split("\n").filter(Boolean));
}

function kill(pid: number, group: boolean) {
  try {
    process.kill(group ? -pid : pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Wait until no process of the group is left (git children of a killed orch finish by themselves). */
async function groupGone(pgid: number, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process group ${pgid} still alive after ${ms} ms`);
    await Bun.sleep(10);
  }
}

describe("crash: kill -9 around git", () => {
  test(
    `${MERGE_KILLS} kills of orch worktree merge at random instants: never mid-merge, nothing lost, the retry merges`,
    () =>
      seeded("crash-merge", async (rnd) => {
        const dir = tempDir("orch-stress-merge-");
        const root = newRepo(dir);
        const db = join(dir, "tasks.db");
        const env = cleanEnv({ HOME: dir, ORCH_DB: db });
        const orch = (args: string[]) => Bun.spawnSync([orchBin(), ...args], { cwd: root, env, stdout: "pipe", stderr: "pipe" });
        expect(orch(["task", "create", "--title", "merge me", "--stream", "Stream-M"]).exitCode).toBe(0);
        const created = orch(["worktree", "create", "Stream-M"]);
        expect(created.stderr.toString()).toBe("");
        const wt = join(root, ".claude", "worktrees", "Stream-M");
        // The stream adds many files, changes and deletes some: a merge long enough to be hit.
        const files = size(150, 400);
        for (let i = 0; i < files; i++) {
          mkdirSync(join(wt, "feature", `d${i % 12}`), { recursive: true });
          writeFileSync(join(wt, "feature", `d${i % 12}`, `f${i}.ts`), `export const f${i} = "${"x".repeat(rnd.range(10, 4000))}";\n`);
        }
        for (let i = 0; i < 10; i++) writeFileSync(join(wt, "src", `m${i % 8}`, `base${i}.ts`), `export const base${i} = ${i * 100};\n`);
        ok(wt, "rm", "-q", "src/m7/base39.ts");
        ok(wt, "add", "-A");
        ok(wt, "commit", "-q", "-m", "the stream's work");
        const streamTip = ok(wt, "rev-parse", "HEAD").trim();
        writeFileSync(join(root, "MAIN.md"), "main moves on\n");
        ok(root, "add", "MAIN.md");
        ok(root, "commit", "-q", "-m", "main moves on");
        const mainBefore = ok(root, "rev-parse", "HEAD").trim();

        // How long an undisturbed merge takes here, to spread the kills over all of it.
        let t0 = performance.now();
        const calm = orch(["worktree", "merge", "Stream-M"]);
        expect(calm.exitCode).toBe(0);
        const duration = performance.now() - t0;
        const reset = () => {
          ok(root, "reset", "-q", "--hard", mainBefore);
          ok(root, "clean", "-q", "-fd", "-e", ".claude");
        };
        reset();

        const outcomes: Record<string, number> = {};
        for (let k = 0; k < MERGE_KILLS; k++) {
          const before = allCommits(root);
          const group = rnd.chance(0.7);
          const p = Bun.spawn([orchBin(), "worktree", "merge", "Stream-M"], { cwd: root, env, stdout: "ignore", stderr: "ignore", detached: true });
          await Bun.sleep(rnd.next() * duration * 1.5);
          kill(p.pid, group);
          await p.exited;
          if (!group) await groupGone(p.pid);
          const tip = ok(root, "rev-parse", "main").trim();
          const state = tip === mainBefore ? "not merged" : ok(root, "rev-parse", `${tip}^2`).trim() === streamTip ? "merged" : "other";
          const key = `${group ? "group" : "orch only"}: ${state}${existsSync(join(root, ".git", "orch-merge.json")) ? ", journal left" : ""}`;
          outcomes[key] = (outcomes[key] ?? 0) + 1;

          expect(checkNotMidMerge(root)).toEqual([]);
          expect(state).not.toBe("other");
          const after = allCommits(root);
          expect([...before].filter((c) => !after.has(c))).toEqual([]);

          // The retry finishes (or finds it done) and leaves a clean checkout.
          const retry = orch(["worktree", "merge", "Stream-M", "--json"]);
          expect({ code: retry.exitCode, err: retry.stderr.toString() }).toEqual({ code: 0, err: "" });
          expect(["merged", "up_to_date"]).toContain(JSON.parse(retry.stdout.toString()).status);
          expect(git(root, "merge-base", "--is-ancestor", streamTip, "main").code).toBe(0);
          expect(git(root, "status", "--porcelain", "--untracked-files=all").out).toBe("");
          expect(checkNotMidMerge(root)).toEqual([]);
          expect(existsSync(join(root, ".git", "orch-merge.json"))).toBe(false);
          expect(readFileSync(join(root, "src", "m0", "base0.ts"), "utf8")).toBe("export const base0 = 0;\n");
          expect(existsSync(join(root, "src", "m7", "base39.ts"))).toBe(false);
          reset();
        }
        console.error(`crash-merge: ${MERGE_KILLS} kills over a ${Math.round(duration)} ms merge of ${files} files: ${JSON.stringify(outcomes)}${FULL ? " [full]" : ""}`);
      }),
    size(90_000, 900_000),
  );

  test(
    `${RUNS} orchestrated run(s), orch start killed ${KILLS_PER_RUN}× each: --resume finishes, every agent commit merged`,
    () =>
      seeded("crash-start", async (rnd) => {
        for (let run = 0; run < RUNS; run++) await killedRun(rnd.fork(), run);
      }),
    size(120_000, 900_000),
  );
});

const PRD = `# Initiative: Crash run
## Foundation Phase
### Stream-F: Base
- F-1: base one [files: src/base1.ts]
- F-2: base two [files: src/base2.ts]
## Parallel Phase
### Stream-P1: Left
- P1-1: left one [files: src/left/]
- P1-2: left two [files: src/left/]
- P1-3: left three [files: src/left/]
### Stream-P2: Right
- P2-1: right one [files: src/right/]
- P2-2: right two [files: src/right/]
## Integration Phase
### Stream-I: Join
- I-1: join [files: src/join.ts]
`;
const TASKS = ["F-1", "F-2", "P1-1", "P1-2", "P1-3", "P2-1", "P2-2", "I-1"];

async function killedRun(rnd: Random, run: number) {
  const dir = tempDir("orch-stress-start-");
  const root = newRepo(dir);
  writeFileSync(join(root, "prd.md"), PRD);
  ok(root, "add", "prd.md");
  ok(root, "commit", "-q", "-m", "the PRD");
  const db = join(dir, "tasks.db");
  const env = cleanEnv({ HOME: dir, ORCH_DB: db });
  const imp = Bun.spawnSync([orchBin(), "prd", "import", "prd.md"], { cwd: root, env, stdout: "pipe", stderr: "pipe" });
  expect(imp.stderr.toString()).toBe("");
  const agent = `${orchBin()} agent-sim {streamId} --pause ${rnd.range(60, 140)}`;
  const start = (resume: boolean) =>
    Bun.spawn([orchBin(), "start", "--launcher", "headless", "--agent-cmd", agent, "--max-parallel", "2", ...(resume ? ["--resume"] : [])], {
      cwd: root,
      env,
      stdout: "pipe",
      stderr: "pipe",
      detached: true, // its own process group: a group kill takes orch, never its git or the agents (sessions of their own)
    });

  const seen = new Set<string>();
  let resumed = false;
  for (let k = 0; k <= KILLS_PER_RUN; k++) {
    const last = k === KILLS_PER_RUN;
    let p = start(resumed);
    let out = new LineReader(p.stdout);
    const err = new LineReader(p.stderr);
    if (!last) {
      // Kill at a random instant, or just as a parallel stream completes (its merge follows).
      if (rnd.chance(0.5)) {
        await out.until((l) => l.some((x) => /^✓ Stream-P\d complete/.test(x)) || l.some((x) => x.includes("All ")), 60_000, "a parallel stream to complete").catch(() => {});
        await Bun.sleep(rnd.range(0, 40));
      } else await Bun.sleep(rnd.range(50, 1500));
      kill(p.pid, rnd.chance(0.7));
      await p.exited;
      for (const c of allCommits(root)) seen.add(c);
      expect(checkNotMidMerge(root)).toEqual([]);
      resumed = true;
      continue;
    }
    // The last one runs to the end.
    let code = await p.exited;
    if (code !== 0 && err.text.includes("Nothing to resume")) {
      // Killed before it had written its state: nothing had started, a plain start begins it.
      p = start(false);
      out = new LineReader(p.stdout);
      code = await p.exited;
    }
    const lost = [...seen].filter((c) => !allCommits(root).has(c));
    expect({ run, code, lost, stderr: err.text.slice(0, 2000) }).toEqual({ run, code: 0, lost: [], stderr: err.text.includes("Nothing to resume") ? err.text.slice(0, 2000) : "" });
  }
  // Everything every agent committed is in main; the checkout is clean and not mid-merge.
  const subjects = ok(root, "log", "main", "--format=%s");
  for (const t of TASKS) expect(subjects).toContain(`${t}: `);
  for (const s of ["stream-p1", "stream-p2"]) expect(git(root, "merge-base", "--is-ancestor", s, "main").code).toBe(0);
  expect(checkNotMidMerge(root)).toEqual([]);
  expect(git(root, "status", "--porcelain").out).toBe("");
  const status = Bun.spawnSync([orchBin(), "start", "--status", "--json"], { cwd: root, env, stdout: "pipe", stderr: "pipe" });
  const report = JSON.parse(status.stdout.toString());
  expect(report.run.outcome).toBe("complete");
  console.error(`crash-start run ${run}: ${KILLS_PER_RUN} kills of orch start, resumed to completion; ${TASKS.length} task commits merged${FULL ? " [full]" : ""}`);
}

/**
 * Regression: the state file used to be saved only at the end of a scheduler tick, so `orch
 * start` killed right after launching an agent left that stream "pending", and `--resume`
 * launched a second agent beside the first. The state is now saved right after each launch.
 */
test("orch start killed right after a launch: --resume adopts that agent instead of starting a second one", async () => {
  const dir = tempDir("orch-stress-dup-");
  const root = newRepo(dir);
  writeFileSync(join(root, "prd.md"), PRD);
  ok(root, "add", "prd.md");
  ok(root, "commit", "-q", "-m", "the PRD");
  const env = cleanEnv({ HOME: dir, ORCH_DB: join(dir, "tasks.db") });
  expect(Bun.spawnSync([orchBin(), "prd", "import", "prd.md"], { cwd: root, env }).exitCode).toBe(0);
  const record = join(dir, "agents.jsonl");
  const agent = `${orchBin()} agent-sim {streamId} --pause 300 --record ${record}`;
  const first = Bun.spawn([orchBin(), "start", "--launcher", "headless", "--agent-cmd", agent], { cwd: root, env, stdout: "pipe", stderr: "ignore", detached: true });
  const out = new LineReader(first.stdout);
  await out.until((l) => l.some((x) => x.startsWith("▶ Stream-F")), 30_000, "the first launch");
  kill(first.pid, true);
  await first.exited;
  const resumed = Bun.spawnSync([orchBin(), "start", "--resume", "--launcher", "headless", "--agent-cmd", agent], { cwd: root, env, stdout: "pipe", stderr: "pipe" });
  expect(resumed.exitCode).toBe(0);
  const starts = readFileSync(record, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { stream: string; event: string; pid: number })
    .filter((e) => e.stream === "Stream-F" && e.event === "start");
  expect(starts).toHaveLength(1);
}, 60_000);
