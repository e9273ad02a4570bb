import { randomBytes } from "node:crypto";

/** `TASK-3f9a1c0b7d2e`: 48 random bits, so 10,000 tasks collide with odds ~1 in 5 million. */
export function newId(prefix: "INIT" | "PRD" | "TASK" | "WP" | "ACT"): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}
