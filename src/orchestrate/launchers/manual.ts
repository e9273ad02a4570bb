/** Manual: the guide's instructions for a person to start the session; orch then waits on the DB. */
import type { LaunchedAgent, LaunchSpec, Launcher } from "./types.ts";

export function manualLauncher(print: (text: string) => void): Launcher {
  return {
    name: "manual",
    check() {},
    launch(spec: LaunchSpec): LaunchedAgent {
      print(
        [
          "⚠ Manual action required:",
          "  1. Open new terminal",
          `  2. Run: cd ${spec.cwd}`,
          "  3. Run: claude",
          `  4. Run: /continue ${spec.streamId}`,
          `  5. Complete all tasks in ${spec.streamId}`,
          "",
          `Waiting for ${spec.streamId} to complete (orch follows the task database)…`,
        ].join("\n") + "\n",
      );
      return { pid: null, exited: null, description: "manual" };
    },
  };
}
