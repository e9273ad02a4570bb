/**
 * Headless: spawn the agent command (argument array, never a shell) in the stream's working
 * directory, output appended to its log. The agent runs in its own session (setsid), so Ctrl+C
 * on `orch start` stops the orchestrator, not the agents; `--resume` adopts them again.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, relative } from "node:path";
import { failed } from "../../errors.ts";
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
    return { pid: proc.pid, exited: proc.exited.then((c) => c ?? null), description: `pid ${proc.pid}, log ${relative(spec.projectRoot, spec.logFile)}` };
  },
};
