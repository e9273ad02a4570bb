/**
 * Removing a stream's worktree (and its branch once nothing only it holds would go with it), and
 * pruning registrations whose folders are gone. The rule: before anything is deleted, every piece
 * of work reachable only from there is known (census.ts). Without --force, removal refuses and
 * names it; with --force it is saved first — refs, checked byte for byte, and nested repositories
 * moved whole — and the printed steps bring it back; what orch cannot save is refused even with
 * --force, and what it never saves (ignored build output, files over the size limit) is named.
 */
import { existsSync } from "node:fs";
import type { Store } from "../db/client.ts";
import { setStreamWorktree, listStreams, type StreamView } from "../core/streams.ts";
import { conflict, failed, isOrchError, notFound } from "../errors.ts";
import { branchCommit, deleteBranchAt } from "../git/repo.ts";
import { snapshotWorktree, type Snapshot } from "../git/snapshot.ts";
import { listWorktrees, removeWorktree, type WorktreeEntry } from "../git/worktrees.ts";
import { commitsAtRisk, worktreeCensus, type WorktreeCensus } from "./census.ts";
import { streamLock, withFileLock } from "./lock.ts";
import {
  baseBranchOf,
  findStream,
  locateRepo,
  parseStreamId,
  preview,
  rel,
  shown,
  SAVED_REF_PREFIX,
  samePath,
  streamBranchName,
  streamWorktreePath,
} from "./naming.ts";
import { describeRisk, joinWork, type RiskReport, type Skipped } from "./risk.ts";
import { pruneSafely, saveRemoval, type PrunedSave, type SavedWork } from "./save.ts";
import type { RestorePlan } from "./restore.ts";

export type { PrunedSave, SavedWork, Skipped };

export interface WorktreeRemoveResult {
  streamId: string;
  worktreePath: string;
  branchName: string | null;
  baseBranch: string | null;
  /** The worktree folder and its registration are gone. */
  removed: boolean;
  branchDeleted: boolean;
  saved: SavedWork | null;
  /** Deleted without being saved, and why (ignored build output, files over the size limit, an operation's state). */
  skipped: Skipped[];
  /** Stale registrations pruned on the way, and what they alone held (saved). */
  pruneSaved: PrunedSave[];
}

export interface WorktreeRemoveInput {
  streamId: string;
  force?: boolean;
  /** Keep the stream's branch (by default it goes once nothing only it holds would be lost, or saved with --force). */
  keepBranch?: boolean;
  cwd?: string;
  /** Flags the printed `orch worktree create` needs to reach the same database (`--db PATH`). */
  orchFlags?: string[];
}

export function removeStreamWorktree(store: Store, input: WorktreeRemoveInput): Promise<WorktreeRemoveResult> {
  const streamId = parseStreamId(input.streamId);
  const repo = locateRepo(input.cwd);
  return withFileLock(
    streamLock(repo.commonDir, streamBranchName(streamId)),
    `removal of ${streamId}'s worktree`,
    () => removeLocked(store, { ...input, streamId }, repo.root, repo.commonDir),
    5 * 60_000,
  );
}

interface Target {
  stream: StreamView | null;
  path: string;
  entry: WorktreeEntry | undefined;
  branch: string;
  branchTip: string | null;
  base: string | null;
  deleting: boolean;
}

/** Which worktree and branch the removal is about; refuses a folder that is not a worktree. */
async function target(store: Store, input: WorktreeRemoveInput, root: string): Promise<Target> {
  const { streamId } = input;
  const stream = await findStream(store, streamId);
  const path = stream?.worktreePath ?? streamWorktreePath(root, streamId);
  const entries = listWorktrees(root);
  const entry = entries.find((w) => samePath(w.path, path) || w.path === path);
  // The stream's own branch — never one its agent switched the worktree to.
  const branch = stream?.branchName ?? (stream ? null : entry?.branch) ?? streamBranchName(streamId);
  if (!entry && existsSync(path)) throw conflict(`${rel(root, path)} is not a git worktree: orch will not delete it`);
  if (!entry && !stream) throw notFound(`Stream not found: ${streamId}`, { streamId });
  const branchTip = branchCommit(root, branch);
  const base = baseBranchOf(root, branch);
  const inUseElsewhere = entries.some((w) => w.branch === branch && w !== entry && !samePath(w.path, path));
  const deleting = !input.keepBranch && !!branchTip && branch !== base && !inUseElsewhere;
  return { stream, path, entry, branch, branchTip, base, deleting };
}

function refuse(streamId: string, t: Target, risk: RiskReport, force: boolean): never {
  const what = t.entry ? "the worktree" : `branch ${t.branch}`;
  const details = { work: risk.work, unsavable: risk.unsavable, tooLarge: risk.tooLarge };
  const cannot = joinWork(risk.unsavable);
  if (force)
    throw conflict(`refusing to remove ${what} of ${streamId} even with --force: it has ${cannot}, which orch cannot save; move it out of the worktree (or commit it) first; nothing was changed`, details);
  const parts = joinWork([...risk.work, ...risk.tooLarge.map((s) => `${shown(s.path)} (${s.why})`)]);
  if (risk.unsavable.length)
    throw conflict(
      `refusing to remove ${what} of ${streamId}: it has ${parts ? `${parts}, and ` : ""}${cannot}, which orch cannot save even with --force: move it out of the worktree (or commit it) first`,
      details,
    );
  const saves = risk.tooLarge.length ? "all but the files over the size limit" : "it";
  throw conflict(`refusing to remove ${what} of ${streamId}: it has ${parts}; merge first (orch worktree merge ${streamId}) or pass --force to save ${saves} to ${SAVED_REF_PREFIX}/${t.branch}/… and remove`, details);
}

async function removeLocked(store: Store, input: WorktreeRemoveInput & { streamId: string }, root: string, commonDir: string): Promise<WorktreeRemoveResult> {
  const { streamId } = input;
  let t = await target(store, input, root);
  let pruneSaved: PrunedSave[] = [];
  const hadEntry = !!t.entry;
  if (t.entry?.prunable && existsSync(t.path))
    throw conflict(
      `${rel(root, t.path)} is registered as a worktree but git cannot use it (its .git file is missing or points nowhere): orch will not delete it; repair it with "git worktree repair ${t.path}" or move it away`,
    );
  if (t.entry && !(t.entry.present && !t.entry.prunable)) {
    // Its folder is gone: forget the registration, after saving what only it held.
    pruneSaved = pruneSafely(root, commonDir).saved;
    t = { ...t, entry: undefined };
  }
  if (!hadEntry && !t.deleting) {
    if (t.stream?.worktreePath) await setStreamWorktree(store, streamId, { worktreePath: null, branchName: t.stream.branchName });
    throw notFound(`Stream ${streamId} has no worktree${t.stream?.worktreePath ? " (its stale record was cleared)" : ""}`);
  }
  if (t.entry?.locked && !input.force)
    throw conflict(`${rel(root, t.path)} is locked${t.entry.lockReason ? ` (${t.entry.lockReason})` : ""}: unlock it (git worktree unlock) or pass --force`);

  const census = t.entry ? worktreeCensus(root, t.path) : null;
  const commits = commitsAtRisk(root, { wt: t.path, head: census?.head ?? null, branch: t.branch, branchTip: t.branchTip, deleting: t.deleting });
  const risk = describeRisk({ census, branch: t.branch, base: t.base, branchCommits: commits.branch, headCommits: commits.head });
  if (!input.force && (risk.work.length || risk.unsavable.length || risk.tooLarge.length)) refuse(streamId, t, risk, false);
  if (risk.unsavable.length) refuse(streamId, t, risk, true);

  const snapshot = input.force && risk.work.length && census?.head ? takeSnapshot(root, t, census) : null;
  if (snapshot?.inexact.length)
    refuse(streamId, t, { ...risk, unsavable: [`files whose bytes git would not give back exactly (${preview(snapshot.inexact)})`] }, true);
  const saved = input.force && risk.work.length ? save(input, root, commonDir, t, census, snapshot, risk) : null;
  return finish(store, input, root, t, { saved, skipped: skippedOf(risk, census, snapshot, !!input.force), pruneSaved, hadEntry });
}

function takeSnapshot(root: string, t: Target, census: WorktreeCensus): Snapshot {
  const ignored = [...census.ignored.map((f) => f.path), ...census.uncommitted.filter((e) => e.code === "??" && !e.path.endsWith("/")).map((e) => e.path)];
  return snapshotWorktree({
    path: t.path,
    head: census.head!,
    ignored,
    exclude: census.nested.filter((n) => !n.ignored).map((n) => n.path),
    message: `orch: work of ${t.stream?.streamId ?? t.branch} saved before forced removal\n\nWorktree: ${rel(root, t.path)}\nBranch: ${t.branch}`,
  });
}

function save(
  input: WorktreeRemoveInput & { streamId: string },
  root: string,
  commonDir: string,
  t: Target,
  census: WorktreeCensus | null,
  snapshot: Snapshot | null,
  risk: RiskReport,
): SavedWork {
  const head: RestorePlan["head"] =
    census?.branch === t.branch ? { kind: "branch" } : census?.branch ? { kind: "other", branch: census.branch } : !census && t.deleting ? { kind: "branch" } : { kind: "detached" };
  return saveRemoval({
    root,
    commonDir,
    wt: t.path,
    snapshot,
    branchTip: t.branchTip,
    nested: census?.nested ?? [],
    items: risk.work,
    plan: {
      streamId: t.stream ? input.streamId : null,
      orchFlags: input.orchFlags ?? [],
      branch: t.branch,
      branchDeleted: t.deleting,
      worktree: rel(root, t.stream ? streamWorktreePath(root, input.streamId) : t.path),
      worktreeExisted: !!census,
      head,
    },
  });
}

function skippedOf(risk: RiskReport, census: WorktreeCensus | null, snapshot: Snapshot | null, force: boolean): Skipped[] {
  const skipped = [...risk.skipped, ...(force ? risk.tooLarge : [])];
  if (force && census?.operation)
    skipped.push({ path: `(${census.operation})`, why: "its state (MERGE_HEAD, a rebase's todo list…) is not saved; its commits and files are" });
  if (snapshot?.indexUnsaved) skipped.push({ path: "(the index)", why: snapshot.indexUnsaved });
  return skipped;
}

async function finish(
  store: Store,
  input: WorktreeRemoveInput & { streamId: string },
  root: string,
  t: Target,
  r: { saved: SavedWork | null; skipped: Skipped[]; pruneSaved: PrunedSave[]; hadEntry: boolean },
): Promise<WorktreeRemoveResult> {
  if (t.entry) removeSaying(root, t, r.saved);
  // Compare-and-swap: a commit made on the branch during the removal keeps it.
  const branchDeleted = t.deleting && !!t.branchTip && deleteBranchAt(root, t.branch, t.branchTip);
  const stream = t.stream;
  if (stream && (stream.worktreePath !== null || branchDeleted))
    await setStreamWorktree(store, input.streamId, { worktreePath: null, branchName: branchDeleted ? null : t.branch });
  return {
    streamId: input.streamId,
    worktreePath: t.path,
    branchName: t.branch,
    baseBranch: t.base,
    removed: r.hadEntry && !listWorktrees(root).some((w) => w.path === t.path || samePath(w.path, t.path)),
    branchDeleted,
    saved: r.saved,
    skipped: r.skipped,
    pruneSaved: r.pruneSaved,
  };
}

/** `git worktree remove`; should it fail after a save, the error says where the save is. */
function removeSaying(root: string, t: Target, saved: SavedWork | null): void {
  try {
    removeWorktree(root, t.path, { force: true, locked: t.entry!.locked });
  } catch (err) {
    if (!saved || !isOrchError(err)) throw err;
    const moved = saved.moved.map((m) => `${m.path} is now at ${m.to}`);
    throw failed(`${err.message}; what it alone held was saved first to ${saved.refs.map((x) => x.ref).join(" and ") || "(no ref)"}${moved.length ? `, and ${moved.join(", ")}` : ""}`, { saved });
  }
}

// ── prune ───────────────────────────────────────────────────────────────────

export interface PruneResult {
  /** Worktree registrations git dropped because their folders were gone. */
  pruned: string[];
  /** Streams whose recorded worktree no longer exists, now cleared. */
  streamsCleared: string[];
  /** What pruned registrations alone held (a detached HEAD's commits, staged changes), saved first. */
  saved: PrunedSave[];
}

export async function pruneStreamWorktrees(store: Store, opts: { cwd?: string } = {}): Promise<PruneResult> {
  const { root, commonDir } = locateRepo(opts.cwd);
  const { pruned, saved } = pruneSafely(root, commonDir);
  const live = listWorktrees(root);
  const streamsCleared: string[] = [];
  for (const s of await listStreams(store, { includeArchived: true })) {
    if (!s.worktreePath) continue;
    if (live.some((w) => samePath(w.path, s.worktreePath!) || w.path === s.worktreePath)) continue;
    const branchLives = !!s.branchName && branchCommit(root, s.branchName) !== null;
    await setStreamWorktree(store, s.streamId, { worktreePath: null, branchName: branchLives ? s.branchName : null });
    streamsCleared.push(s.streamId);
  }
  return { pruned, streamsCleared, saved };
}
