/** The database a hook's session uses: ORCH_DB, else the project's default, found without git. */
import { isAbsolute, resolve } from "node:path";
import { defaultDbPath, expandHome } from "../db/location.ts";
import { isPostgresUrl } from "../db/pg-url.ts";
import { mainTopLevelFromFs } from "../git/fs-root.ts";
import type { Env } from "./hook-log.ts";

const WORKSPACE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** null when the environment names none this fast path can use (the full handler then decides). */
export async function databasePathFor(cwd: string, env: Env): Promise<string | null> {
  if (env.ORCH_DB) {
    if (env.ORCH_DB === ":memory:" || isPostgresUrl(env.ORCH_DB)) return null;
    const p = expandHome(env.ORCH_DB);
    return isAbsolute(p) ? p : resolve(cwd, p);
  }
  if (env.WORKSPACE_ID && !WORKSPACE.test(env.WORKSPACE_ID)) return null;
  return defaultDbPath({ root: (await mainTopLevelFromFs(cwd)) ?? cwd, cwd, taskDbPath: env.TASK_DB_PATH || undefined, workspace: env.WORKSPACE_ID || undefined });
}
