/**
 * The four worktree MCP tools as plain functions over the same services as the CLI: each takes
 * arguments already validated by its zod schema (exported beside it, for the server to register)
 * and returns a JSON-able result, or throws an OrchError that the server turns into `isError`.
 * src/mcp/tools/worktrees.ts registers them.
 *
 * Agents cannot pass a setup command or files to copy: those come only from the project's
 * `.claude/orchestration/orchestration-config.json` (`worktree.copy`, `worktree.setup`), so a tool
 * call never runs a command of the caller's choosing.
 */
import { z } from "zod";
import type { Store } from "../db/client.ts";
import { idSchema } from "../core/schemas.ts";
import { conflict } from "../errors.ts";
import { resolveWorktreeSetup } from "./config.ts";
import { createStreamWorktree, type WorktreeCreateResult } from "./create.ts";
import { listStreamWorktrees, type WorktreeListResult } from "./list.ts";
import { mergeStream, type MergeResult } from "./merge.ts";
import { locateRepo } from "./naming.ts";
import { removeStreamWorktree, type WorktreeRemoveResult } from "./remove.ts";

const branchSchema = z.string().min(1).max(255).regex(/^[^\s~^:?*[\\]+$/, "must be a branch name");

export const worktreeCreateSchema = z.object({
  streamId: idSchema.describe("Stream whose worktree to create or reuse, e.g. Stream-B"),
  baseBranch: branchSchema.optional().describe("Branch to start from (default: the main worktree's current branch)"),
});
export const worktreeListSchema = z.object({});
export const worktreeMergeSchema = z.object({
  streamId: idSchema.describe("Stream whose branch to merge"),
  into: branchSchema.optional().describe("Target branch; must be checked out, clean, in the main worktree (default: the stream's base)"),
});
export const worktreeCleanupSchema = z.object({
  streamId: idSchema.describe("Stream whose worktree to remove"),
  force: z
    .boolean()
    .optional()
    .describe("Remove even with work only it holds, saved first to refs/orch/saved/<branch>/<timestamp>; the result lists what was saved, how to restore it, and what was not saved"),
  keepBranch: z.boolean().optional().describe("Keep the stream's branch (default: deleted once merged or saved)"),
});

export interface HandlerContext {
  /** Where the server runs (the project, or one of its worktrees); default process.cwd(). */
  cwd?: string;
}

export async function worktreeCreateTool(
  store: Store,
  args: z.infer<typeof worktreeCreateSchema>,
  ctx: HandlerContext = {},
): Promise<WorktreeCreateResult> {
  const { root } = locateRepo(ctx.cwd);
  return createStreamWorktree(store, { streamId: args.streamId, base: args.baseBranch, setup: resolveWorktreeSetup(root), cwd: ctx.cwd });
}

export function worktreeListTool(store: Store, _args: z.infer<typeof worktreeListSchema>, ctx: HandlerContext = {}): Promise<WorktreeListResult> {
  return listStreamWorktrees(store, { cwd: ctx.cwd });
}

/** A predicted conflict is a failed tool call (nothing was merged), its message naming the files. */
export async function worktreeMergeTool(store: Store, args: z.infer<typeof worktreeMergeSchema>, ctx: HandlerContext = {}): Promise<MergeResult> {
  const r = await mergeStream(store, { streamId: args.streamId, into: args.into, cwd: ctx.cwd });
  if (r.status === "conflict")
    throw conflict(
      `merging ${r.branchName} into ${r.into} would conflict in ${r.conflictingFiles.join(", ")}; nothing was changed (the conflict is recorded on ${r.streamId})`,
      r,
    );
  return r;
}

export function worktreeCleanupTool(store: Store, args: z.infer<typeof worktreeCleanupSchema>, ctx: HandlerContext = {}): Promise<WorktreeRemoveResult> {
  return removeStreamWorktree(store, { streamId: args.streamId, force: args.force, keepBranch: args.keepBranch, cwd: ctx.cwd });
}
