/**
 * Headless: spawn the agent command (argument array, never a shell) in the stream's working
 * directory, output appended to its log. The agent runs in its own session (setsid), so Ctrl+C
 * on `orch start` stops the orchestrator, not the agents; `--resume` adopts them again.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, relative } from "node:path";
import { failed } from "../../errors.ts";
import { groupAlive } from "../../sys/process.ts";
import type { LaunchedAgent, LaunchSpec, Launcher } from "./types.ts";

export const headlessLauncher: Launcher = {
  name: "headless",
  check() {},
  launch(spec: LaunchSpec): LaunchedAgent {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const fd = openSync(spec.logFile, "a");
    let proc: ReturnType<typeof Bun.spawn>;
    try {
      proc = Bun.spawn(spec.argv, {
        cwd: spec.cwd,
        env: spec.env,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw failed(
        code === "ENOENT"
          ? `agent command not found: ${spec.argv[0]} (install it, or choose another with --agent-cmd)`
          : `cannot start the agent for ${spec.streamId}: ${(err as Error).message}`,
      );
    } finally {
      closeSync(fd);
    }
    proc.unref();
    const pid = proc.pid;
    return { pid, exited: proc.exited.then(async (c) => (await groupGone(pid), c ?? null)), description: `pid ${pid}, log ${relative(spec.projectRoot, spec.logFile)}` };
  },
};

/**
 * The agent ended; what it started in the background (a commit still under way) may not have.
 * Its process group is waited for, a while: a server it left running must not hold the run.
 */
async function groupGone(pgid: number, maxMs = 30_000): Promise<void> {
  const until = Date.now() + maxMs;
  while (groupAlive(pgid) && Date.now() < until) await Bun.sleep(100);
}
