/**
 * tmux: one session `orchestration-<first 8 of the initiative id>` (the guide's name), one
 * window per stream with its working directory, the agent command typed in. Every part of the
 * typed command is shell-quoted; tmux itself is run with argument arrays.
 */
import { failed } from "../../errors.ts";
import { shellQuote } from "../agent-command.ts";
import type { LaunchedAgent, LaunchSpec, Launcher } from "./types.ts";

export const tmuxSessionName = (initiativeId: string | null) => `orchestration-${(initiativeId ?? "default").slice(0, 8)}`;

function tmux(args: string[]): { ok: boolean; stdout: string; stderr: string } {
  try {
    const p = Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });
    return { ok: p.exitCode === 0, stdout: p.stdout.toString().trim(), stderr: p.stderr.toString().trim() };
  } catch (err) {
    return { ok: false, stdout: "", stderr: (err as Error).message };
  }
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
    const session = tmuxSessionName(spec.initiativeId);
    const env = Object.entries(spec.env)
      .filter(([k]) => k.startsWith("ORCH_") || k === "HTTP_API_PORT")
      .flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const exists = tmux(["has-session", "-t", `=${session}`]).ok;
    // The window is addressed by its id (@N), not its name: a stream id may hold a dot (tmux's
    // pane separator), and a second run or a restart opens another window of the same name.
    const print = ["-P", "-F", "#{window_id}"];
    const made = exists
      ? tmux(["new-window", "-d", ...print, "-t", `=${session}:`, "-n", spec.streamId, "-c", spec.cwd, ...env])
      : tmux(["new-session", "-d", ...print, "-s", session, "-n", spec.streamId, "-c", spec.cwd, ...env]);
    if (!made.ok || !made.stdout.startsWith("@")) throw failed(`tmux could not open a window for ${spec.streamId}: ${made.stderr}`);
    const window = made.stdout;
    const typed = spec.argv.map(shellQuote).join(" ");
    const sent = tmux(["send-keys", "-t", window, "-l", typed]);
    if (!sent.ok) throw failed(`tmux could not type the agent command for ${spec.streamId}: ${sent.stderr}`);
    tmux(["send-keys", "-t", window, "Enter"]);
    return { pid: null, exited: null, description: `tmux window ${session}:${spec.streamId}` };
  },
};
