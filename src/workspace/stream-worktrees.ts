/**
 * The binding of a stream to its git worktree, used alike by the CLI, MCP and the orchestrator:
 * `.claude/worktrees/<StreamId>` on branch `<streamid lower-cased>`, recorded on the stream and
 * its tasks. Everything here refuses rather than lose work: nothing uncommitted or unmerged is
 * removed without --force, and --force saves it to a ref first; a merge is predicted before the
 * user's checkout is touched, and a conflict leaves it exactly as it was.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { Store } from "../db/client.ts";
import { findStreamRow, listStreams, setStreamWorktree, streamView, type StreamView } from "../core/streams.ts";
import { streamIdSchema } from "../core/schemas.ts";
import { lastMergeState, recordMergeConflict, recordMergeDone, type MergeConflictRecord } from "../core/merge-record.ts";
import { BranchMissingError, conflict, failed, notFound, usageError } from "../errors.ts";
import { changedPaths, predictMerge } from "../git/merge.ts";
import { commitMerge, recoverInterruptedMerge } from "../git/safe-merge.ts";
import {
  aheadBehind,
  branchCommit,
  commitsNotIn,
  createRef,
  currentBranch,
  deleteBranch,
  addableUntracked,
  ensureExcluded,
  ignoredUntracked,
  getConfig,
  hasCommits,
  isAncestor,
  isValidBranchName,
  operationInProgress,
  repoInfo,
  resolveCommit,
  saveSnapshot,
  setConfig,
  unsetConfig,
  statusEntries,
  type CommitLine,
  type RepoInfo,
  type StatusEntry,
} from "../git/repo.ts";
import { addWorktree, listWorktrees, pruneWorktrees, removeWorktree, type WorktreeEntry } from "../git/worktrees.ts";
import { ALWAYS_COPY, resolveWorktreeSetup, type WorktreeSetup } from "./config.ts";
import { withFileLock } from "./lock.ts";
import { branchFor, EXCLUDE_PATTERNS, worktreeFor, WORKTREES_DIR } from "../paths.ts";

export { EXCLUDE_PATTERNS, WORKTREES_DIR };
export const SAVED_REF_PREFIX = "refs/orch/saved";

// ── naming ──────────────────────────────────────────────────────────────────

/** Validate a stream id before any path or branch name is built from it (exit 2 when bad). */
export function parseStreamId(value: unknown): string {
  const r = streamIdSchema.safeParse(value);
  if (!r.success) throw usageError(`invalid stream id ${JSON.stringify(value)}: ${r.error.issues[0]!.message}`);
  return r.data;
}

export const streamBranchName = branchFor;
export const streamWorktreePath = (root: string, streamId: string): string => join(root, worktreeFor(streamId));
const baseKey = (branch: string) => `branch.${branch}.orchBase`;
/** Set while a new worktree's copy and setup run: an orch killed meanwhile leaves it, and the next
 * create (`orch start --resume` makes one) runs them again instead of reusing a half-set-up tree. */
const setupPendingKey = (branch: string) => `branch.${branch}.orchSetupPending`;

function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

export function locateRepo(cwd: string = process.cwd()): RepoInfo {
  return repoInfo(cwd);
}

function findStream(store: Store, streamId: string): StreamView | null {
  const row = findStreamRow(store.db, streamId, true);
  return row ? streamView(row) : null;
}

function requireStream(store: Store, streamId: string): StreamView {
  const s = findStream(store, streamId);
  if (!s) throw notFound(`Stream not found: ${streamId}`, { streamId });
  return s;
}

/** The branch a stream merges into: recorded at creation, else what the main worktree has out. */
export function baseBranchOf(root: string, branch: string): string | null {
  return getConfig(root, baseKey(branch)) ?? currentBranch(root);
}

const rel = (root: string, p: string) => relative(root, p) || ".";
const preview = (xs: readonly string[], n = 5) => xs.slice(0, n).join(", ") + (xs.length > n ? `, … (${xs.length - n} more)` : "");
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// ── what could be lost ──────────────────────────────────────────────────────

function sameFile(a: string, b: string): boolean {
  try {
    const sa = lstatSync(a);
    const sb = lstatSync(b);
    if (sa.isSymbolicLink() && sb.isSymbolicLink()) return readlinkSync(a) === readlinkSync(b);
    if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

/**
 * Uncommitted changes in a worktree that would be lost with it: staged, unstaged and untracked
 * (ignored files never count). An untracked file identical to the same path in the main checkout
 * (the `.mcp.json` or `.env` orch copied in) is not work that could be lost, so it does not count.
 */
export function uncommittedChanges(root: string, worktreePath: string): StatusEntry[] {
  const shown = statusEntries(worktreePath, { untracked: true });
  // What orch copies in is kept out of `git status` (excluded); an edit to it is still work.
  const seen = new Set(shown.map((e) => e.path));
  const hidden = ignoredUntracked(worktreePath, copiedPaths(root))
    .filter((p) => !seen.has(p))
    .map((path): StatusEntry => ({ code: "??", path }));
  return [...shown, ...hidden].filter((e) => !(e.code === "??" && sameFile(join(worktreePath, e.path), join(root, e.path))));
}

function copiedPaths(root: string): string[] {
  try {
    return resolveWorktreeSetup(root).copy;
  } catch {
    return [...ALWAYS_COPY]; // a broken config file must not hide work
  }
}

// ── create ──────────────────────────────────────────────────────────────────

export interface WorktreeCreateInput {
  streamId: string;
  /** Branch to start a new stream branch from; default: the main worktree's current branch. */
  base?: string;
  setup?: WorktreeSetup;
  cwd?: string;
  /** Live output of the setup command (the CLI passes stderr). */
  onOutput?: (chunk: string) => void;
}

export interface SetupRun {
  command: string[];
  exitCode: number;
  durationMs: number;
}

export interface WorktreeCreateResult {
  streamId: string;
  worktreePath: string;
  relativePath: string;
  branchName: string;
  baseBranch: string;
  /** A new worktree was checked out by this call. */
  created: boolean;
  /** An existing healthy worktree was found and kept. */
  reused: boolean;
  branchCreated: boolean;
  /** A stale registration (folder deleted by hand) was pruned first. */
  repaired: boolean;
  copied: string[];
  setup: SetupRun | null;
  /** Patterns added to .git/info/exclude by this call. */
  excludeAdded: string[];
}

export async function createStreamWorktree(store: Store, input: WorktreeCreateInput): Promise<WorktreeCreateResult> {
  const streamId = parseStreamId(input.streamId);
  const stream = requireStream(store, streamId);
  const repo = locateRepo(input.cwd);
  const root = repo.root;
  if (!hasCommits(root)) throw failed(`the repository at ${root} has no commits yet: commit something before creating worktrees`);
  const branch = streamBranchName(streamId);
  if (!isValidBranchName(root, branch)) throw usageError(`stream id ${streamId} does not make a valid git branch name ("${branch}")`);
  const path = streamWorktreePath(root, streamId);
  const excludeAdded = ensureExcluded(repo, EXCLUDE_PATTERNS);
  // Checked again under the lock: two agents continuing one stream must not both `git worktree add`.
  const lock = join(repo.commonDir, "orch", "locks", `worktree-${branch}.lock`);
  return withFileLock(lock, `creating the worktree of ${streamId}`, () =>
    createLocked({ store, input, stream, root, streamId, branch, path, excludeAdded }),
  );
}

async function createLocked(c: {
  store: Store;
  input: WorktreeCreateInput;
  stream: StreamView;
  root: string;
  streamId: string;
  branch: string;
  path: string;
  excludeAdded: string[];
}): Promise<WorktreeCreateResult> {
  const { store, input, stream, root, streamId, branch, path, excludeAdded } = c;
  let base: string;
  if (input.base !== undefined) {
    // The base is what the stream merges back into, so it must be a local branch.
    if (!input.base || !branchCommit(root, input.base)) throw usageError(`base branch not found: ${input.base}`);
    base = input.base;
  } else {
    const recorded = getConfig(root, baseKey(branch));
    const current = currentBranch(root);
    const b = recorded ?? current;
    if (!b) throw usageError(`the main worktree has a detached HEAD: pass --base BRANCH`);
    base = b;
  }

  const result = (r: Partial<WorktreeCreateResult>): WorktreeCreateResult => ({
    streamId,
    worktreePath: path,
    relativePath: rel(root, path),
    branchName: branch,
    baseBranch: base,
    created: false,
    reused: false,
    branchCreated: false,
    repaired: false,
    copied: [],
    setup: null,
    excludeAdded,
    ...r,
  });

  const healthy = (entries: WorktreeEntry[]) => {
    const at = entries.find((w) => samePath(w.path, path));
    if (!at || at.prunable || !at.present) return null;
    if (at.branch !== branch)
      throw conflict(`${rel(root, path)} is checked out on ${at.branch ?? "a detached HEAD"}, not ${branch}: switch it back (git -C "${path}" switch ${branch})`);
    return at;
  };

  let entries = listWorktrees(root);
  if (healthy(entries)) {
    if (input.base !== undefined) setConfig(root, baseKey(branch), base);
    // Its creation was cut short during setup: finish it. Failing again leaves the worktree and
    // the mark as they are (nothing is removed from a tree that is not new).
    const interrupted = getConfig(root, setupPendingKey(branch)) !== null;
    const copied = interrupted ? copyIntoWorktree(root, path, input.setup?.copy ?? []) : [];
    const setup = interrupted && input.setup?.setup ? await runSetup(input.setup.setup, path, streamId, input.onOutput, false) : null;
    if (interrupted) unsetConfig(root, setupPendingKey(branch));
    record(store, stream, path, branch);
    return result({ reused: true, copied, setup, baseBranch: getConfig(root, baseKey(branch)) ?? base });
  }

  let repaired = false;
  if (entries.some((w) => w.path === path || samePath(w.path, path))) {
    pruneWorktrees(root);
    repaired = true;
    entries = listWorktrees(root);
  }
  if (existsSync(path) && !isEmptyDir(path))
    throw conflict(`${rel(root, path)} exists but is not a git worktree: move it away (orch will not delete it)`);
  const elsewhere = entries.find((w) => w.branch === branch && !samePath(w.path, path));
  if (elsewhere) throw conflict(`branch ${branch} is already checked out at ${elsewhere.path}: Stream ${streamId} needs it in ${rel(root, path)}`);

  const branchExisted = branchCommit(root, branch) !== null;
  mkdirSync(dirname(path), { recursive: true });
  addWorktree(root, path, branch, branchExisted ? undefined : base);
  if (!branchExisted || input.base !== undefined || !getConfig(root, baseKey(branch))) setConfig(root, baseKey(branch), base);

  let copied: string[] = [];
  let setup: SetupRun | null = null;
  setConfig(root, setupPendingKey(branch), "true");
  try {
    copied = copyIntoWorktree(root, path, input.setup?.copy ?? []);
    if (input.setup?.setup) setup = await runSetup(input.setup.setup, path, streamId, input.onOutput);
  } catch (err) {
    // Only what this call just made is undone: a fresh checkout holds no one's work yet.
    rollback(root, path, branchExisted ? null : branch);
    unsetConfig(root, setupPendingKey(branch));
    throw err;
  }
  unsetConfig(root, setupPendingKey(branch));
  record(store, stream, path, branch);
  return result({ created: true, branchCreated: !branchExisted, repaired, copied, setup, baseBranch: base });
}

function isEmptyDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory() && readdirSync(p).length === 0;
  } catch {
    return false;
  }
}

function record(store: Store, stream: StreamView, path: string, branch: string): void {
  if (stream.worktreePath === path && stream.branchName === branch) return;
  setStreamWorktree(store, stream.streamId, { worktreePath: path, branchName: branch });
}

function rollback(root: string, path: string, createdBranch: string | null): void {
  try {
    removeWorktree(root, path, { force: true });
  } catch {
    // Left for `orch worktree prune` / a retry; the error being reported matters more.
  }
  if (createdBranch && branchCommit(root, createdBranch)) {
    try {
      deleteBranch(root, createdBranch);
    } catch {
      // as above
    }
  }
}

/** Copy files git does not carry from the main worktree; never overwrite what is already there. */
function copyIntoWorktree(root: string, path: string, list: readonly string[]): string[] {
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

async function runSetup(
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
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      const text = dec.decode(chunk, { stream: true });
      onOutput?.(text);
      tail = (tail + text).slice(-4000);
    }
  };
  const [, , exitCode] = await Promise.all([pump(proc.stdout), pump(proc.stderr), proc.exited]);
  const durationMs = Math.round(performance.now() - t0);
  if (exitCode !== 0) {
    const last = tail.trim().split("\n").filter(Boolean).at(-1);
    throw failed(`setup command "${shown}" failed (exit ${exitCode})${last ? `: ${last.trim()}` : ""}; ${outcome}`, { exitCode, output: tail });
  }
  return { command, exitCode, durationMs };
}

// ── list ────────────────────────────────────────────────────────────────────

export type WorktreeState = "ok" | "missing" | "orphaned";

export interface WorktreeRow {
  /** null for an orphaned worktree no stream claims. */
  streamId: string | null;
  worktreePath: string;
  relativePath: string;
  branchName: string | null;
  baseBranch: string | null;
  state: WorktreeState;
  /** null when the folder is not there to look at. */
  dirty: boolean | null;
  uncommittedFiles: string[];
  ahead: number | null;
  behind: number | null;
  locked: boolean;
  /** The last merge attempt found conflicts (cleared by a successful merge). */
  mergeConflict: MergeConflictRecord | null;
}

export interface WorktreeListResult {
  repoRoot: string;
  worktrees: WorktreeRow[];
  totalWorktrees: number;
}

export function listStreamWorktrees(store: Store, opts: { cwd?: string } = {}): WorktreeListResult {
  const { root } = locateRepo(opts.cwd);
  const entries = listWorktrees(root);
  const dir = join(root, WORKTREES_DIR) + sep;
  const claimed = new Set<WorktreeEntry>();
  const rows: WorktreeRow[] = [];

  const describe = (streamId: string | null, path: string, entry: WorktreeEntry | undefined, fallbackBranch: string | null): WorktreeRow => {
    const ok = !!entry && entry.present && !entry.prunable;
    const branch = entry?.branch ?? fallbackBranch;
    const base = branch ? baseBranchOf(root, branch) : null;
    const changes = ok ? uncommittedChanges(root, path).map((e) => e.path) : [];
    let ab: { ahead: number; behind: number } | null = null;
    if (branch && base && branch !== base && branchCommit(root, branch) && resolveCommit(root, base)) ab = aheadBehind(root, base, branch);
    return {
      streamId,
      worktreePath: path,
      relativePath: rel(root, path),
      branchName: branch,
      baseBranch: base,
      state: !streamId ? "orphaned" : ok ? "ok" : "missing",
      dirty: ok ? changes.length > 0 : null,
      uncommittedFiles: changes,
      ahead: ab?.ahead ?? null,
      behind: ab?.behind ?? null,
      locked: entry?.locked ?? false,
      mergeConflict: streamId ? (lastMergeState(store, streamId)?.mergeConflict ?? null) : null,
    };
  };

  for (const s of listStreams(store, { includeArchived: true })) {
    const defaultPath = streamWorktreePath(root, s.streamId);
    const path = s.worktreePath ?? defaultPath;
    const entry = entries.find((w) => samePath(w.path, path) || w.path === path);
    if (!s.worktreePath && !entry) continue;
    if (entry) claimed.add(entry);
    rows.push(describe(s.streamId, path, entry, s.branchName ?? streamBranchName(s.streamId)));
  }
  for (const w of entries) {
    if (claimed.has(w) || !w.path.startsWith(dir)) continue;
    rows.push(describe(null, w.path, w, w.branch));
  }
  return { repoRoot: root, worktrees: rows, totalWorktrees: rows.length };
}

// ── remove / prune ──────────────────────────────────────────────────────────

export interface SavedWork {
  ref: string;
  commit: string;
  includesUncommitted: boolean;
  /** Commands that bring it back. */
  restore: string[];
}

export interface WorktreeRemoveResult {
  streamId: string;
  worktreePath: string;
  branchName: string | null;
  baseBranch: string | null;
  /** The worktree folder and its registration are gone. */
  removed: boolean;
  branchDeleted: boolean;
  saved: SavedWork | null;
}

export interface WorktreeRemoveInput {
  streamId: string;
  force?: boolean;
  /** Keep the stream's branch (by default it goes once it is merged, or saved with --force). */
  keepBranch?: boolean;
  cwd?: string;
}

export function savedRefName(branch: string, at: Date = new Date()): string {
  const ts = at.toISOString().replace(/[-:]/g, "").replace(".", "");
  return `${SAVED_REF_PREFIX}/${branch}/${ts}`;
}

/** What stands between a worktree and its removal: uncommitted files, unmerged commits. */
export interface AtRisk {
  uncommitted: StatusEntry[];
  unmerged: CommitLine[];
  base: string | null;
}

export function removeStreamWorktree(store: Store, input: WorktreeRemoveInput): WorktreeRemoveResult {
  const streamId = parseStreamId(input.streamId);
  const stream = findStream(store, streamId);
  const { root } = locateRepo(input.cwd);
  const path = stream?.worktreePath ?? streamWorktreePath(root, streamId);
  const entry = listWorktrees(root).find((w) => samePath(w.path, path) || w.path === path);
  const branch = entry?.branch ?? stream?.branchName ?? streamBranchName(streamId);
  const branchSha = branchCommit(root, branch);
  if (!entry && !stream) {
    if (existsSync(path)) throw conflict(`${rel(root, path)} is not a git worktree: orch will not delete it`);
    throw notFound(`Stream not found: ${streamId}`, { streamId });
  }
  if (!entry && existsSync(path)) throw conflict(`${rel(root, path)} is not a git worktree: orch will not delete it`);
  const present = !!entry && entry.present && !entry.prunable;
  const base = baseBranchOf(root, branch);
  // The branch goes too, unless kept, shared with the main worktree, or checked out somewhere else.
  const inUseElsewhere = listWorktrees(root).some((w) => w.branch === branch && w !== entry && !samePath(w.path, path));
  const deleting = !input.keepBranch && !!branchSha && branch !== base && !inUseElsewhere;
  if (!entry && !deleting) {
    if (stream?.worktreePath) setStreamWorktree(store, streamId, { worktreePath: null, branchName: stream.branchName });
    throw notFound(`Stream ${streamId} has no worktree${stream?.worktreePath ? " (its stale record was cleared)" : ""}`);
  }

  const uncommitted = present ? uncommittedChanges(root, path) : [];
  const baseKnown = !!base && !!resolveCommit(root, base);
  // Commits are only at risk when their branch is about to be deleted.
  const unmerged: CommitLine[] = deleting && baseKnown ? commitsNotIn(root, branch, base!) : [];
  if (deleting && !baseKnown && !input.force)
    throw conflict(
      `cannot tell whether ${branch} is merged: its base branch ${base ?? "(unknown)"} does not exist; pass --keep-branch, or --force to save everything to ${SAVED_REF_PREFIX}/${branch}/… and remove`,
    );
  if (entry?.locked && present && !input.force)
    throw conflict(`${rel(root, path)} is locked${entry.lockReason ? ` (${entry.lockReason})` : ""}: unlock it (git worktree unlock) or pass --force`);

  const atRisk = uncommitted.length > 0 || unmerged.length > 0 || (deleting && !baseKnown);
  if (atRisk && !input.force) {
    const parts: string[] = [];
    if (uncommitted.length) parts.push(`${plural(uncommitted.length, "uncommitted change")} (${preview(uncommitted.map((e) => e.path))})`);
    if (unmerged.length)
      parts.push(`${plural(unmerged.length, "commit")} not merged into ${base} (${preview(unmerged.map((c) => `${c.sha} ${c.subject}`), 3)})`);
    throw conflict(
      `refusing to remove ${entry ? "the worktree" : `branch ${branch}`} of ${streamId}: it has ${parts.join(" and ")}; merge first (orch worktree merge ${streamId}) or pass --force to save everything to ${SAVED_REF_PREFIX}/${branch}/… and remove`,
      { uncommitted, unmerged },
    );
  }

  let saved: SavedWork | null = null;
  if (atRisk) {
    const ref = uniqueRef(root, branch);
    if (present) {
      const snap = saveSnapshot(path, ref, `orch: uncommitted changes of ${streamId} saved before forced removal\n\nWorktree: ${path}\nBranch: ${branch}`);
      saved = { ref, commit: snap.commit, includesUncommitted: snap.includesUncommitted, restore: [] };
    } else {
      createRef(root, ref, branchSha!);
      saved = { ref, commit: branchSha!, includesUncommitted: false, restore: [] };
    }
  }

  let removed = false;
  if (entry) {
    if (present) removeWorktree(root, path, { force: true, locked: entry.locked });
    else pruneWorktrees(root);
    removed = true;
  }

  let branchDeleted = false;
  if (deleting) {
    deleteBranch(root, branch);
    branchDeleted = true;
  }
  if (saved) {
    const restoreBranch = branchDeleted ? branch : `${branch}-restored`;
    saved.restore = [
      `git branch ${restoreBranch} ${saved.ref}`,
      ...(branchDeleted ? [`orch worktree create ${streamId}`] : []),
      ...(saved.includesUncommitted ? [`(its last commit holds what was uncommitted; "git reset HEAD~1" in the worktree turns it back into changes)`] : []),
    ];
  }
  if (stream && (stream.worktreePath !== null || branchDeleted))
    setStreamWorktree(store, streamId, { worktreePath: null, branchName: branchDeleted ? null : branch });
  return { streamId, worktreePath: path, branchName: branch, baseBranch: base, removed, branchDeleted, saved };
}

function uniqueRef(root: string, branch: string): string {
  const ref = savedRefName(branch);
  if (!resolveCommit(root, ref)) return ref;
  for (let i = 1; ; i++) if (!resolveCommit(root, `${ref}-${i}`)) return `${ref}-${i}`;
}

export interface PruneResult {
  /** Worktree registrations git dropped because their folders were gone. */
  pruned: string[];
  /** Streams whose recorded worktree no longer exists, now cleared. */
  streamsCleared: string[];
}

export function pruneStreamWorktrees(store: Store, opts: { cwd?: string } = {}): PruneResult {
  const { root } = locateRepo(opts.cwd);
  const pruned = pruneWorktrees(root);
  const live = listWorktrees(root);
  const streamsCleared: string[] = [];
  for (const s of listStreams(store, { includeArchived: true })) {
    if (!s.worktreePath) continue;
    if (live.some((w) => samePath(w.path, s.worktreePath!) || w.path === s.worktreePath)) continue;
    const branchLives = !!s.branchName && branchCommit(root, s.branchName) !== null;
    setStreamWorktree(store, s.streamId, { worktreePath: null, branchName: branchLives ? s.branchName : null });
    streamsCleared.push(s.streamId);
  }
  return { pruned, streamsCleared };
}

// ── merge ───────────────────────────────────────────────────────────────────

export interface MergeInput {
  streamId: string;
  /** Target branch; default: the stream branch's recorded base. It must be checked out in the main worktree. */
  into?: string;
  cwd?: string;
  /** Merge nothing while the worktree holds uncommitted changes (`worktree_dirty`) or is on another branch (`worktree_off_branch`). */
  requireCleanWorktree?: boolean;
}

export interface MergeResult {
  streamId: string;
  branchName: string;
  into: string;
  status: "merged" | "up_to_date" | "conflict" | "worktree_dirty" | "worktree_off_branch";
  merged: boolean;
  /** The merge commit (status merged). */
  commit: string | null;
  sourceCommit: string;
  targetCommit: string;
  conflictingFiles: string[];
  /** Paths the merge changes in the target (status merged). */
  filesChanged: string[];
  /** Uncommitted changes in the stream's worktree: not part of any merge until committed. */
  worktreeUncommitted: string[];
  /** What the worktree has checked out when it is not the stream's branch ("(detached HEAD)"), else null. */
  worktreeBranch: string | null;
}

export function mergeStream(store: Store, input: MergeInput): MergeResult {
  const streamId = parseStreamId(input.streamId);
  const stream = requireStream(store, streamId);
  const { root } = locateRepo(input.cwd);
  // A merge killed half-way (this one's earlier attempt, or another stream's) is finished or
  // undone first, so the checks below see the checkout as it really is.
  recoverInterruptedMerge(root);
  const branch = stream.branchName ?? streamBranchName(streamId);
  const into = input.into ?? baseBranchOf(root, branch);
  if (!into) throw conflict(`the main worktree has a detached HEAD: check out the branch to merge into, or pass --into BRANCH`);
  if (into === branch) throw conflict(`${streamId} works on ${branch} itself: there is nothing to merge`);
  const sourceCommit = branchCommit(root, branch);
  if (!sourceCommit) throw new BranchMissingError(`branch ${branch} of ${streamId} does not exist`);

  const current = currentBranch(root);
  if (current !== into)
    throw conflict(
      `the main worktree (${root}) is on ${current ?? "a detached HEAD"}, not ${into}: orch will not switch it for you; run "git switch ${into}" there first${current ? `, or merge into ${current} with --into ${current}` : ""}`,
    );
  const op = operationInProgress(root);
  if (op) throw conflict(`the main worktree is in the middle of ${op}: finish or abort it first`);
  const status = statusEntries(root, { untracked: true });
  const dirty = status.filter((e) => e.code !== "??");
  if (dirty.length) throw conflict(`the main worktree has uncommitted changes (${preview(dirty.map((e) => e.path))}): commit or stash them first`);
  const targetCommit = resolveCommit(root, "HEAD")!;

  const wt = stream.worktreePath ?? streamWorktreePath(root, streamId);
  const wtEntry = listWorktrees(root).find((w) => w.path === wt || samePath(w.path, wt));
  const worktreeUncommitted = wtEntry?.present && !wtEntry.prunable ? uncommittedChanges(root, wt).map((e) => e.path) : [];
  const live = wtEntry?.present && !wtEntry.prunable ? wtEntry : null;
  const worktreeBranch = live && live.branch !== branch ? (live.branch ?? "(detached HEAD)") : null;
  const base = { streamId, branchName: branch, into, sourceCommit, targetCommit, commit: null, conflictingFiles: [], filesChanged: [], worktreeUncommitted, worktreeBranch };
  // Checked before "up to date": work an agent never committed, or committed on another branch
  // or a detached HEAD in its worktree, is outside main either way.
  if (input.requireCleanWorktree && worktreeBranch) return { ...base, status: "worktree_off_branch", merged: false };
  if (input.requireCleanWorktree && worktreeUncommitted.length) return { ...base, status: "worktree_dirty", merged: false };
  if (isAncestor(root, sourceCommit, targetCommit)) return { ...base, status: "up_to_date", merged: false };

  const prediction = predictMerge(root, targetCommit, sourceCommit);
  if (!prediction.clean) {
    recordMergeConflict(store, streamId, { into, branch, files: prediction.conflicts, targetCommit, sourceCommit });
    return { ...base, status: "conflict", merged: false, conflictingFiles: prediction.conflicts };
  }
  const filesChanged = changedPaths(root, targetCommit, prediction.tree);
  // git would refuse to overwrite untracked files; say which, before anything starts.
  const changedSet = new Set(filesChanged);
  const blocking = status.filter((e) => e.code === "??" && changedSet.has(e.path));
  if (blocking.length)
    throw conflict(`the merge would overwrite untracked files in the main worktree (${preview(blocking.map((e) => e.path))}): move them away first`);

  // Committed without `git merge`: no MERGE_HEAD, no window a crash could leave half-done.
  const message = `Merge branch '${branch}' (${streamId})`;
  const commit = commitMerge(root, { branch: into, ours: targetCommit, theirs: sourceCommit, tree: prediction.tree, message, what: message });
  recordMergeDone(store, streamId, { into, branch, commit });
  return { ...base, status: "merged", merged: true, commit, filesChanged };
}
