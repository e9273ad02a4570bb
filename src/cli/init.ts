import { pending } from "./pending.ts";

export const command = pending("init", "wire Claude Code to orch");
