/** What a hook call answers, and its log: problems go to a file, never to the agent. */

export const MAX_PAYLOAD_BYTES = 1024 * 1024;
const MAX_LOG_BYTES = 1024 * 1024;

export type Env = Record<string, string | undefined>;

export interface HookResult {
  /** What Claude Code reads on stdout ("" for nothing). */
  stdout: string;
  /** A line for the hook log when something was wrong. */
  problem?: string;
  logFile?: string;
}

/**
 * Append one line to the hook log, keeping it bounded (one older generation). node:fs is loaded
 * only here, on the rare path: loading it costs a hook a few milliseconds.
 */
export async function logHookProblem(logFile: string | undefined, line: string): Promise<void> {
  if (!logFile) return;
  try {
    const { appendFileSync, existsSync, renameSync, statSync } = await import("node:fs");
    const { oneLine } = await import("../text/neutralise.ts");
    if (existsSync(logFile) && statSync(logFile).size > MAX_LOG_BYTES) renameSync(logFile, `${logFile}.1`);
    appendFileSync(logFile, `${new Date().toISOString()} ${oneLine(line).slice(0, 2000)}\n`);
  } catch {
    // The log is best effort: a hook never fails over it.
  }
}
