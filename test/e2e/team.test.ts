/**
 * orch for a team: several "machines" — separate clones, processes and ORCH_MACHINE names — on one
 * shared database, from the compiled binary with the simulated agent. A stream one machine works
 * is left alone by the others; a machine that dies loses its claim when the lease runs out, and
 * another takes the stream over with no two agents on it at any moment.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sh } from "../git/repo-helpers.ts";
import { runOrch, tempDir } from "../helpers.ts";
import { alive, follow, machine, PRD_GUIDE, setup, startInBackground, startsOf, waitForRecords, type Rec } from "./start-helpers.ts";

const PRD_FOUNDATION = `# Initiative: Team Demo

## Foundation Phase
### Stream-A: Core
- TASK-001: schema
- TASK-002: models
- TASK-003: services
- TASK-004: config
`;


/** The team's config: work travels through `origin`. */
function teamConfig(root: string, team: Record<string, unknown>): void {
  mkdirSync(join(root, ".claude/orchestration"), { recursive: true });
  writeFileSync(join(root, ".claude/orchestration/orchestration-config.json"), JSON.stringify({ team }));
}



describe("several machines on one database", () => {
  test("a machine leaves a claimed stream to its holder; when the holder dies, another takes it over after the lease, never two agents at once", async () => {
    const p = await setup(PRD_FOUNDATION);
    const laptop = { ...p, env: { ...p.env, ORCH_MACHINE: "laptop" } };
    const runner = machine(p, "ci-runner");
    const lease = { ORCH_LEASE_SECONDS: "3" };
    const args = ["--launcher", "headless", "--agent-cmd", p.sim("--pause 400")];

    const a = startInBackground(laptop, args, lease);
    const aOut = follow(a.stdout);
    const [first] = startsOf(await waitForRecords(p, (recs) => startsOf(recs).length === 1));
    await aOut.until((t) => t.includes("Stream-A"));

    const b = startInBackground(runner, args, lease);
    const bOut = follow(b.stdout);
    await bOut.until((t) => t.includes("… Stream-A is being worked on laptop"));
    expect(bOut.text()).toContain(`… Stream-A is being worked on laptop (pid ${a.proc.pid}); leaving it to that machine`);
    // A person on the runner typing /continue Stream-A is told the same, and nothing is started.
    const cont = await runOrch(["continue", "Stream-A"], { cwd: runner.root, env: runner.env });
    expect([cont.code, cont.stdout]).toEqual([1, ""]);
    expect(cont.stderr).toStartWith(`orch: Stream-A is being worked on laptop (pid ${a.proc.pid}, orch start) until `);
    expect(cont.stderr).toEndWith(": continuing here would put a second agent on it (orch stream claims; --force to take it over)\n");
    // The laptop dies: its orch and its agent with it.
    a.proc.kill("SIGKILL");
    process.kill(first!.pid, "SIGKILL");
    const diedAt = Date.now();
    while (alive(first!.pid)) await Bun.sleep(10);

    const r = await b.result();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`↻ Stream-A: laptop (pid ${a.proc.pid}) stopped renewing its claim; taking the stream over`);
    const starts = startsOf(p.records());
    expect(starts).toHaveLength(2);
    const second = starts[1]!;
    expect(second.pid).not.toBe(first!.pid);
    // Not before the lease (3 s from the laptop's last heartbeat, which came at most 1 s before it died) ran out.
    expect(second.t).toBeGreaterThanOrEqual(diedAt + 1000);
    // The runner's agent did the tasks the laptop's had not.
    const done = p.records().filter((x: Rec) => x.event === "task");
    expect(new Set(done.map((x) => x.task))).toEqual(new Set(["TASK-001", "TASK-002", "TASK-003", "TASK-004"]));
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("✓ All 1 streams complete.");
    // Its claim given up at the end.
    const claims = await runner.orch(["stream", "claims", "--json"]);
    expect(JSON.parse(claims.stdout)).toEqual({ claims: [] });
  }, 60_000);

  test("a whole initiative over two machines and a bare remote: each stream started once, its work pushed, merged where the merge runs, every commit on the remote's main, both runs complete", async () => {
    const p = await setup(PRD_GUIDE);
    const bare = join(tempDir("orch-remote-"), "team.git");
    sh(join(bare, ".."), "clone", "-q", "--bare", p.root, bare);
    sh(p.root, "remote", "add", "origin", bare);
    sh(p.root, "fetch", "-q", "origin");
    sh(p.root, "branch", "-q", "--set-upstream-to", "origin/main");
    const laptop = { ...p, env: { ...p.env, ORCH_MACHINE: "laptop" } };
    const runner = machine(p, "ci-runner", bare);
    for (const m of [laptop, runner]) teamConfig(m.root, { remote: "origin", leaseSeconds: 6 });
    const args = (n: number) => ["--launcher", "headless", "--max-parallel", String(n), "--agent-cmd", p.sim("--pause 150")];

    // The laptop takes one stream at a time: once it has one parallel stream, the other is the runner's.
    const a = startInBackground(laptop, args(1));
    await waitForRecords(p, (recs) => startsOf(recs).length === 1);
    const b = startInBackground(runner, args(2));
    const [ra, rb] = await Promise.all([a.result(), b.result()]);
    for (const r of [ra, rb]) {
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("✓ All 4 streams complete.");
    }
    const recs = p.records();
    for (const id of ["Stream-A", "Stream-B", "Stream-C", "Stream-D"]) expect(startsOf(recs, id)).toHaveLength(1);
    // Every task's commit is on the remote's main, and both machines' main is the remote's.
    const remoteMain = sh(bare, "rev-parse", "main").trim();
    const subjects = sh(bare, "log", "--format=%s", "main");
    for (const t of ["TASK-001", "TASK-002", "TASK-003", "TASK-004", "TASK-005"]) expect(subjects).toContain(t);
    // Each parallel branch grew from a main that had the foundation's work, whichever machine ran it.
    for (const b of ["stream-b", "stream-c"]) expect(sh(bare, "log", "--format=%s", b)).toContain("TASK-002");
    expect(sh(laptop.root, "rev-parse", "main").trim()).toBe(remoteMain);
    expect(sh(runner.root, "rev-parse", "main").trim()).toBe(remoteMain);
    // Spread over both machines.
    const started = (out: string) => out.split("\n").filter((l) => /^▶ Stream-. \(\w+\) started/.test(l)).length;
    expect(started(ra.stdout)).toBeGreaterThanOrEqual(1);
    expect(started(rb.stdout)).toBeGreaterThanOrEqual(1);
    expect(started(ra.stdout) + started(rb.stdout)).toBe(4);
    if (process.env.TEAM_DEBUG) console.log(`--- laptop\n${ra.stdout}\n--- runner\n${rb.stdout}`);
    // What each machine said it pushed and took in.
    const said = `${ra.stdout}\n${rb.stdout}`;
    expect(said).toContain("⇡ Stream-A: pushed main to origin");
    expect(said).toContain("⇡ Stream-D: pushed main to origin");
    expect(said).toMatch(/⇣ Stream-A: done on another machine; its work is here from origin/);
  }, 90_000);

  test("orch stream conflicts predicts from the remote's branches too: another machine's stream is compared with this one's", async () => {
    const p = await setup(PRD_GUIDE);
    const bare = join(tempDir("orch-remote-"), "team.git");
    sh(join(bare, ".."), "clone", "-q", "--bare", p.root, bare);
    sh(p.root, "remote", "add", "origin", bare);
    // The laptop's Stream-B, pushed; the runner's Stream-C, only on the runner: both rewrite src/shared.ts.
    sh(p.root, "switch", "-q", "-c", "stream-b");
    writeFileSync(join(p.root, "src/shared.ts"), "export const a = 10;\n");
    sh(p.root, "commit", "-q", "-am", "B");
    sh(p.root, "push", "-q", "origin", "stream-b");
    sh(p.root, "switch", "-q", "main");
    const runner = machine(p, "ci-runner", bare);
    sh(runner.root, "config", "user.email", "ci@example.com");
    sh(runner.root, "config", "user.name", "CI");
    sh(runner.root, "switch", "-q", "-c", "stream-c");
    writeFileSync(join(runner.root, "src/shared.ts"), "export const a = 20;\n");
    sh(runner.root, "commit", "-q", "-am", "C");
    sh(runner.root, "switch", "-q", "main");
    const ask = async (extra: Record<string, string>) => {
      const r = await runOrch(["stream", "conflicts", "--json"], { cwd: runner.root, env: { ...runner.env, ...extra } });
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as { pairs: { streams: string[]; conflictingFiles: string[] }[] };
    };
    const pairBC = (r: Awaited<ReturnType<typeof ask>>) => r.pairs.find((x) => x.streams.join() === "Stream-B,Stream-C")!;
    expect(pairBC(await ask({})).conflictingFiles).toEqual([]);
    expect(pairBC(await ask({ ORCH_REMOTE: "origin" })).conflictingFiles).toEqual(["src/shared.ts"]);
    // A team remote the repository does not have: one line, nothing started.
    const bad = await runOrch(["start", "--launcher", "headless", "--agent-cmd", p.sim()], { cwd: runner.root, env: { ...runner.env, ORCH_REMOTE: "nowhere" } });
    expect([bad.code, bad.stdout]).toEqual([2, ""]);
    expect(bad.stderr).toBe("orch: the team's remote nowhere (team.remote / ORCH_REMOTE) is not a remote of this repository (git remote add nowhere URL)\n");
  }, 60_000);

  test("a machine dies mid-stream: its agents' commits were pushed as they came, and the machine that takes over goes on from them — no commit lost", async () => {
    const prd = `# Initiative: Hand-over\n\n## Foundation Phase\n### Stream-A: Core\n- TASK-001: schema\n\n## Parallel Phase\n### Stream-B: API\n${[2, 3, 4, 5, 6, 7].map((n) => `- TASK-00${n}: part ${n}`).join("\n")}\n`;
    const p = await setup(prd);
    const bare = join(tempDir("orch-remote-"), "team.git");
    sh(join(bare, ".."), "clone", "-q", "--bare", p.root, bare);
    sh(p.root, "remote", "add", "origin", bare);
    sh(p.root, "fetch", "-q", "origin");
    const laptop = { ...p, env: { ...p.env, ORCH_MACHINE: "laptop", ORCH_REMOTE: "origin", ORCH_LEASE_SECONDS: "3" } };
    const runner = { ...machine(p, "ci-runner", bare), env: { ...p.env, ORCH_MACHINE: "ci-runner", ORCH_REMOTE: "origin", ORCH_LEASE_SECONDS: "3" } };
    sh(runner.root, "config", "user.email", "ci@example.com");
    sh(runner.root, "config", "user.name", "CI");
    const foundation = await startInBackground(laptop, ["--stream", "Stream-A", "--launcher", "headless", "--agent-cmd", p.sim("--pause 20")]).result();
    expect(foundation.code).toBe(0);
    const slow = ["--stream", "Stream-B", "--launcher", "headless", "--agent-cmd", p.sim("--pause 700")];
    const a = startInBackground(laptop, slow);
    // Two of Stream-B's commits on the remote, then the laptop dies with its agent.
    const onRemote = () => {
      try {
        return sh(bare, "log", "--format=%s", "stream-b");
      } catch {
        return "";
      }
    };
    const t0 = Date.now();
    while (!(onRemote().includes("TASK-002") && onRemote().includes("TASK-003"))) {
      if (Date.now() - t0 > 30_000) throw new Error("the laptop's commits never reached the remote");
      await Bun.sleep(50);
    }
    const pushed = onRemote();
    a.proc.kill("SIGKILL");
    const agent = startsOf(p.records(), "Stream-B")[0]!;
    try {
      process.kill(-agent.pid, "SIGKILL");
    } catch {
      process.kill(agent.pid, "SIGKILL");
    }
    const r = await startInBackground(runner, slow.map((x) => x.replace("--pause 700", "--pause 20"))).result();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("↻ Stream-B: going on from the work pushed to origin");
    // Everything the laptop pushed is in what the runner pushed, and every task's commit is there.
    const final = sh(bare, "log", "--format=%s", "stream-b");
    for (const line of pushed.split("\n").filter(Boolean)) expect(final).toContain(line);
    for (const t of ["TASK-002", "TASK-003", "TASK-004", "TASK-005", "TASK-006", "TASK-007"]) expect(final).toContain(t);
  }, 90_000);
});

