/**
 * A stable id for "this database", so two orch processes can tell whether they serve the same
 * one (the shared API port hand-over) without exposing its path. The file's device and inode say
 * "same file" whatever path or symlink reached it; the first migration's timestamp guards against
 * an inode reused by a newer database.
 */
import { createHash, randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import type { Store } from "./client.ts";

export function databaseId(store: Store): string {
  if (store.path === ":memory:" || store.path === "") return randomBytes(8).toString("hex");
  const st = statSync(store.path);
  const born = store.sqlite.query("SELECT applied_at AS at FROM __orch_migrations ORDER BY version LIMIT 1").get() as
    | { at: string }
    | null;
  return createHash("sha256").update(`${st.dev}:${st.ino}:${born?.at ?? ""}`).digest("hex").slice(0, 16);
}
