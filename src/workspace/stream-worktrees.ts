/**
 * The binding of streams to git worktrees, one module per job: naming.ts (names, the stream's
 * record, the base branch), create.ts (+ setup.ts), list.ts, remove.ts (+ census.ts, risk.ts,
 * save.ts, restore.ts: what a removal could lose, and saving it), merge.ts. This file only gathers
 * their public functions for callers that import them together.
 */
export { baseBranchOf, locateRepo, parseStreamId, SAVED_REF_PREFIX, savedRefName, streamBranchName, streamWorktreePath } from "./naming.ts";
export { uncommittedChanges } from "./census.ts";
export { createStreamWorktree, type SetupRun, type WorktreeCreateInput, type WorktreeCreateResult } from "./create.ts";
export { listStreamWorktrees, type WorktreeListResult, type WorktreeRow, type WorktreeState } from "./list.ts";
export {
  pruneStreamWorktrees,
  removeStreamWorktree,
  type PrunedSave,
  type PruneResult,
  type SavedWork,
  type Skipped,
  type WorktreeRemoveInput,
  type WorktreeRemoveResult,
} from "./remove.ts";
export { mergeStream, type MergeInput, type MergeResult } from "./merge.ts";
