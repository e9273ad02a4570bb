/** The worktree tools: thin adapters over src/workspace (the same services as `orch worktree`). */
import { z } from "zod";
import {
  worktreeCleanupSchema,
  worktreeCleanupTool,
  worktreeCreateSchema,
  worktreeCreateTool,
  worktreeListTool,
  worktreeMergeSchema,
  worktreeMergeTool,
} from "../../workspace/mcp-handlers.ts";
import { defineTool } from "../tool.ts";

export const tools = [
  defineTool({
    name: "worktree_create",
    description: "Create or reuse a stream's worktree (.claude/worktrees/<streamId>, branch <streamid>).",
    input: z.strictObject(worktreeCreateSchema.shape),
    run: ({ store, cwd }, a) => worktreeCreateTool(store, a, { cwd }),
  }),
  defineTool({
    name: "worktree_list",
    readOnly: true,
    description: "Stream worktrees vs git: branch, dirty, ahead/behind, missing/orphaned.",
    input: z.strictObject({}),
    run: ({ store, cwd }) => worktreeListTool(store, {}, { cwd }),
  }),
  defineTool({
    name: "worktree_merge",
    description: "Merge a stream's branch (--no-ff) after predicting it; a conflict changes nothing.",
    input: z.strictObject(worktreeMergeSchema.shape),
    run: ({ store, cwd }, a) => worktreeMergeTool(store, a, { cwd }),
  }),
  defineTool({
    name: "worktree_cleanup",
    description: "Remove a stream's worktree; refuses while work would be lost. force: save it first (refs/orch/saved), or refuse naming what cannot be saved.",
    input: z.strictObject(worktreeCleanupSchema.shape),
    run: ({ store, cwd }, a) => worktreeCleanupTool(store, a, { cwd }),
  }),
];
