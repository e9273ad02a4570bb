export interface LaunchSpec {
  streamId: string;
  phase: "foundation" | "parallel" | "integration";
  /** The agent command, placeholders filled. */
  argv: string[];
  /** The stream's worktree (parallel) or the project root. */
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  projectRoot: string;
  initiativeId: string | null;
}

export interface LaunchedAgent {
  /** A process orch can watch (headless), else null. */
  pid: number | null;
  /** Resolves with the exit code when the agent process ends (headless only). */
  exited: Promise<number | null> | null;
  /** One line for the log: where it runs. */
  description: string;
}

export interface Launcher {
  readonly name: "manual" | "tmux" | "headless";
  /** Throws a clear OrchError when this launcher cannot work here (tmux missing…). */
  check(): void;
  launch(spec: LaunchSpec): LaunchedAgent;
}
