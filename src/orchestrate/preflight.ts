/**
 * What `orch start` checks before it launches anything, so paid agent work never begins only to
 * fail at the first worktree or the first merge: a git repository (when a stream needs a
 * worktree or a merge), a clean main checkout, orch init's files, the agent command, and the API
 * port. The decision (`decidePreflight`) is pure over facts; each fact is gathered by one small
 * function with one side effect (git, the file system, PATH, one socket), and `preflight` wires
 * them together.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { basename, isAbsolute, join, resolve } from "node:path";
import { isLoopbackHost, normalizeHost } from "../net/address.ts";
import type { StreamView } from "../core/streams.ts";
import { isOrchError } from "../errors.ts";
import { CONTINUE_COMMAND_FILE, GITIGNORE_FILE, MCP_FILE, ORCHESTRATION_COMMAND_FILE, SERVER_NAME } from "../generate/init-files.ts";
import { hasCommits, repoInfo, statusEntries } from "../git/repo.ts";
import { recoverInterruptedMerge } from "../git/safe-merge.ts";
import { ORCHESTRATION_DIR, WORKTREES_DIR } from "../paths.ts";
import { agentArgv, shellQuote } from "./agent-command.ts";
import type { LauncherName } from "./config.ts";
import type { RunState } from "./state.ts";

export type CheckName = "git" | "clean" | "init-files" | "agent-command" | "api-port";

export interface PreflightResult {
  check: CheckName;
  ok: boolean;
  /** One line: what was found, and on a failure what to do about it. */
  line: string;
  /** Passed, but worth saying (the manual launcher: orch launches nothing, so nothing is refused). */
  warning?: boolean;
}

// ── facts ───────────────────────────────────────────────────────────────────

export type GitFacts =
  | { kind: "none"; reason: string }
  | { kind: "repo"; hasCommits: boolean; changes: { path: string; untracked: boolean }[] };

export interface InitFacts {
  mcp: "ok" | "missing" | "invalid" | "no-server";
  continueCommand: boolean;
}

export type AgentFacts =
  | { kind: "found"; path: string }
  | { kind: "not-on-path"; program: string }
  | { kind: "no-such-file"; path: string }
  | { kind: "not-executable"; path: string };

export interface PortFacts {
  /** `host:port` as people write it. */
  address: string;
  holder: "free" | "same-orch" | "other-orch" | "other";
}

export interface PreflightFacts {
  root: string;
  launcher: LauncherName;
  /** Streams of this run that work in a worktree or get merged: they need git. */
  gitStreams: string[];
  /** Streams whose agents (of an earlier run) work in the main checkout right now. */
  busyInMain: string[];
  git: GitFacts;
  /** null: not checked (an agent that is not Claude Code needs no .mcp.json). */
  init: InitFacts | null;
  /** null: not checked (the manual launcher starts nothing). */
  agent: AgentFacts | null;
  /** null: not checked (port 0, or nothing here serves or uses the API). */
  port: PortFacts | null;
}

/** orch init's files, in the order its commit line names them. */
export const INIT_FILES = [MCP_FILE, CONTINUE_COMMAND_FILE, ORCHESTRATION_COMMAND_FILE, GITIGNORE_FILE] as const;

/** orch's own folders: what it writes there untracked (generated files, worktrees, state) never blocks a run. */
const OWN_DIRS = [`${ORCHESTRATION_DIR}/`, `${WORKTREES_DIR}/`];

// ── the decision (pure) ─────────────────────────────────────────────────────

/** At most five, then "and N more". */
export function preview(items: readonly string[], max = 5): string {
  return items.length <= max ? items.join(", ") : `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}

/** The exact command that commits orch init's files. */
export function initCommitCommand(paths: readonly string[]): string {
  return `git add ${paths.map(shellQuote).join(" ")} && git commit -m "orch init"`;
}

/** orch init's files among these paths, in INIT_FILES order. */
export function initFilesAmong(paths: readonly string[]): string[] {
  const set = new Set(paths);
  return INIT_FILES.filter((f) => set.has(f));
}

/** The agent is Claude Code (`claude …`, by any path): it reaches orch through orch init's files. */
export const isClaudeCode = (program: string) => basename(program) === "claude";

/**
 * The streams of this run that need git: every parallel stream (its own worktree, merged back);
 * with --stream, that stream if it is parallel and the parallel streams it waits for (merged first).
 */
export function streamsNeedingGit(streams: readonly StreamView[], only?: string | null): string[] {
  const parallel = new Set(streams.filter((s) => s.streamPhase === "parallel").map((s) => s.streamId));
  if (!only) return [...parallel];
  const s = streams.find((x) => x.streamId === only);
  if (!s) return [];
  return [only, ...s.dependencies].filter((id, i, all) => parallel.has(id) && all.indexOf(id) === i);
}

/** Streams an earlier run left "running" in the main checkout: their agents' work in progress is there. */
export function streamsBusyInMain(previous: RunState | null, root: string): string[] {
  if (!previous) return [];
  return Object.entries(previous.streams)
    .filter(([, r]) => r.status === "running" && r.cwd === root)
    .map(([id]) => id);
}

/**
 * Which checks apply: the init files and the API port matter when the agents are Claude Code
 * (the manual launcher always means Claude Code: its steps say "Run: claude"), the port also
 * whenever HTTP_API_PORT is set (the agents are given it); the agent command only when orch
 * starts it (headless, tmux).
 */
export function applicable(o: { launcher: LauncherName; program: string; port: number; portSet: boolean }) {
  const claude = o.launcher === "manual" || isClaudeCode(o.program);
  return {
    init: claude,
    agent: o.launcher !== "manual",
    port: o.port !== 0 && (claude || o.portSet),
  };
}

export function decidePreflight(f: PreflightFacts): PreflightResult[] {
  const results: PreflightResult[] = [gitCheck(f)];
  if (f.git.kind === "repo") results.push(cleanCheck(f, f.git));
  if (f.init) results.push(soft(f, initCheck(f.init)));
  if (f.agent) results.push(agentCheck(f.agent));
  if (f.port) results.push(soft(f, portCheck(f.port)));
  return results;
}

export const failures = (results: readonly PreflightResult[]) => results.filter((r) => !r.ok);

/** With the manual launcher orch starts no agent: what Claude Code needs is said, not refused. */
function soft(f: PreflightFacts, r: PreflightResult): PreflightResult {
  return f.launcher === "manual" && !r.ok ? { ...r, ok: true, warning: true } : r;
}

function gitCheck(f: PreflightFacts): PreflightResult {
  const need = f.gitStreams.length > 0;
  const who = `the worktrees of ${preview(f.gitStreams)}`;
  if (f.git.kind === "none")
    return need
      ? { check: "git", ok: false, line: `${f.git.reason}; needed for ${who}` }
      : { check: "git", ok: true, line: "not a git repository (none needed: no parallel stream in this run)" };
  if (!f.git.hasCommits && need)
    return { check: "git", ok: false, line: `the git repository at ${f.root} has no commit yet: ${who} branch from one; commit first` };
  return { check: "git", ok: true, line: `git repository at ${f.root}` };
}

function cleanCheck(f: PreflightFacts, git: Extract<GitFacts, { kind: "repo" }>): PreflightResult {
  if (f.busyInMain.length)
    return { check: "clean", ok: true, line: `main checkout not checked: the agent of ${preview(f.busyInMain)} (earlier run) is working in it` };
  const changes = git.changes.filter((c) => !(c.untracked && OWN_DIRS.some((d) => c.path.startsWith(d))));
  if (!changes.length) return { check: "clean", ok: true, line: "main checkout clean" };
  // Untracked files block a merge only when a stream adds the same path (the merge says so
  // then, naming them): a warning here, not a refusal. Tracked changes always block merges.
  const dirty = changes.map((c) => c.path);
  if (changes.every((c) => c.untracked))
    return { check: "clean", ok: true, warning: true, line: `untracked files in the main checkout (${preview(dirty)}): a stream that adds the same path cannot be merged until they are moved` };
  const init = initFilesAmong(dirty);
  const head = `the main checkout has uncommitted changes (${preview(init.length === dirty.length ? init : dirty)})`;
  const line =
    init.length === dirty.length
      ? `${head}: orch init's files; commit them so orch start can merge: ${initCommitCommand(init)}`
      : `${head}: commit or stash them first (agents commit and orch merges there)${init.length ? `; for orch init's files: ${initCommitCommand(init)}` : ""}`;
  return { check: "clean", ok: false, line };
}

function initCheck(i: InitFacts): PreflightResult {
  const problems: string[] = [];
  if (i.mcp === "missing") problems.push(`${MCP_FILE} is missing`);
  else if (i.mcp === "invalid") problems.push(`${MCP_FILE} is not valid JSON`);
  else if (i.mcp === "no-server") problems.push(`${MCP_FILE} has no ${SERVER_NAME} server`);
  if (!i.continueCommand) problems.push(`${CONTINUE_COMMAND_FILE} is missing`);
  if (!problems.length) return { check: "init-files", ok: true, line: `orch init's files in place (${MCP_FILE} with ${SERVER_NAME}, ${CONTINUE_COMMAND_FILE})` };
  return { check: "init-files", ok: false, line: `${problems.join(" and ")}: run orch init (Claude Code reaches orch and works a stream through them)` };
}

function agentCheck(a: AgentFacts): PreflightResult {
  const other = "choose another with --agent-cmd";
  switch (a.kind) {
    case "found":
      return { check: "agent-command", ok: true, line: `agent command found: ${a.path}` };
    case "not-on-path":
      return { check: "agent-command", ok: false, line: `agent command not found on PATH: ${a.program} (install it, or ${other})` };
    case "no-such-file":
      return { check: "agent-command", ok: false, line: `agent command not found: ${a.path} (no such file; ${other})` };
    case "not-executable":
      return { check: "agent-command", ok: false, line: `agent command is not an executable file: ${a.path} (chmod +x it, or ${other})` };
  }
}

function portCheck(p: PortFacts): PreflightResult {
  const elsewhere = "or give this project another port (HTTP_API_PORT, and in .mcp.json)";
  switch (p.holder) {
    case "free":
      return { check: "api-port", ok: true, line: `API port ${p.address} free` };
    case "same-orch":
      return { check: "api-port", ok: true, line: `API port ${p.address} served by an orch on this project's database` };
    case "other-orch":
      return { check: "api-port", ok: false, line: `API port ${p.address} is held by another project's orch (another database): stop it, ${elsewhere}` };
    case "other":
      return { check: "api-port", ok: false, line: `API port ${p.address} is in use by a program that is not orch: stop it, ${elsewhere}` };
  }
}

// ── the facts (one side effect each) ────────────────────────────────────────

export function gitFacts(root: string): GitFacts {
  try {
    repoInfo(root);
  } catch (err) {
    if (isOrchError(err)) return { kind: "none", reason: err.message };
    throw err;
  }
  // A merge a killed orch left half-done is finished or undone first: its files are orch's, not
  // changes of the user's to refuse a --resume over.
  recoverInterruptedMerge(root);
  return {
    kind: "repo",
    hasCommits: hasCommits(root),
    changes: statusEntries(root, { untracked: true }).map((e) => ({ path: e.path, untracked: e.code === "??" })),
  };
}

export function initFacts(root: string): InitFacts {
  const continueCommand = existsSync(join(root, CONTINUE_COMMAND_FILE));
  const file = join(root, MCP_FILE);
  if (!existsSync(file)) return { mcp: "missing", continueCommand };
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return { mcp: "invalid", continueCommand };
  }
  const servers = (doc as { mcpServers?: unknown } | null)?.mcpServers;
  const entry = servers && typeof servers === "object" ? (servers as Record<string, unknown>)[SERVER_NAME] : undefined;
  return { mcp: entry && typeof entry === "object" ? "ok" : "no-server", continueCommand };
}

/**
 * Where the agent command's program is: a path (absolute, or relative to the project root) must
 * be an executable file; a bare name must be on PATH.
 */
export function agentFacts(program: string, root: string, PATH: string | undefined): AgentFacts {
  if (program.includes("/")) {
    const path = isAbsolute(program) ? program : resolve(root, program);
    if (!existsSync(path)) return { kind: "no-such-file", path };
    try {
      if (!statSync(path).isFile()) return { kind: "not-executable", path };
      accessSync(path, constants.X_OK);
    } catch {
      return { kind: "not-executable", path };
    }
    return { kind: "found", path };
  }
  const found = Bun.which(program, { PATH: PATH ?? "" });
  return found ? { kind: "found", path: found } : { kind: "not-on-path", program };
}

/** Does anything accept a connection on host:port (within `timeoutMs`)? */
function accepts(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (yes: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      done(yes);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

/**
 * Who holds the API port: nobody, an orch on this database, another orch, or another program.
 * Asked the way `orch mcp` asks before it shares the port (GET /health, its dbId), and never with
 * ORCH_API_TOKEN: whoever holds the port is not trusted with it.
 */
export async function portFacts(host: string, port: number, dbId: string): Promise<PortFacts> {
  const [{ probePortHolder }, { displayAddress }] = await Promise.all([import("../net/peer.ts"), import("../net/address.ts")]);
  const address = displayAddress(host, port);
  const h = normalizeHost(host);
  const target = isLoopbackHost(h) || h === "0.0.0.0" || h === "::" ? "127.0.0.1" : h;
  if (!(await accepts(target, port, 500))) return { address, holder: "free" };
  return { address, holder: await probePortHolder(host, port, dbId) };
}

export interface PreflightInput {
  root: string;
  launcher: LauncherName;
  agentCommand: string;
  streams: readonly StreamView[];
  only?: string | null;
  previous: RunState | null;
  api: { host: string; port: number; portSet: boolean };
  dbId: string;
  PATH: string | undefined;
}

export async function gatherFacts(i: PreflightInput): Promise<PreflightFacts> {
  const first = i.streams.find((s) => !i.only || s.streamId === i.only)?.streamId ?? "Stream-A";
  const program = agentArgv(i.agentCommand, { streamId: first, worktree: i.root, projectRoot: i.root })[0]!;
  const apply = applicable({ launcher: i.launcher, program, port: i.api.port, portSet: i.api.portSet });
  return {
    root: i.root,
    launcher: i.launcher,
    gitStreams: streamsNeedingGit(i.streams, i.only),
    busyInMain: streamsBusyInMain(i.previous, i.root),
    git: gitFacts(i.root),
    init: apply.init ? initFacts(i.root) : null,
    agent: apply.agent ? agentFacts(program, i.root, i.PATH) : null,
    port: apply.port ? await portFacts(i.api.host, i.api.port, i.dbId) : null,
  };
}

export async function preflight(i: PreflightInput): Promise<PreflightResult[]> {
  return decidePreflight(await gatherFacts(i));
}

/**
 * Runs the run itself refuses before launching anything, with a better word than any preflight
 * line: nothing imported, or nothing (of this initiative) to resume.
 */
export function runWillRefuse(o: { streams: number; resume: boolean; previous: RunState | null; initiativeId: string | null }): boolean {
  return o.streams === 0 || (o.resume && (!o.previous || o.previous.initiativeId !== o.initiativeId));
}
