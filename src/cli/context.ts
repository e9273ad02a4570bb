/** Opening the database the way every command does (SPEC: --db > ORCH_DB > TASK_DB_PATH/<ws>/tasks.db). */
import { ensureDefaultDbDir, readEnv, resolveDbPath } from "../config.ts";
import { openStore, type Store } from "../db/client.ts";
import { usageError } from "../errors.ts";

export function storeFromFlags(flags: Record<string, string | boolean | undefined>): Store {
  const dbFlag = flags.db;
  if (dbFlag === "") throw usageError("flag --db needs a value (PATH)");
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

/**
 * A whole-number flag within [min, max]; `fallback` when absent. One rule and one message shape
 * for every numeric flag: `flag --pause must be a whole number from 0 to 60000, not "soon"`.
 */
export function intFlag(name: string, value: string | boolean | undefined, range: { min: number; max: number }): number | undefined;
export function intFlag(name: string, value: string | boolean | undefined, range: { min: number; max: number }, fallback: number): number;
export function intFlag(name: string, value: string | boolean | undefined, range: { min: number; max: number }, fallback?: number): number | undefined {
  if (typeof value !== "string") return fallback;
  if (!/^\d+$/.test(value) || Number(value) < range.min || Number(value) > range.max)
    throw usageError(`flag --${name} must be a whole number from ${range.min} to ${range.max}, not "${value}"`);
  return Number(value);
}
