import { pending } from "./pending.ts";

export const command = pending("continue", "resume a stream");
