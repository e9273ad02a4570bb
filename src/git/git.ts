/**
 * The one way orch runs git: an argument array (never a shell string), a fixed environment, and a
 * typed result. Callers judge outcomes by exit code and parse only porcelain/plumbing output.
 */
import { failed } from "../errors.ts";

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  /** Extra variables (e.g. GIT_INDEX_FILE for a scratch index). */
  env?: Record<string, string>;
  input?: string;
}

/**
 * Variables that would point git somewhere other than `cwd` (set when orch runs from a git hook,
 * for instance) are dropped; prompts are off so git never waits on a terminal; messages in C so
 * the few we show read the same everywhere.
 */
function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^GIT_(DIR|WORK_TREE|INDEX_FILE|COMMON_DIR|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|NAMESPACE|PREFIX)$/.test(k)) continue;
    env[k] = v;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  env.LC_ALL = "C";
  // No opportunistic index writes (status, diff refreshing stat data): a git killed with orch
  // must never leave an index.lock in the user's checkout that nothing of orch's can explain.
  env.GIT_OPTIONAL_LOCKS = "0";
  return { ...env, ...extra };
}

/** Run git in `cwd` and return whatever happened; never throws for a non-zero exit. */
export function git(cwd: string, args: readonly string[], opts: GitOptions = {}): GitResult {
  let p;
  try {
    p = Bun.spawnSync(["git", ...args], {
      cwd,
      // Its own session: a kill of orch's process group (Ctrl+C, a terminal closing, kill -9 of
      // the group) cannot stop git between taking a lock and letting it go. The stress suite
      // found a group kill during a merge leaving .git/HEAD.lock, and every later merge refused.
      detached: true,
      env: gitEnv(opts.env),
      stdin: opts.input !== undefined ? Buffer.from(opts.input) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw failed(`git is not installed or not on PATH (needed in ${cwd})`);
    throw failed(`cannot run git in ${cwd}: ${(err as Error).message}`);
  }
  return { code: p.exitCode ?? 1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** Run git and return stdout as bytes (file contents), or null when git failed. */
export function gitBytes(cwd: string, args: readonly string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): Buffer | null {
  const stdin = opts.input === undefined ? "ignore" : typeof opts.input === "string" ? Buffer.from(opts.input) : opts.input;
  const p = Bun.spawnSync(["git", ...args], { cwd, detached: true, env: gitEnv(opts.env), stdin, stdout: "pipe", stderr: "ignore" });
  return p.exitCode === 0 ? Buffer.from(p.stdout) : null;
}

/** The first meaningful line of git's complaint, for a one-line error. */
export function gitMessage(r: GitResult): string {
  const lines = `${r.stderr}\n${r.stdout}`
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const fatal = lines.find((l) => /^(fatal|error):/.test(l));
  return (fatal ?? lines[0] ?? `exit ${r.code}`).replace(/^(fatal|error):\s*/, "");
}

/** Run git and return stdout; a non-zero exit becomes an OrchError naming what was attempted. */
export function gitOk(cwd: string, args: readonly string[], what: string, opts: GitOptions = {}): string {
  const r = git(cwd, args, opts);
  if (r.code !== 0) throw failed(`${what}: ${gitMessage(r)}`);
  return r.stdout;
}

/** Split NUL-terminated output (`-z`) into its fields. */
export function splitZ(s: string): string[] {
  const parts = s.split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}

export const trimLine = (s: string): string => s.replace(/\n+$/, "");

/**
 * The main worktree's top level for `cwd` (from a linked worktree too: where the shared .git
 * lives), or null outside a repository.
 */
export function mainTopLevel(cwd: string): string | null {
  const r = git(cwd, ["rev-parse", "--path-format=absolute", "--git-common-dir", "--show-toplevel"]);
  if (r.code !== 0) return null;
  const [commonDir, topLevel] = r.stdout.trim().split("\n");
  if (commonDir && commonDir.endsWith("/.git")) return commonDir.slice(0, -"/.git".length);
  return topLevel || null;
}
