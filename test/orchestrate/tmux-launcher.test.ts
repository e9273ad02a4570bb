/**
 * The tmux launcher against the real tmux: the agent is the window's own process (its pid), its
 * exit code or the killing of its window resolves `exited`, the window's PATH and environment,
 * arguments tmux would otherwise interpret, and the per-project session name.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isOrchError } from "../../src/errors.ts";
import { processAlive } from "../../src/orchestrate/state.ts";
import { tmuxLauncher, tmuxSessionName } from "../../src/orchestrate/launchers/tmux.ts";
import type { LaunchSpec } from "../../src/orchestrate/launchers/types.ts";
import { tempDir, until } from "../helpers.ts";
import { hasTmux } from "../tmux.ts";

const tmux = (...args: string[]) => Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });
const sessions = new Set<string>();
afterAll(() => {
  for (const s of sessions) tmux("kill-session", "-t", `=${s}`);
});

/** Settles `p` or says it has not within `ms`. */
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then((v) => ({ value: v })), Bun.sleep(ms).then(() => "pending" as const)]);

/**
 * A project (its root's path holds a space and a `#`), and an agent script that reports what it
 * got (argv, PATH, cwd, environment) into ORCH_OUT, then waits for `go` and exits with `code`.
 */
function setup(script = "") {
  const root = join(tempDir(), "my #project");
  mkdirSync(root);
  const bin = tempDir("orch-bin-");
  const out = tempDir("orch-out-");
  const agent = join(bin, "fake-agent");
  writeFileSync(
    agent,
    `#!/bin/sh
${script}
printf '[%s]' "$@" > "$ORCH_OUT/args.tmp"; mv "$ORCH_OUT/args.tmp" "$ORCH_OUT/args"
printf '%s' "$PATH" > "$ORCH_OUT/path"
pwd > "$ORCH_OUT/cwd"
printf '%s|%s|%s' "$ORCH_STREAM_ID" "$HTTP_API_PORT" "$NOT_PASSED_ON" > "$ORCH_OUT/env"
while [ ! -e "$ORCH_OUT/go" ]; do sleep 0.05; done
exit "$(cat "$ORCH_OUT/go")"
`,
  );
  chmodSync(agent, 0o755);
  const initiativeId = `T${randomBytes(4).toString("hex")}`;
  const session = tmuxSessionName(initiativeId, root);
  sessions.add(session);
  const spec = (argv: string[], streamId = "Stream.A#1"): LaunchSpec => ({
    streamId,
    phase: "foundation",
    argv,
    cwd: root,
    env: { PATH: `${bin}:/usr/bin:/bin`, ORCH_OUT: out, ORCH_STREAM_ID: streamId, HTTP_API_PORT: "9123", NOT_PASSED_ON: "secret" },
    logFile: join(root, "agent.log"),
    projectRoot: root,
    initiativeId,
  });
  const reported = () => until("the agent's report", () => existsSync(join(out, "env")) && existsSync(join(out, "args")));
  const read = (name: string) => readFileSync(join(out, name), "utf8");
  const go = (code: number) => writeFileSync(join(out, "go"), String(code));
  return { root, bin, out, agent, session, spec, reported, read, go };
}

describe.skipIf(!hasTmux)("tmux launcher", () => {
  test("session name: the guide's orchestration-<first 8 of the initiative id>, plus 6 hex of the project root: stable per project, never shared", () => {
    const a = tempDir();
    const b = tempDir();
    const link = join(tempDir(), "link");
    symlinkSync(a, link);
    expect(tmuxSessionName("INIT-1234567890", a)).toMatch(/^orchestration-INIT-123-[0-9a-f]{6}$/);
    expect(tmuxSessionName("INIT-1234567890", a)).toBe(tmuxSessionName("INIT-1234567890", a));
    expect(tmuxSessionName("INIT-1234567890", link)).toBe(tmuxSessionName("INIT-1234567890", a));
    expect(tmuxSessionName("INIT-1234567890", a)).not.toBe(tmuxSessionName("INIT-1234567890", b));
    expect(tmuxSessionName(null, a)).toMatch(/^orchestration-default-[0-9a-f]{6}$/);
  });

  test("the agent is the window's process: its pid, its exit code, the window kept with its last screen; PATH and environment; arguments passed exactly", async () => {
    const s = setup();
    const tricky = ["a;", "b\\;", ";", "#{pane_id}", "$HOME", "~", "", "x y", "-d"];
    const launched = tmuxLauncher.launch(s.spec([s.agent, ...tricky]));
    expect(launched.description).toBe(`tmux window ${s.session}:Stream.A#1, pid ${launched.pid}`);
    await s.reported();
    const pid = launched.pid!;
    // The pane's own process runs the agent (a shell script: /bin/sh <script> args), nothing typed.
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1)).toEqual(["/bin/sh", s.agent, ...tricky]);
    expect(processAlive(pid, [s.agent])).toBe(true);
    expect(s.read("args")).toBe(tricky.map((a) => `[${a}]`).join(""));
    expect(s.read("path").split(":")[0]).toBe(s.bin);
    expect(s.read("path")).toContain(":/usr/bin:/bin");
    expect(s.read("cwd").trim()).toBe(realpathSync(s.root));
    expect(s.read("env")).toBe("Stream.A#1|9123|"); // ORCH_* and HTTP_API_PORT only
    const windows = tmux("list-windows", "-t", `=${s.session}`, "-F", "#{window_name}|#{pane_pid}").stdout.toString().trim();
    expect(windows).toBe(`Stream.A#1|${pid}`);

    expect(await within(launched.exited!, 300)).toBe("pending");
    s.go(5);
    expect(await within(launched.exited!, 3000)).toEqual({ value: 5 });
    // remain-on-exit: the window stays, dead, for a person to read.
    expect(tmux("list-windows", "-t", `=${s.session}`, "-F", "#{pane_dead} #{remain-on-exit}").stdout.toString().trim()).toBe("1 on");
    // Only this window's option: the user's global default is untouched.
    expect(tmux("show-options", "-gwv", "remain-on-exit").stdout.toString().trim()).toBe("off");
  });

  test("a lone program (one argument) is run without the user's shell interpreting it", async () => {
    const s = setup();
    const odd = join(s.bin, "agent;$(touch pwned) 'x'");
    symlinkSync(s.agent, odd);
    const launched = tmuxLauncher.launch(s.spec([odd]));
    await s.reported();
    expect(readFileSync(`/proc/${launched.pid}/cmdline`, "utf8").split("\0").slice(0, -1)).toEqual(["/bin/sh", odd]);
    expect(existsSync(join(s.root, "pwned"))).toBe(false);
    s.go(0);
    expect(await within(launched.exited!, 3000)).toEqual({ value: 0 });
  });

  test("exit codes come through even when tmux records them late (3.3 can leave an exited pane process unreaped for a while)", async () => {
    const s = setup();
    const codes = [0, 1, 2, 7, 42, 255];
    const launched = codes.map((c, i) => tmuxLauncher.launch(s.spec(["/bin/sh", "-c", `sleep 0.${i + 2}; exit ${c}`], `S${i}`)));
    const settled = await within(Promise.all(launched.map((l) => l.exited!)), 5000);
    expect(settled).toEqual({ value: codes });
  });

  test("window killed while the agent runs: exited resolves with null within about 2 s, the agent is gone", async () => {
    const s = setup();
    const first = tmuxLauncher.launch(s.spec([s.agent, "one"]));
    await s.reported();
    // A second window in the same session, left running: killing the first must not disturb it.
    const second = tmuxLauncher.launch(s.spec([s.agent, "two"], "Stream-B"));
    expect(second.pid).not.toBe(first.pid);
    const window = tmux("list-windows", "-t", `=${s.session}`, "-F", "#{window_id} #{pane_pid}").stdout.toString().trim().split("\n")
      .find((l) => l.endsWith(` ${first.pid}`))!.split(" ")[0]!;
    const t0 = performance.now();
    expect(tmux("kill-window", "-t", window).exitCode).toBe(0);
    expect(await within(first.exited!, 3000)).toEqual({ value: null });
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(processAlive(first.pid, [s.agent])).toBe(false);
    expect(await within(second.exited!, 200)).toBe("pending");
    // The session killed: the other one notices too.
    tmux("kill-session", "-t", `=${s.session}`);
    expect(await within(second.exited!, 3000)).toEqual({ value: null });
  });

  test("an agent that outlives its killed window (ignores SIGHUP) is stopped, so its restart never runs beside it", async () => {
    const s = setup(`trap '' HUP; trap 'echo TERM > "$ORCH_OUT/signal"; exit 143' TERM`);
    const launched = tmuxLauncher.launch(s.spec([s.agent, "stubborn"]));
    await s.reported();
    tmux("kill-session", "-t", `=${s.session}`);
    expect(await within(launched.exited!, 4000)).toEqual({ value: null });
    expect(processAlive(launched.pid, [s.agent])).toBe(false);
    expect(s.read("signal")).toBe("TERM\n");
  });

  test("agent command not found: one clear error, no window opened", () => {
    const s = setup();
    let message = "";
    try {
      tmuxLauncher.launch(s.spec(["no-such-agent-here", "x"]));
    } catch (err) {
      if (!isOrchError(err)) throw err;
      message = err.message;
    }
    expect(message).toBe("agent command not found: no-such-agent-here (install it, or choose another with --agent-cmd)");
    expect(tmux("has-session", "-t", `=${s.session}`).exitCode).not.toBe(0);
  });
});
