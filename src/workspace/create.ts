/**
 * Creating (or reusing) a stream's worktree: `.claude/worktrees/<StreamId>` on its branch, started
 * from the base branch by its full ref name, under the stream's lock. A stale registration of the
 * same path is pruned only after what it alone held is saved; a failed setup undoes only what
 * this call made, and never deletes a branch that moved meanwhile.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Store } from "../db/client.ts";
import { setStreamWorktree, type StreamView } from "../core/streams.ts";
import { conflict, failed, usageError } from "../errors.ts";
import { branchCommit, currentBranch, deleteBranchAt, ensureExcluded, getConfig, hasCommits, isValidBranchName, setConfig, unsetConfig } from "../git/repo.ts";
import { addWorktree, listWorktrees, removeWorktree, type WorktreeEntry } from "../git/worktrees.ts";
import type { WorktreeSetup } from "./config.ts";
import { streamLock, withFileLock } from "./lock.ts";
import { baseKey, headsRef, locateRepo, parseStreamId, rel, requireStream, samePath, setupPendingKey, streamBranchName, streamWorktreePath } from "./naming.ts";
import { pruneSafely, type PrunedSave } from "./save.ts";
import { copyIntoWorktree, runSetup, type SetupRun } from "./setup.ts";
import { ALWAYS_COPY } from "./config.ts";
import { EXCLUDE_PATTERNS } from "../paths.ts";

export type { SetupRun };

export interface WorktreeCreateInput {
  streamId: string;
  /** Branch to start a new stream branch from; default: the main worktree's current branch. */
  base?: string;
  setup?: WorktreeSetup;
  cwd?: string;
  /** Live output of the setup command (the CLI passes stderr). */
  onOutput?: (chunk: string) => void;
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
  /** What stale registrations pruned on the way held alone, saved first (see `orch worktree prune`). */
  pruneSaved: PrunedSave[];
}

export async function createStreamWorktree(store: Store, input: WorktreeCreateInput): Promise<WorktreeCreateResult> {
  const streamId = parseStreamId(input.streamId);
  const stream = await requireStream(store, streamId);
  const repo = locateRepo(input.cwd);
  const root = repo.root;
  if (!hasCommits(root)) throw failed(`the repository at ${root} has no commits yet: commit something before creating worktrees`);
  const branch = streamBranchName(streamId);
  if (!isValidBranchName(root, branch)) throw usageError(`stream id ${streamId} does not make a valid git branch name ("${branch}")`);
  const path = streamWorktreePath(root, streamId);
  const excludeAdded = ensureExcluded(repo, EXCLUDE_PATTERNS);
  // Checked again under the lock: two agents continuing one stream must not both `git worktree add`.
  return withFileLock(streamLock(repo.commonDir, branch), `creating the worktree of ${streamId}`, () =>
    createLocked({ store, input, stream, root, commonDir: repo.commonDir, streamId, branch, path, excludeAdded }),
  );
}

interface Ctx {
  store: Store;
  input: WorktreeCreateInput;
  stream: StreamView;
  root: string;
  commonDir: string;
  streamId: string;
  branch: string;
  path: string;
  excludeAdded: string[];
}

/** The branch the stream merges into: --base (a local branch), else recorded, else the main worktree's. */
function resolveBase(c: Ctx): string {
  const { input, root, branch } = c;
  if (input.base !== undefined) {
    if (!input.base || !branchCommit(root, input.base)) throw usageError(`base branch not found: ${input.base}`);
    return input.base;
  }
  const b = getConfig(root, baseKey(branch)) ?? currentBranch(root);
  if (!b) throw usageError(`the main worktree has a detached HEAD: pass --base BRANCH`);
  return b;
}

function healthyEntry(c: Ctx, entries: WorktreeEntry[]): WorktreeEntry | null {
  const at = entries.find((w) => samePath(w.path, c.path));
  if (!at || at.prunable || !at.present) return null;
  if (at.branch !== c.branch)
    throw conflict(`${rel(c.root, c.path)} is checked out on ${at.branch ?? "a detached HEAD"}, not ${c.branch}: switch it back (git -C "${c.path}" switch ${c.branch})`);
  return at;
}

async function createLocked(c: Ctx): Promise<WorktreeCreateResult> {
  const base = resolveBase(c);
  const result = (r: Partial<WorktreeCreateResult>): WorktreeCreateResult => ({
    streamId: c.streamId,
    worktreePath: c.path,
    relativePath: rel(c.root, c.path),
    branchName: c.branch,
    baseBranch: base,
    created: false,
    reused: false,
    branchCreated: false,
    repaired: false,
    copied: [],
    setup: null,
    excludeAdded: c.excludeAdded,
    pruneSaved: [],
    ...r,
  });
  let entries = listWorktrees(c.root);
  if (healthyEntry(c, entries)) return result(await reuse(c, base));
  let repaired = false;
  let pruneSaved: PrunedSave[] = [];
  if (entries.some((w) => w.path === c.path || samePath(w.path, c.path))) {
    pruneSaved = pruneSafely(c.root, c.commonDir).saved;
    repaired = true;
    entries = listWorktrees(c.root);
  }
  return result({ ...(await checkOut(c, base, entries)), repaired, pruneSaved });
}

/** A healthy worktree is kept; a creation cut short during setup is finished. */
async function reuse(c: Ctx, base: string): Promise<Partial<WorktreeCreateResult>> {
  const { root, branch, path, input } = c;
  if (input.base !== undefined) setConfig(root, baseKey(branch), base);
  // Failing again leaves the worktree and the mark as they are (nothing is removed from a tree that is not new).
  const interrupted = getConfig(root, setupPendingKey(branch)) !== null;
  // How an agent there reaches orch (.mcp.json, Claude Code's settings with orch's hooks) may have
  // come to the main checkout after the worktree was made (orch init run later): copied if missing.
  const reach = (input.setup?.copy ?? []).filter((p) => (ALWAYS_COPY as readonly string[]).includes(p));
  const copied = copyIntoWorktree(root, path, interrupted ? (input.setup?.copy ?? []) : reach);
  const setup = interrupted && input.setup?.setup ? await runSetup(input.setup.setup, path, c.streamId, input.onOutput, false) : null;
  if (interrupted) unsetConfig(root, setupPendingKey(branch));
  await record(c.store, c.stream, path, branch);
  return { reused: true, copied, setup, baseBranch: getConfig(root, baseKey(branch)) ?? base };
}

/** A new worktree: checked out (the branch made from the base's full ref if new), copied into, set up. */
async function checkOut(c: Ctx, base: string, entries: WorktreeEntry[]): Promise<Partial<WorktreeCreateResult>> {
  const { root, branch, path, input } = c;
  if (existsSync(path) && !isEmptyDir(path))
    throw conflict(`${rel(root, path)} exists but is not a git worktree: move it away (orch will not delete it)`);
  const elsewhere = entries.find((w) => w.branch === branch && !samePath(w.path, path));
  if (elsewhere) throw conflict(`branch ${branch} is already checked out at ${elsewhere.path}: Stream ${c.streamId} needs it in ${rel(root, path)}`);
  const branchExisted = branchCommit(root, branch) !== null;
  mkdirSync(dirname(path), { recursive: true });
  addWorktree(root, path, branch, branchExisted ? undefined : headsRef(base));
  const start = branchCommit(root, branch)!;
  if (!branchExisted || input.base !== undefined || !getConfig(root, baseKey(branch))) setConfig(root, baseKey(branch), base);
  let copied: string[] = [];
  let setup: SetupRun | null = null;
  setConfig(root, setupPendingKey(branch), "true");
  try {
    copied = copyIntoWorktree(root, path, input.setup?.copy ?? []);
    if (input.setup?.setup) setup = await runSetup(input.setup.setup, path, c.streamId, input.onOutput);
  } catch (err) {
    // Only what this call just made is undone: a fresh checkout holds no one's work yet.
    rollback(root, path, branchExisted ? null : { branch, start });
    unsetConfig(root, setupPendingKey(branch));
    throw err;
  }
  unsetConfig(root, setupPendingKey(branch));
  await record(c.store, c.stream, path, branch);
  return { created: true, branchCreated: !branchExisted, copied, setup, baseBranch: base };
}

function isEmptyDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory() && readdirSync(p).length === 0;
  } catch {
    return false;
  }
}

async function record(store: Store, stream: StreamView, path: string, branch: string): Promise<void> {
  if (stream.worktreePath === path && stream.branchName === branch) return;
  await setStreamWorktree(store, stream.streamId, { worktreePath: path, branchName: branch });
}

/** Undo a creation whose setup failed: the fresh worktree, and the branch it made if it is still where it started. */
function rollback(root: string, path: string, created: { branch: string; start: string } | null): void {
  try {
    removeWorktree(root, path, { force: true });
  } catch {
    // Left for `orch worktree prune` / a retry; the error being reported matters more.
  }
  if (created && branchCommit(root, created.branch) === created.start) {
    try {
      deleteBranchAt(root, created.branch, created.start);
    } catch {
      // as above
    }
  }
}
