/**
 * tmux: one session per project, `orchestration-<first 8 of the initiative id>-<6 hex of the
 * project root's hash>` (the guide's name, plus a suffix so two projects never share a session),
 * one window per stream in its working directory. The agent is the window's own process: tmux
 * runs the argument array itself (no shell, nothing typed), so `#{pane_pid}` is the agent's pid,
 * which orch records, watches and, on `--resume`, adopts like a headless agent's.
 *
 * tmux is always run with argument arrays. Two things tmux itself would still interpret are
 * escaped: an argument ending in `;` (tmux's command separator, even inside an argument array)
 * and `#` in the window name and start directory (both are expanded as formats).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { delimiter, dirname } from "node:path";
import { failed } from "../../errors.ts";
import { selfCommand } from "../../self.ts";
import { processAlive } from "../state.ts";
import type { LaunchedAgent, LaunchSpec, Launcher } from "./types.ts";

/** How often each agent's pid is looked at (no process spawned: kill(0) and /proc). */
const POLL_MS = 250;
/** How often tmux is asked about a pane whose agent still runs (a window killed under an agent
 *  that survives it); once the pid is gone, tmux is asked at once for the exit status. */
const PANE_POLL_MS = 1000;
/** An agent that outlives its window gets SIGTERM, then SIGKILL after this long. */
const KILL_GRACE_MS = 5000;

export function tmuxSessionName(initiativeId: string | null, projectRoot: string): string {
  let root = projectRoot;
  try {
    root = realpathSync(projectRoot);
  } catch {
    // Not there (any more): the path as given still names the project.
  }
  const suffix = createHash("sha256").update(root).digest("hex").slice(0, 6);
  return `orchestration-${(initiativeId ?? "default").slice(0, 8)}-${suffix}`;
}

/** One argument as tmux should receive it: a trailing `;` would end the tmux command there. */
const arg = (a: string) => (a.endsWith(";") ? `${a.slice(0, -1)}\\;` : a);
/** A value tmux expands as a format (`-n`, `-c`): `#` stands for itself. */
const literal = (a: string) => a.replaceAll("#", "##");

type Result = { ok: boolean; stdout: string; stderr: string };
/** One tmux invocation running these commands in sequence (joined by tmux's own `;`). */
const tmux = (...commands: string[][]): Result => tmuxWith(undefined, commands);

function tmuxWith(env: Record<string, string> | undefined, commands: string[][]): Result {
  try {
    const args = commands.flatMap((c, i) => [...(i ? [";"] : []), ...c.map(arg)]);
    // Found on orch's own PATH, whatever PATH the client is given.
    const p = Bun.spawnSync([Bun.which("tmux") ?? "tmux", ...args], { stdout: "pipe", stderr: "pipe", env });
    return { ok: p.exitCode === 0, stdout: p.stdout.toString().trim(), stderr: p.stderr.toString().trim() };
  } catch (err) {
    return { ok: false, stdout: "", stderr: (err as Error).message };
  }
}

type PaneState = { state: "running" } | { state: "exited"; code: number | null } | { state: "gone" };
/** How long a dead pane may go without tmux knowing its status (the pty closes before the child
 *  is reaped) before its exit counts as unknown. */
const STATUS_WAIT_MS = 2000;

/** The agent's pane: still running it, dead (the agent exited: its status), or gone (killed). */
async function paneState(paneId: string, pid: number): Promise<PaneState> {
  let out = "";
  try {
    const p = Bun.spawn(["tmux", "display-message", "-p", "-t", paneId, "#{pane_id} #{pane_pid} #{pane_dead} #{pane_dead_status} #{pane_dead_signal}"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "ignore",
    });
    const [text, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    if (code !== 0) return { state: "gone" }; // no server any more
    out = text.trim();
  } catch {
    return { state: "gone" }; // tmux itself vanished
  }
  // display-message does not fail on a missing pane (it prints empty fields), and inside another
  // tmux it may describe some other pane: only a line about this pane counts.
  const [id, panePid, dead, status, signal] = out.split(" ");
  if (id !== paneId) return { state: "gone" };
  if (dead === "1") {
    if (status) return { state: "exited", code: Number(status) };
    if (signal) return { state: "exited", code: 128 + Number(signal) }; // as Bun reports a signal
    return { state: "exited", code: null }; // dead, its status not (yet) known
  }
  // A person respawned the pane: our agent is no longer what it runs.
  if (Number(panePid) !== pid) return { state: "gone" };
  return { state: "running" };
}

const HAS_PROC = existsSync("/proc/self/stat");
/** From /proc/<pid>/stat: state (field 3), start time (22: tells a reused pid apart), and a
 *  zombie's wait status (52, Linux ≥ 3.5); null without /proc or once the process is reaped. */
function procStat(pid: number): { state: string; start: string; waitStatus: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: f[0]!, start: f[19]!, waitStatus: Number(f[49]) };
  } catch {
    return null;
  }
}

/**
 * Resolves with the agent's exit code when it exits, or with null when its pane, window or
 * session is killed: noticed within POLL_MS when the agent dies with its terminal (SIGHUP, the
 * usual case), within PANE_POLL_MS when it does not. One unref'd timer per agent, stopped once
 * settled. An agent that outlives its window is stopped, so the restart orch makes next never
 * runs beside it.
 */
function watch(paneId: string, pid: number): Promise<number | null> {
  // The process is known by its pid and start time: its command line may not name the agent
  // (`claude` runs as `node …/cli.js`), and a pid reused by another process is never signalled.
  const started = procStat(pid)?.start ?? null;
  const ours = () => {
    const st = procStat(pid);
    return st && st.start === started ? st : null;
  };
  const alive = () => {
    if (!HAS_PROC) return processAlive(pid);
    const st = ours();
    return st !== null && st.state !== "Z"; // a zombie has exited: only its parent (tmux) must reap it
  };
  return new Promise((resolve) => {
    let orphanedAt: number | null = null;
    let deadAt: number | null = null;
    let askedAt = Date.now();
    /** The exit code read from the agent's zombie: tmux 3.3 sometimes leaves an exited pane
     *  process unreaped (and #{pane_dead_status} empty) until some later event in its server. */
    let zombieCode: number | null = null;
    const next = () => setTimeout(poll, POLL_MS).unref();
    const poll = async () => {
      if (orphanedAt === null) {
        const st = HAS_PROC ? ours() : null;
        if (st?.state === "Z" && Number.isInteger(st.waitStatus))
          zombieCode = (st.waitStatus & 0x7f) === 0 ? (st.waitStatus >> 8) & 0xff : 128 + (st.waitStatus & 0x7f);
        if (alive() && Date.now() - askedAt < PANE_POLL_MS) return next();
        askedAt = Date.now();
        const s = await paneState(paneId, pid);
        if (s.state === "exited") {
          const code = s.code ?? zombieCode;
          if (code !== null || Date.now() - (deadAt ??= Date.now()) >= STATUS_WAIT_MS) return resolve(code);
          return next();
        }
        if (s.state === "running") return next(); // running, or exited and not yet seen by tmux
        orphanedAt = Date.now();
      }
      if (!alive()) return resolve(null);
      try {
        process.kill(pid, Date.now() - orphanedAt >= KILL_GRACE_MS ? "SIGKILL" : "SIGTERM");
      } catch {
        // Gone meanwhile: the next poll says so.
      }
      next();
    };
    next();
  });
}

export const tmuxLauncher: Launcher = {
  name: "tmux",
  check() {
    let ok = false;
    try {
      ok = Bun.spawnSync(["tmux", "-V"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
    } catch {
      ok = false;
    }
    if (!ok) throw failed("tmux is not installed (e.g. apt-get install tmux), or choose --launcher headless|manual");
  },
  launch(spec: LaunchSpec): LaunchedAgent {
    const session = tmuxSessionName(spec.initiativeId, spec.projectRoot);
    const PATH = spec.env.PATH ?? "";
    // Resolved here, on the agent's PATH, so a missing command is one clear error rather than a
    // dead window, and tmux runs an absolute path whatever PATH its server has.
    const program = Bun.which(spec.argv[0]!, { PATH, cwd: spec.cwd });
    if (!program) throw failed(`agent command not found: ${spec.argv[0]} (install it, or choose another with --agent-cmd)`);
    // The window's PATH: this orch's own directory (agents call `orch`, e.g. `orch mcp`) and the
    // agent's, first; the login shell's PATH of whoever started the tmux server may have neither.
    const self = selfCommand();
    const first = [...(self.length === 1 ? [dirname(self[0]!)] : []), dirname(program)];
    const path = [...new Set([...first, ...PATH.split(delimiter).filter(Boolean)])].join(delimiter);
    const env = [
      ...Object.entries(spec.env).filter(([k]) => k.startsWith("ORCH_") || k === "HTTP_API_PORT"),
      ["PATH", path],
    ].flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    // tmux 3.3 gives a new pane the PATH of the tmux client that asked for it (over `-e PATH`):
    // the client making the window runs with the window's PATH too.
    const clientEnv = { ...(process.env as Record<string, string>), PATH: path };
    // With one argument tmux would hand it to the user's shell (`$SHELL -c`); with several it execs
    // them. A lone program goes through a fixed `sh -c 'exec "$0"'`, its path only ever an argument.
    const command = spec.argv.length > 1 ? [program, ...spec.argv.slice(1)] : ["/bin/sh", "-c", 'exec "$0"', program];
    const print = ["-P", "-F", "#{window_id} #{pane_id} #{pane_pid}"];
    const opts = ["-n", literal(spec.streamId), "-c", literal(spec.cwd), ...env];
    // remain-on-exit: the window stays after the agent exits, so a person can read its last screen
    // and orch can read its exit status (#{pane_dead_status}); without it an exit and a killed
    // window look the same. It is set in the same tmux command sequence as the window is made,
    // before tmux can notice an exit, on that window only (never the user's global options). The
    // new window goes after the last one (-a after {end}), which is how the next command finds it.
    const inNewWindow = () =>
      tmuxWith(clientEnv, [["new-window", "-d", ...print, "-a", "-t", `=${session}:{end}`, ...opts, ...command],
        ["set-option", "-w", "-t", `=${session}:{end}`, "remain-on-exit", "on"]]);
    let made = tmux(["has-session", "-t", `=${session}`]).ok
      ? inNewWindow()
      : tmuxWith(clientEnv, [["new-session", "-d", ...print, "-s", session, ...opts, ...command],
          ["set-option", "-w", "-t", `=${session}:`, "remain-on-exit", "on"]]);
    // Another orch of this project made the session meanwhile: join it.
    if (!made.ok && tmux(["has-session", "-t", `=${session}`]).ok) made = inNewWindow();
    const [window, pane, pidText] = made.stdout.split("\n")[0]!.split(" ");
    const pid = Number(pidText);
    if (!made.ok || !window?.startsWith("@") || !pane?.startsWith("%") || !Number.isSafeInteger(pid) || pid <= 0)
      throw failed(`tmux could not open a window for ${spec.streamId}: ${made.stderr || made.stdout}`);
    // Never addressed by name: a stream id may hold a dot (tmux's pane separator), and a second run
    // or a restart opens another window of the same name. The agent's pane is watched by its id.
    return { pid, exited: watch(pane, pid), description: `tmux window ${session}:${spec.streamId}, pid ${pid}` };
  },
};
