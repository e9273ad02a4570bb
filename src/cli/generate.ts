import { pending } from "./pending.ts";

export const command = pending("generate", "write .claude/orchestration/");
