/**
 * Claims with leases (core/claims.ts, orchestrate/claim-step.ts), adversarially: several
 * "machines" — clones of one repository, ORCH_MACHINE names, one shared database — started at
 * the same instant, killed -9 at odd moments, stopped (SIGSTOP) past their lease and continued,
 * stopped with Ctrl-C, cut off from PostgreSQL; agents that are wrapper scripts or ignore SIGTERM;
 * a heartbeat whose renewal hangs; hostile ORCH_MACHINE / ORCH_LEASE_SECONDS / heartbeat values.
 * The promise judged throughout: a stream never has two agents at work at once.
 *
 * Promises that hold are ordinary tests (regression guards). Each defect found is one
 * `test.failing` named "DEFECT: …" (it fails now; bun reports it as passing while it does, and as
 * a failure once the defect is fixed — then drop `.failing`). Random choices come from `seeded`.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { claimStream } from "../../src/core/claims.ts";
import type { Store } from "../../src/db/client.ts";
import { claimStep } from "../../src/orchestrate/claim-step.ts";
import { sh, tempRepo } from "../git/repo-helpers.ts";
import { cleanEnv, orchBin, runOrch, tempDir, tempStore } from "../helpers.ts";
import { freePort } from "../net.ts";
import { freshDatabase, pgDescribe } from "../pg.ts";
import { alive, follow, machine, maxConcurrency, readRecords, setup, startInBackground, startsOf, waitForRecords, type Project, type Rec } from "../e2e/start-helpers.ts";
import { seeded } from "./harness/prng.ts";

const prd = (tasks: number, phase = "Foundation", streams = ["Stream-A"]) =>
  `# Initiative: Team Hostile\n\n## ${phase} Phase\n` +
  streams
    .map((s, k) => `### ${s}: Part ${k}\n${Array.from({ length: tasks }, (_, i) => `- TASK-${s.slice(-1)}${String(i + 1).padStart(2, "0")}: step ${i + 1}`).join("\n")}\n`)
    .join("\n");



/** Every process a test started, killed at its end whatever happened (agents are detached). */
const leftovers: (() => number[])[] = [];
afterEach(() => {
  for (const pids of leftovers.splice(0))
    for (const pid of pids())
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
});
const reap = (p: Project, ...procs: { pid: number }[]) => leftovers.push(() => [...procs.map((x) => x.pid), ...startsOf(p.records()).map((r) => r.pid)]);

/** An agent command: a shell script (written for the test) around the simulated agent. */
function script(p: Project, body: (sim: string) => string): string {
  const file = join(tempDir(), "agent.sh");
  const sim = `"${orchBin()}" agent-sim "$ORCH_STREAM_ID" --pause 1500 --record "${p.recordFile}"`;
  writeFileSync(file, `#!/bin/sh\n${body(sim)}\n`);
  chmodSync(file, 0o755);
  return file;
}

const LEASE = { ORCH_LEASE_SECONDS: "3" };

/**
 * The laptop runs Stream-A with `agentCmd`; the CI runner waits beside it. The laptop's orch is
 * stopped (SIGSTOP) until the runner has taken the stream over, then continued: it must find its
 * claim lost and stop its agent. Answers when the laptop said so, and whether its agent was still
 * alive (and still working) 5 s later.
 */
async function stoppedPastLease(agentCmd: (p: Project) => string) {
  const p = await setup(prd(20));
  const laptop = { ...p, env: { ...p.env, ORCH_MACHINE: "laptop" } };
  const runner = machine(p, "ci-runner");
  const args = (q: Project) => ["--launcher", "headless", "--agent-cmd", agentCmd(q)];
  const a = startInBackground(laptop, args(p), LEASE);
  const aOut = follow(a.stdout);
  reap(p, a.proc);
  const [first] = startsOf(await waitForRecords(p, (r) => startsOf(r).length === 1, 30_000));
  const b = startInBackground(runner, args(p), LEASE);
  const bOut = follow(b.stdout);
  reap(p, b.proc);
  await bOut.until((t) => t.includes("Stream-A is being worked on laptop"));
  a.proc.kill("SIGSTOP");
  await waitForRecords(p, (r) => startsOf(r).length === 2, 30_000);
  a.proc.kill("SIGCONT");
  const saidAt = await aOut.until((t) => t.includes("this machine's claim ran out"), 15_000);
  const deadline = saidAt + 5000;
  while (alive(first!.pid) && Date.now() < deadline) await Bun.sleep(20);
  const stillAlive = alive(first!.pid);
  const lateTasks = p.records().filter((r) => r.pid === first!.pid && r.event === "task" && r.t > saidAt + 1000).length;
  return { p, first: first!, stillAlive, lateTasks, laptopSaid: aOut.text() };
}

describe("claims: a machine that loses its claim stops its agent", () => {
  test("SIGSTOP past the lease, then SIGCONT: the laptop finds its claim taken over and stops its agent at once", async () => {
    const r = await stoppedPastLease((p) => p.sim("--pause 1500"));
    expect(r.laptopSaid).toContain(`✖ Stream-A: this machine's claim ran out and another machine has the stream now; its agent here (pid ${r.first.pid}) is stopped`);
    expect(r.stillAlive).toBe(false);
    expect(r.lateTasks).toBe(0);
  }, 90_000);

  test("fixed (was: an agent command that is a wrapper script (sh around the agent) keeps working after its machine lost the claim: only the wrapper's pid gets SIGTERM, not its process group)", async () => {
    // A wrapper is how agents are often launched (env setup, logging): the shell waits for its child.
    const r = await stoppedPastLease((p) => script(p, (sim) => `${sim}\necho finished`));
    // orch says its agent is stopped…
    expect(r.laptopSaid).toContain("this machine's claim ran out");
    // …but the agent under the wrapper goes on beside the runner's.
    expect({ stillAlive: r.stillAlive, lateTasks: r.lateTasks }).toEqual({ stillAlive: false, lateTasks: 0 });
  }, 90_000);

  test("fixed (was: an agent that ignores SIGTERM keeps working after its machine lost the claim: no SIGKILL follows (the tmux launcher escalates; this path does not))", async () => {
    const r = await stoppedPastLease((p) => script(p, (sim) => `trap '' TERM\nexec ${sim}`));
    expect(r.laptopSaid).toContain("this machine's claim ran out");
    expect({ stillAlive: r.stillAlive, lateTasks: r.lateTasks }).toEqual({ stillAlive: false, lateTasks: 0 });
  }, 90_000);

  test("fixed (was: Ctrl-C on one machine leaves its agent running (as documented, for --resume) with a claim nobody renews: once the lease runs out another machine takes the stream over beside it; now a keeper process renews the claim while the agent lives)", async () => {
    const p = await setup(prd(20));
    const laptop = { ...p, env: { ...p.env, ORCH_MACHINE: "laptop" } };
    const runner = machine(p, "ci-runner");
    const args = ["--launcher", "headless", "--agent-cmd", p.sim("--pause 1500")];
    const a = startInBackground(laptop, args, LEASE);
    reap(p, a.proc);
    const [first] = startsOf(await waitForRecords(p, (r) => startsOf(r).length === 1, 30_000));
    const b = startInBackground(runner, args, LEASE);
    const bOut = follow(b.stdout);
    reap(p, b.proc);
    await bOut.until((t) => t.includes("Stream-A is being worked on laptop"));
    a.proc.kill("SIGINT");
    const ra = await a.result();
    expect(ra.code).toBe(0);
    expect(ra.stdout).toContain(`Still running: Stream-A (pid ${first!.pid}) — orch start --resume follows them again.`);
    // The runner may take the stream only once nobody works it; it takes it once the lease ran out.
    const recs = await waitForRecords(p, (r) => startsOf(r).length === 2, 20_000).catch(() => p.records());
    const second = startsOf(recs)[1];
    if (second) await Bun.sleep(3000);
    const timeline = p.records();
    expect({ laptopAgentAliveAtTakeover: second ? recs.some((x: Rec) => x.pid === first!.pid && x.t >= second.t) || alive(first!.pid) : false, most: maxConcurrency(timeline) }).toEqual({ laptopAgentAliveAtTakeover: false, most: 1 });
  }, 90_000);
});

describe("claims: the heartbeat when the database does not answer", () => {
  /** A store whose transactions, once `cut`, either never settle or fail at once. */
  function cuttable(store: Store, how: "hang" | "fail") {
    const state = { cut: false };
    const proxy = new Proxy(store, {
      get(t, k) {
        if (k === "tx") return (fn: never) => (state.cut ? (how === "hang" ? new Promise(() => {}) : Promise.reject(new Error("connection refused"))) : t.tx(fn));
        const v = (t as unknown as Record<string | symbol, unknown>)[k];
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    }) as Store;
    return { store: proxy, state };
  }

  async function cutOff(how: "hang" | "fail") {
    const real = await tempStore();
    const { store, state } = cuttable(real, how);
    const team = { leaseMs: 1500, heartbeatMs: 500 };
    const stopped: number[] = [];
    const step = claimStep(store, { team, machine: "laptop", note: () => {}, stopAgent: () => (stopped.push(Date.now()), { pid: null, worktree: null }) });
    expect(await step.claim("Stream-A")).toBe(true);
    step.start();
    await Bun.sleep(700);
    state.cut = true;
    const cutAt = Date.now();
    // Past the lease (1.5 s from the last renewal, at most 0.5 s before the cut), another machine takes it over.
    await Bun.sleep(team.leaseMs + 300);
    const other = await claimStream(real, "Stream-A", { machine: "ci-runner", pid: 1, holder: "other", purpose: "start" }, 60_000);
    await Bun.sleep(1500);
    state.cut = false;
    return { cutAt, stopped, tookOver: other.ok && other.tookOver !== null, leaseMs: team.leaseMs };
  }

  test("a renewal that fails stops the agent before the lease can run out", async () => {
    const r = await cutOff("fail");
    expect(r.tookOver).toBe(true);
    expect(r.stopped).toHaveLength(1);
    expect(r.stopped[0]! - r.cutAt).toBeLessThan(r.leaseMs);
  }, 30_000);

  test("fixed (was: a renewal that hangs (PostgreSQL retries a lost connection for 60 s) never stops the agent: the skipped beats reset the 'last renewed' clock, and the cut-off check runs only once the renewal fails)", async () => {
    const r = await cutOff("hang");
    expect(r.tookOver).toBe(true);
    expect(r.stopped).toHaveLength(1);
    expect(r.stopped[0]! - r.cutAt).toBeLessThan(r.leaseMs);
  }, 30_000);
});

/** A TCP forwarder to PostgreSQL that can be cut: open connections dropped, new ones refused. */
function cuttableProxy(target: number) {
  const port = freePort();
  const socks = new Set<{ end(): void }>();
  type Up = { write(d: Uint8Array): number; end(): void };
  const listen = () =>
    Bun.listen<{ up?: Up; queue: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          client.data = { queue: [] };
          socks.add(client);
          void Bun.connect({
            hostname: "127.0.0.1",
            port: target,
            socket: {
              data(_up, d) {
                client.write(d);
              },
              close() {
                client.end();
              },
            },
          }).then((up) => {
            socks.add(up);
            client.data.up = up;
            for (const q of client.data.queue) up.write(q);
          });
        },
        data(client, d) {
          if (client.data.up) client.data.up.write(d);
          else client.data.queue.push(new Uint8Array(d));
        },
        close(client) {
          client.data.up?.end();
        },
      },
    });
  let server = listen();
  return {
    port,
    cut() {
      server.stop(true);
      for (const s of socks) s.end();
      socks.clear();
    },
    /** The network back: the same port answers again. */
    restore() {
      server = listen();
    },
  };
}

pgDescribe("claims on PostgreSQL: a machine cut off from the database", () => {
  test("fixed (was: a machine whose connection to PostgreSQL is cut keeps its agent running past its lease, beside the agent of the machine that took the stream over)", async () => {
    const db = await freshDatabase("team_partition");
    const u = new URL(db.url);
    const px = cuttableProxy(Number(u.port));
    u.port = String(px.port);
    const viaProxy = u.toString();
    const root = tempRepo();
    const dir = tempDir();
    const record = join(dir, "timeline.jsonl");
    writeFileSync(join(dir, "PRD.md"), prd(30));
    expect((await runOrch(["prd", "import", join(dir, "PRD.md")], { env: { ORCH_DB: db.url }, cwd: root })).code).toBe(0);
    const clone = join(tempDir(), "clone");
    sh(join(clone, ".."), "clone", "-q", root, clone);
    // The agents reach the database directly: it is the laptop's orch whose connection goes.
    const sim = `"${orchBin()}" agent-sim {streamId} --pause 1000 --db "${db.url}" --record "${record}"`;
    const start = (cwd: string, url: string, name: string) =>
      Bun.spawn([orchBin(), "start", "--launcher", "headless", "--agent-cmd", sim], {
        cwd,
        env: cleanEnv({ ORCH_DB: url, ORCH_MACHINE: name, ...LEASE }),
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
    const a = start(root, viaProxy, "laptop");
    const recs = () => readRecords(record);
    leftovers.push(() => [a.pid, ...startsOf(recs()).map((r) => r.pid)]);
    const until = async (pred: () => boolean, ms: number) => {
      const t0 = Date.now();
      while (!pred() && Date.now() - t0 < ms) await Bun.sleep(20);
    };
    await until(() => startsOf(recs()).length === 1, 30_000);
    const [first] = startsOf(recs());
    expect(first).toBeDefined();
    const b = start(clone, db.url, "ci-runner");
    leftovers.push(() => [b.pid]);
    const bOut = follow(b.stdout);
    await bOut.until((t) => t.includes("Stream-A is being worked on laptop"), 30_000);
    px.cut();
    await until(() => startsOf(recs()).length === 2, 20_000);
    const second = startsOf(recs())[1];
    expect(second).toBeDefined();
    await Bun.sleep(3000);
    const timeline = recs();
    expect({ laptopAgentAliveAtTakeover: timeline.some((x) => x.pid === first!.pid && x.event === "task" && x.t > second!.t) || alive(first!.pid), most: maxConcurrency(timeline) }).toEqual({
      laptopAgentAliveAtTakeover: false,
      most: 1,
    });
    // The network comes back: the laptop catches up — it leaves the stream to the runner, and
    // says what its stopped agent left where, if anything — and both runs end; no third agent.
    px.restore();
    const [codeA, codeB] = await Promise.all([a.exited, b.exited]);
    const outA = await new Response(a.stdout).text();
    expect(outA).toContain("✖ Stream-A: this machine's claim ran out and another machine has the stream now");
    expect(codeB).toBe(0);
    expect(codeA === 0 ? outA.trimEnd().split("\n").at(-1) : outA).toMatch(codeA === 0 ? /All 1 streams complete/ : /its agent ended leaving uncommitted changes|Run ended/);
    expect(startsOf(recs())).toHaveLength(2);
  }, 120_000);
});

describe("claims: races and deaths", () => {
  test("two machines started at the same instant on one database: every stream gets one agent at a time, and all the work is done", async () => {
    await seeded("simultaneous starts", async (rnd) => {
      for (let round = 0; round < 2; round++) {
        const streams = ["Stream-B", "Stream-C", "Stream-D"];
        const p = await setup(`${prd(1)}\n${prd(2, "Parallel", streams).split("\n").slice(2).join("\n")}`);
        const laptop = { ...p, env: { ...p.env, ORCH_MACHINE: "laptop" } };
        const runner = machine(p, "ci-runner");
        const args = ["--launcher", "headless", "--agent-cmd", p.sim(`--pause ${rnd.range(50, 300)}`)];
        const jitter = rnd.range(0, 40);
        const a = startInBackground(laptop, args, LEASE);
        reap(p, a.proc);
        if (jitter) await Bun.sleep(jitter);
        const b = startInBackground(runner, args, LEASE);
        reap(p, b.proc);
        const [ra, rb] = await Promise.all([a.result(), b.result()]);
        expect(ra.stderr + rb.stderr).toBe("");
        const recs = p.records();
        for (const s of ["Stream-A", ...streams]) {
          expect(startsOf(recs, s).length).toBeGreaterThanOrEqual(1);
          expect(maxConcurrency(recs.filter((r) => r.stream === s))).toBe(1);
        }
        const done = new Set(recs.filter((r) => r.event === "task").map((r) => r.task));
        expect(done.size).toBe(7);
        expect(JSON.parse((await runner.orch(["stream", "claims", "--json"])).stdout)).toEqual({ claims: [] });
      }
    });
  }, 180_000);

  test("a machine killed -9 (its orch and its agent) at a random moment of its start: the next one takes the stream only once the lease ran out, finishes, and no two agents overlap", async () => {
    await seeded("kill -9 at random", async (rnd) => {
      for (let round = 0; round < 3; round++) {
        const p = await setup(prd(4));
        const laptop = { ...p, env: { ...p.env, ORCH_MACHINE: "laptop" } };
        const runner = machine(p, "ci-runner");
        const args = ["--launcher", "headless", "--agent-cmd", p.sim("--pause 300")];
        const a = startInBackground(laptop, args, LEASE);
        reap(p, a.proc);
        // Anywhere from before its claim to after its agent started.
        await Bun.sleep(rnd.range(0, 1200));
        a.proc.kill("SIGKILL");
        await a.proc.exited;
        // Its agent, if it got that far, dies with the machine.
        for (const s of startsOf(p.records()))
          try {
            process.kill(s.pid, "SIGKILL");
          } catch {
            // gone
          }
        const before = startsOf(p.records()).length;
        const left: { expiresAt: string; live: boolean }[] = JSON.parse((await runner.orch(["stream", "claims", "--json"])).stdout).claims;
        const b = startInBackground(runner, args, LEASE);
        reap(p, b.proc);
        const rb = await b.result();
        expect(rb.stderr).toBe("");
        expect(rb.code).toBe(0);
        const recs = p.records();
        expect(new Set(recs.filter((r) => r.event === "task").map((r) => r.task)).size).toBe(4);
        expect(maxConcurrency(recs)).toBe(1);
        const taken = startsOf(recs)[before];
        // A claim the laptop left is waited out (times are the database's: this same machine's clock here).
        // (When the laptop's agent had done every task before it died, nothing is left to take over.)
        if (taken && left.length && left[0]!.live) {
          expect(rb.stdout).toContain("Stream-A: laptop");
          expect(taken.t).toBeGreaterThanOrEqual(Date.parse(left[0]!.expiresAt) - 50);
        }
        expect(JSON.parse((await runner.orch(["stream", "claims", "--json"])).stdout)).toEqual({ claims: [] });
      }
    });
  }, 180_000);
});

describe("claims: hostile settings", () => {
  test("ORCH_MACHINE and ORCH_LEASE_SECONDS that cannot be used are refused before anything is claimed, in one clean line", async () => {
    const p = await setup(prd(1));
    const bad: Record<string, string>[] = [
      { ORCH_MACHINE: "\u001b]0;pwned\u0007" },
      { ORCH_MACHINE: "a".repeat(10_000) },
      { ORCH_MACHINE: "two words" },
      { ORCH_MACHINE: "ünï" },
      { ORCH_LEASE_SECONDS: "0" },
      { ORCH_LEASE_SECONDS: "-1" },
      { ORCH_LEASE_SECONDS: "1" },
      { ORCH_LEASE_SECONDS: "abc" },
      { ORCH_LEASE_SECONDS: "2.5" },
      { ORCH_LEASE_SECONDS: "86401" },
      { ORCH_LEASE_SECONDS: "1e309" },
    ];
    for (const env of bad) {
      const r = await p.orch(["start", "--launcher", "headless", "--agent-cmd", p.sim()], env);
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^orch: invalid environment: ORCH_(MACHINE|LEASE_SECONDS): /);
      expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    }
    expect(startsOf(p.records())).toHaveLength(0);
    expect(JSON.parse((await p.orch(["stream", "claims", "--json"])).stdout)).toEqual({ claims: [] });
  }, 120_000);

  test("a heartbeat no shorter than the lease is refused; odd but valid machine names ('/', '..', 64 characters) are shown as they are", async () => {
    const p = await setup(prd(1));
    mkdirSync(join(p.root, ".claude/orchestration"), { recursive: true });
    writeFileSync(join(p.root, ".claude/orchestration/orchestration-config.json"), JSON.stringify({ team: { heartbeatSeconds: 5 } }));
    const r = await p.orch(["start", "--launcher", "headless", "--agent-cmd", p.sim()], { ORCH_LEASE_SECONDS: "5" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("team.heartbeatSeconds (5) must be shorter than the lease (5 s)");
    expect(startsOf(p.records())).toHaveLength(0);
    writeFileSync(join(p.root, ".claude/orchestration/orchestration-config.json"), "{}");
    const run = startInBackground({ ...p, env: { ...p.env, ORCH_MACHINE: "a/../../b" } }, ["--launcher", "headless", "--agent-cmd", p.sim("--pause 1500")], LEASE);
    reap(p, run.proc);
    let shown: { machine: string; live: boolean }[] = [];
    for (let i = 0; i < 200 && shown.length === 0; i++) {
      shown = JSON.parse((await p.orch(["stream", "claims", "--json"])).stdout).claims;
      if (!shown.length) await Bun.sleep(50);
    }
    expect(shown).toMatchObject([{ streamId: "Stream-A", machine: "a/../../b", live: true }]);
    expect((await p.orch(["stream", "claims"])).stdout).toContain("a/../../b");
    expect((await run.result()).code).toBe(0);
    for (const name of ["/", "..", "M".repeat(64)]) {
      const ok = await p.orch(["start", "--launcher", "headless", "--agent-cmd", p.sim("--pause 10")], { ORCH_MACHINE: name, ...LEASE });
      expect(ok.code).toBe(0);
      expect(ok.stderr).toBe("");
    }
    expect(JSON.parse((await p.orch(["stream", "claims", "--json"])).stdout)).toEqual({ claims: [] });
  }, 120_000);
});
