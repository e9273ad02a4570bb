import { pending } from "./pending.ts";

export const command = pending("serve", "REST API + live events");
