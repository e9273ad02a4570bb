/** Opening the database the way every command does (SPEC: --db > ORCH_DB > TASK_DB_PATH/<ws>/tasks.db). */
import { ensureDefaultDbDir, readEnv, resolveDbPath } from "../config.ts";
import { openStore, type Store } from "../db/client.ts";
import { usageError } from "../errors.ts";
import { intFlag } from "../text/int-flag.ts";

export { intFlag };

export function storeFromFlags(flags: Record<string, string | boolean | undefined>): Promise<Store> {
  const dbFlag = flags.db;
  if (dbFlag === "") throw usageError("flag --db needs a value (a PATH or a postgres:// URL)");
  const loc = resolveDbPath({ flag: typeof dbFlag === "string" ? dbFlag : undefined, env: readEnv() });
  ensureDefaultDbDir(loc);
  return openStore(loc.path);
}

/** Parse a flag's JSON value; a malformed one is a usage error naming the flag. */
export function jsonFlag(name: string, value: string | boolean | undefined): unknown {
  if (typeof value !== "string") return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw usageError(`flag --${name} is not valid JSON: ${(err as Error).message}`);
  }
}

export function listFlag(value: string | boolean | undefined): string[] | undefined {
  if (typeof value !== "string") return undefined;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export const str = (v: string | boolean | undefined): string | undefined => (typeof v === "string" ? v : undefined);

