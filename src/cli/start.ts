import { pending } from "./pending.ts";

export const command = pending("start", "run the three phases");
