import { pending } from "./pending.ts";

export const command = pending("watch", "live terminal monitor");
