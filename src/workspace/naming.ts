/**
 * How a stream is bound to git: `.claude/worktrees/<StreamId>` on branch `<streamid lower-cased>`,
 * the base branch it merges into (recorded in git config at creation), the repository it lives
 * in, where saved work goes, and the stream's record. Shared by create, list, remove and merge.
 */
import { join, relative } from "node:path";
import { realpathSync } from "node:fs";
import type { Store } from "../db/client.ts";
import { getStream, type StreamView } from "../core/streams.ts";
import { streamIdSchema } from "../core/schemas.ts";
import { isOrchError, notFound, usageError } from "../errors.ts";
import { currentBranch, getConfig, repoInfo, type RepoInfo } from "../git/repo.ts";
import { branchFor, worktreeFor } from "../paths.ts";

/** Where forced removals and prunes save work: `refs/orch/saved/<branch>/<timestamp>`. */
export const SAVED_REF_PREFIX = "refs/orch/saved";

/** Validate a stream id before any path or branch name is built from it (exit 2 when bad). */
export function parseStreamId(value: unknown): string {
  const r = streamIdSchema.safeParse(value);
  if (!r.success) throw usageError(`invalid stream id ${JSON.stringify(value)}: ${r.error.issues[0]!.message}`);
  return r.data;
}

/** The stream's branch, short (`stream-b`); git is always given `refs/heads/stream-b`. */
export const streamBranchName = (streamId: string): string => branchFor(streamId);
export const streamWorktreePath = (root: string, streamId: string): string => join(root, worktreeFor(streamId));
export const headsRef = (branch: string): string => `refs/heads/${branch}`;

export const baseKey = (branch: string) => `branch.${branch}.orchBase`;
/** Set while a new worktree's copy and setup run: an orch killed meanwhile leaves it, and the next
 * create (`orch start --resume` makes one) runs them again instead of reusing a half-set-up tree. */
export const setupPendingKey = (branch: string) => `branch.${branch}.orchSetupPending`;

/** The branch a stream merges into: recorded at creation, else what the main worktree has out. */
export function baseBranchOf(root: string, branch: string): string | null {
  return getConfig(root, baseKey(branch)) ?? currentBranch(root);
}

export function locateRepo(cwd: string = process.cwd()): RepoInfo {
  return repoInfo(cwd);
}

export function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** The stream's record (archived ones too), or null. */
export async function findStream(store: Store, streamId: string): Promise<StreamView | null> {
  try {
    return await getStream(store, streamId, { includeArchived: true });
  } catch (err) {
    if (isOrchError(err) && err.kind === "not_found") return null;
    throw err;
  }
}

export async function requireStream(store: Store, streamId: string): Promise<StreamView> {
  const s = await findStream(store, streamId);
  if (!s) throw notFound(`Stream not found: ${streamId}`, { streamId });
  return s;
}

/** `refs/orch/saved/<branch>/<UTC timestamp to the millisecond>`. */
export function savedRefName(branch: string, at: Date = new Date()): string {
  const ts = at.toISOString().replace(/[-:]/g, "").replace(".", "");
  return `${SAVED_REF_PREFIX}/${branch}/${ts}`;
}

export const rel = (root: string, p: string) => relative(root, p) || ".";
/** A path (or any name) for a one-line message: quoted and escaped when it holds a control character. */
export const shown = (p: string): string => (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(p) ? JSON.stringify(p) : p);
export const preview = (xs: readonly string[], n = 5) => xs.slice(0, n).map(shown).join(", ") + (xs.length > n ? `, … (${xs.length - n} more)` : "");
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A word for a POSIX shell: quoted unless it is plainly safe. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-][A-Za-z0-9_./:=@%+,~-]*$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
