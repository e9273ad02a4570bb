import { pending } from "./pending.ts";

export const command = pending("worktree", "worktree manager");
