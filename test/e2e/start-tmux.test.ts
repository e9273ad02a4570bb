/** `orch start --launcher tmux` against the real tmux, and the error when tmux is missing. */
import { describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { hasTmux } from "../tmux.ts";
import { orchBin, tempDir, until } from "../helpers.ts";
import { agentsGone, imported, type Project, startInBackground, startsOf, waitForRecords } from "./start-helpers.ts";

const tmux = (...args: string[]) => Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });

/** The session of a project whose initiative is "<name> …": the guide's name plus 6 hex of the root. */
const sessionOf = (name: string, root: string) =>
  `orchestration-INIT-${name.slice(0, 3)}-${createHash("sha256").update(realpathSync(root)).digest("hex").slice(0, 6)}`;

/** A one-stream project (foundation, `tasks` tasks) and its session name. */
async function oneStream(tasks: number): Promise<{ p: Project; session: string }> {
  const name = randomBytes(3).toString("hex");
  const list = Array.from({ length: tasks }, (_, i) => `- TASK-00${i + 1}: task ${i + 1}`).join("\n");
  const p = await imported(`# Initiative: ${name} tmux\n\n## Foundation Phase\n### Stream-A: Core\n${list}\n`);
  return { p, session: sessionOf(name, p.root) };
}

/** The tmux window whose pane runs `pid`. */
function windowOf(session: string, pid: number): string {
  const line = tmux("list-windows", "-t", `=${session}`, "-F", "#{window_id} #{pane_pid}").stdout.toString().trim().split("\n").find((l) => l.endsWith(` ${pid}`));
  if (!line) throw new Error(`no window of ${session} runs pid ${pid}`);
  return line.split(" ")[0]!;
}


const cmdline = (pid: number) => (existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1) : []);

describe("orch start --launcher tmux", () => {
  test.skipIf(!hasTmux)("one session orchestration-<first 8 of the initiative id>-<6 hex of the project root>, a window per stream in its directory running the agent", async () => {
    const name = randomBytes(3).toString("hex");
    // A stream id with a dot: tmux reads "a.b" in a target as window a, pane b.
    const p = await imported(`# Initiative: ${name} tmux

## Foundation Phase
### Stream-A: Core
- TASK-001: one

## Parallel Phase
### Stream-B: API
- TASK-002: two
### UI.v2: Pages
- TASK-003: three

## Integration Phase
### Stream-D: Tests
- TASK-004: four
`);
    const session = sessionOf(name, p.root);
    expect(tmux("has-session", "-t", `=${session}`).exitCode).not.toBe(0);
    try {
      const r = await p.orch(["start", "--launcher", "tmux", "--agent-cmd", p.sim("--pause 20")]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const pids = Object.fromEntries(startsOf(p.records()).map((s) => [s.stream, s.pid]));
      expect(r.stdout).toContain(`▶ Stream-A (foundation) started: tmux window ${session}:Stream-A, pid ${pids["Stream-A"]}\n`);
      expect(r.stdout).toContain(`▶ UI.v2 (parallel) started: tmux window ${session}:UI.v2, pid ${pids["UI.v2"]}\n`);
      expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("✓ All 4 streams complete.");

      const windows = tmux("list-windows", "-t", `=${session}`, "-F", "#{window_name}|#{pane_start_path}").stdout.toString().trim().split("\n");
      const root = realpathSync(p.root);
      expect(windows).toEqual([
        `Stream-A|${root}`,
        `Stream-B|${join(root, ".claude/worktrees/Stream-B")}`,
        `UI.v2|${join(root, ".claude/worktrees/UI.v2")}`,
        `Stream-D|${root}`,
      ]);
      const recs = p.records();
      expect(startsOf(recs).map((s) => s.stream).sort()).toEqual(["Stream-A", "Stream-B", "Stream-D", "UI.v2"]);
      // The agents got their database through the window's environment.
      expect(JSON.parse((await p.orch(["stream", "list", "--json"])).stdout).streams.every((s: { status: string }) => s.status === "completed")).toBe(true);

      // Again in the same session: another window of the same name is still addressed exactly.
      expect((await p.orch(["task", "update", "TASK-004", "--status", "pending"])).code).toBe(0);
      const again = await p.orch(["start", "--stream", "Stream-D", "--launcher", "tmux", "--agent-cmd", p.sim("--pause 20")]);
      expect(again.stderr).toBe("");
      expect(again.code).toBe(0);
      expect(tmux("list-windows", "-t", `=${session}`, "-F", "#{window_name}").stdout.toString().trim().split("\n")).toEqual(["Stream-A", "Stream-B", "UI.v2", "Stream-D", "Stream-D"]);
      expect(startsOf(p.records(), "Stream-D")).toHaveLength(2);
      await agentsGone(p.records());
    } finally {
      tmux("kill-session", "-t", `=${session}`);
    }
  }, 30_000);

  test.skipIf(!hasTmux)("the pid in the state file is the agent process itself; orch killed, --resume follows that agent (no second one)", async () => {
    const { p, session } = await oneStream(2);
    const args = ["--launcher", "tmux", "--agent-cmd", p.sim("--pause 1500")];
    let bg: ReturnType<typeof startInBackground> | undefined;
    try {
      bg = startInBackground(p, args);
      const [rec] = await waitForRecords(p, (recs) => startsOf(recs).length === 1);
      const pid = await until("the agent's pid in the state file", () => existsSync(join(p.root, ".claude/orchestration/orchestration-state.json")) && p.state().streams["Stream-A"]?.pid, 15_000);
      expect(pid).toBe(rec!.pid);
      const argv = cmdline(pid);
      expect(argv[0]).toBe(realpathSync(orchBin()));
      expect(argv.slice(1, 3)).toEqual(["agent-sim", "Stream-A"]);
      expect(windowOf(session, pid)).toMatch(/^@\d+$/);
      // Its environment: orch's own directory first on PATH (orch start's PATH does not have it), the ORCH_* variables.
      const environ = Object.fromEntries(readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
      expect(process.env.PATH?.split(":")).not.toContain(dirname(argv[0]!));
      expect(environ.PATH!.split(":")[0]).toBe(dirname(argv[0]!));
      expect(environ).toMatchObject({ ORCH_STREAM_ID: "Stream-A", ORCH_DB: p.dbLocation });

      bg.proc.kill("SIGKILL");
      expect((await bg.result()).code).toBe(137);
      const r = await p.orch(["start", "--resume", ...args]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`↺ Stream-A: its agent is still running (pid ${pid}); following it\n`);
      expect(startsOf(p.records())).toHaveLength(1);
      await agentsGone(p.records());
    } finally {
      bg?.proc.kill("SIGKILL");
      tmux("kill-session", "-t", `=${session}`);
    }
  }, 30_000);

  test.skipIf(!hasTmux)("an agent that exits early in its window: its exit code read from tmux, restarted up to --restart-limit, then the stream fails", async () => {
    const { p, session } = await oneStream(3);
    try {
      const r = await p.orch(["start", "--launcher", "tmux", "--restart-limit", "1", "--agent-cmd", p.sim("--pause 20 --stop-after 1")]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("↻ Stream-A: agent exited (code 3) with 2 task(s) left; restarting (1/1)\n");
      expect(r.stdout).toContain("✖ Stream-A failed: its agent exited 2 time(s) with the stream unfinished (restart limit 1)\n");
      expect(startsOf(p.records())).toHaveLength(2);
      expect(p.state().streams["Stream-A"]).toMatchObject({ status: "failed", launches: 2, restarts: 1, lastExitCode: 3 });
      // Each agent's window stays (remain-on-exit), for a person to read.
      expect(tmux("list-windows", "-t", `=${session}`, "-F", "#{window_name} #{pane_dead}").stdout.toString().trim().split("\n")).toEqual(["Stream-A 1", "Stream-A 1"]);
    } finally {
      tmux("kill-session", "-t", `=${session}`);
    }
  }, 30_000);

  test.skipIf(!hasTmux)("the agent's window killed while it works: orch notices within seconds and restarts it, up to --restart-limit, then fails the stream", async () => {
    const { p, session } = await oneStream(2);
    let bg: ReturnType<typeof startInBackground> | undefined;
    try {
      bg = startInBackground(p, ["--launcher", "tmux", "--restart-limit", "1", "--agent-cmd", p.sim("--pause 60000")]);
      const [first] = await waitForRecords(p, (recs) => startsOf(recs).length === 1);
      let t0 = performance.now();
      expect(tmux("kill-window", "-t", windowOf(session, first!.pid)).exitCode).toBe(0);
      const second = (await waitForRecords(p, (recs) => startsOf(recs).length === 2)).filter((r) => r.event === "start")[1]!;
      // Noticed within about 2 s (one poll a second), plus the new agent's start.
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(second.pid).not.toBe(first!.pid);
      expect(p.state().streams["Stream-A"]).toMatchObject({ status: "running", pid: second.pid, restarts: 1, launches: 2 });

      t0 = performance.now();
      expect(tmux("kill-window", "-t", windowOf(session, second.pid)).exitCode).toBe(0);
      const r = await Promise.race([bg.result(), Bun.sleep(15_000).then(() => null)]);
      if (!r) throw new Error("orch start did not end after the second window was killed");
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("↻ Stream-A: agent exited (code ?) with 2 task(s) left; restarting (1/1)\n");
      expect(r.stdout).toContain(`▶ Stream-A (foundation) started again (restart 1 of 1): tmux window ${session}:Stream-A, pid ${second.pid}\n`);
      expect(r.stdout).toContain("✖ Stream-A failed: its agent exited 2 time(s) with the stream unfinished (restart limit 1)\n");
      expect(startsOf(p.records())).toHaveLength(2);
      expect(p.state().streams["Stream-A"]).toMatchObject({ status: "failed", launches: 2, restarts: 1, lastExitCode: null });
      await agentsGone(p.records());
    } finally {
      bg?.proc.kill("SIGKILL");
      tmux("kill-session", "-t", `=${session}`);
    }
  }, 30_000);

  test("tmux missing from PATH: one clear line, exit 1, nothing launched", async () => {
    const p = await imported("# Initiative: No Tmux\n\n## Foundation Phase\n### Stream-A: Core\n- TASK-001: one\n");
    const bin = tempDir();
    symlinkSync(Bun.which("git")!, join(bin, "git"));
    const r = await p.orch(["start", "--launcher", "tmux", "--agent-cmd", p.sim()], { PATH: bin });
    expect(r).toEqual({ code: 1, stdout: "", stderr: "orch: tmux is not installed (e.g. apt-get install tmux), or choose --launcher headless|manual\n" });
    expect(p.records()).toEqual([]);
  });
});
