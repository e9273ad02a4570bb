/**
 * What a new worktree needs besides git's checkout: files copied from the main checkout (never
 * overwriting, kept out of agents' commits through .git/info/exclude) and the setup command.
 */
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { failed } from "../errors.ts";
import { addableUntracked } from "../git/files.ts";
import { ensureExcluded, repoInfo } from "../git/repo.ts";
import { rel } from "./naming.ts";

export interface SetupRun {
  command: string[];
  exitCode: number;
  durationMs: number;
}

/** Copy files git does not carry from the main worktree; never overwrite what is already there. */
export function copyIntoWorktree(root: string, path: string, list: readonly string[]): string[] {
  const copied: string[] = [];
  for (const p of list) {
    const from = join(root, p);
    const to = join(path, p);
    if (!existsSync(from) || existsSync(to)) continue;
    mkdirSync(dirname(to), { recursive: true });
    try {
      cpSync(from, to, { recursive: true, errorOnExist: false, force: false });
    } catch (err) {
      throw failed(`cannot copy ${p} into ${rel(root, path)}: ${(err as Error).message}`);
    }
    copied.push(p);
  }
  excludeCopies(path, copied);
  return copied;
}

/**
 * What orch copies in is not the agent's work: an agent's `git add -A` must not commit it (the
 * merge would then collide with the main checkout's own untracked copy). The exclude file is
 * shared by every worktree, so the main checkout's copies are hidden from `git status` too.
 */
function excludeCopies(path: string, copied: readonly string[]): void {
  const addable = new Set(addableUntracked(path, copied));
  const patterns = copied.filter((p) => [...addable].some((a) => a === p || a.startsWith(`${p}/`))).map((p) => `/${p}`);
  if (patterns.length) ensureExcluded(repoInfo(path), patterns, "files it copies into stream worktrees stay out of agents' commits");
}

export async function runSetup(
  command: string[],
  cwd: string,
  streamId: string,
  onOutput?: (chunk: string) => void,
  /** A new worktree is removed when its setup fails; one whose setup is being finished is kept. */
  fresh = true,
): Promise<SetupRun> {
  const shown = command.join(" ");
  const outcome = fresh ? "the new worktree was removed" : "the worktree was kept (its setup is still to finish: run the create again)";
  const t0 = performance.now();
  let proc;
  try {
    proc = Bun.spawn(command, {
      cwd,
      env: { ...process.env, ORCH_STREAM_ID: streamId, ORCH_WORKTREE: cwd },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw failed(`setup command "${shown}" could not start${code === "ENOENT" ? `: ${command[0]} not found` : `: ${(err as Error).message}`}; ${outcome}`);
  }
  let tail = "";
  let errTail = "";
  const pump = async (s: ReadableStream<Uint8Array>, isErr: boolean) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      const text = dec.decode(chunk, { stream: true });
      onOutput?.(text);
      tail = (tail + text).slice(-4000);
      if (isErr) errTail = (errTail + text).slice(-4000);
    }
  };
  const [, , exitCode] = await Promise.all([pump(proc.stdout, false), pump(proc.stderr, true), proc.exited]);
  const durationMs = Math.round(performance.now() - t0);
  if (exitCode !== 0) {
    // The reason is on stderr when there is one (which pipe is read last is a race).
    const lastOf = (t: string) => t.trim().split("\n").filter(Boolean).at(-1);
    const last = lastOf(errTail) ?? lastOf(tail);
    throw failed(`setup command "${shown}" failed (exit ${exitCode})${last ? `: ${last.trim()}` : ""}; ${outcome}`, { exitCode, output: tail });
  }
  return { command, exitCode, durationMs };
}
