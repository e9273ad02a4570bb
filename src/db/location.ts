/**
 * Where the default database of a project lives — `$TASK_DB_PATH/<workspace>/tasks.db`, the
 * workspace being WORKSPACE_ID or 12 hex of the project root's md5 — without zod or git, so a
 * Claude Code hook (run on every tool call) can find it for the cost of a hash.
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

export function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : p;
}

export function workspaceId(projectRoot: string, workspace: string | undefined): string {
  // Bun's own hasher: loading node:crypto would cost a hook more than its whole write.
  return workspace ?? new Bun.CryptoHasher("md5").update(projectRoot).digest("hex").slice(0, 12);
}

export function defaultDbPath(o: { root: string; cwd: string; taskDbPath?: string; workspace?: string }): string {
  const base = expandHome(o.taskDbPath ?? join(homedir(), ".claude", "tasks"));
  return join(isAbsolute(base) ? base : resolve(o.cwd, base), workspaceId(o.root, o.workspace), "tasks.db");
}
