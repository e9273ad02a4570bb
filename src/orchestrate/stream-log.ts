/**
 * The tail of a stream's agent log, for its page: the transcript of the stream's most recent
 * agent session (the path its Claude Code hooks reported), else the headless launcher's log
 * `.claude/orchestration/logs/<streamId>.log`. Read fresh on each call (the files grow), at most
 * the last LOG_WINDOW_BYTES of the file, parsed into short one-line texts (agent-log.ts): never
 * raw file content.
 *
 * The transcript path is written by agents (hook payloads), so it is trusted only when it names
 * a `.jsonl` file under the Claude config folder's `projects/` (CLAUDE_CONFIG_DIR, else
 * ~/.claude), judged on real paths; otherwise the headless log is read, itself only inside the
 * project's logs folder.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { latestTranscriptPath } from "../core/agents.ts";
import { getStream } from "../core/streams.ts";
import type { Store } from "../db/client.ts";
import { LOG_DIR } from "../paths.ts";
import { agentLogLines, type LogLine } from "./agent-log.ts";
import { projectRootOf, readTail, realPathInside, type Tail } from "./file-tail.ts";

/** Read no more than this of a log, whatever its size. */
export const LOG_WINDOW_BYTES = 256 * 1024;
export const DEFAULT_LOG_LINES = 100;
export const MAX_LOG_LINES = 500;

export type LogSource = "transcript" | "headless-log";

export interface StreamLog {
  streamId: string;
  /** Where the lines come from; null when there is no log to read yet. */
  source: LogSource | null;
  /** The last lines, oldest first. */
  lines: LogLine[];
  /** Older lines exist than those answered (the file is longer than the window read, or more lines than asked for). */
  truncated: boolean;
}

/** Claude Code's config folder: CLAUDE_CONFIG_DIR, else ~/.claude. */
export function claudeConfigDir(env: Record<string, string | undefined> = process.env): string {
  const dir = env.CLAUDE_CONFIG_DIR;
  return dir ? resolve(dir) : join(env.HOME || homedir(), ".claude");
}

/** The real path of a transcript a hook named, if it is one: a `.jsonl` file under `<config>/projects/`. */
export function trustedTranscript(path: string, configDir: string): string | null {
  if (!path.endsWith(".jsonl")) return null;
  const real = realPathInside(path, join(configDir, "projects"));
  return real?.endsWith(".jsonl") ? real : null;
}

/** The headless launcher's log of a stream in project `root`, if it is a file inside the logs folder. */
export function headlessLogPath(root: string, streamId: string): string | null {
  return realPathInside(join(root, LOG_DIR, `${streamId}.log`), join(root, LOG_DIR));
}

/** Throws core's not_found for an unknown stream (archived ones answer too). */
export async function streamLogTail(
  store: Store,
  streamId: string,
  opts: { cwd?: string; lines?: number; env?: Record<string, string | undefined>; windowBytes?: number } = {},
): Promise<StreamLog> {
  await getStream(store, streamId, { includeArchived: true });
  const want = Math.max(1, Math.min(MAX_LOG_LINES, Math.floor(opts.lines ?? DEFAULT_LOG_LINES)));
  const window = opts.windowBytes ?? LOG_WINDOW_BYTES;
  let source: LogSource | null = null;
  let tail: Tail | null = null;
  const transcript = await latestTranscriptPath(store, streamId);
  const trusted = transcript ? trustedTranscript(transcript, claudeConfigDir(opts.env)) : null;
  if (trusted && (tail = readTail(trusted, window))) source = "transcript";
  if (!tail) {
    const log = headlessLogPath(projectRootOf(opts.cwd), streamId);
    if (log && (tail = readTail(log, window))) source = "headless-log";
  }
  if (!tail) return { streamId, source: null, lines: [], truncated: false };
  const all = agentLogLines(tail.text, { cutStart: tail.cut });
  return { streamId, source, lines: all.slice(-want), truncated: tail.cut || all.length > want };
}
