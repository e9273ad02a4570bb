/**
 * What a database error means for the one who got it: the server gave up on a transaction
 * (worth running again), or the server could not be reached (a lost network, a restart: worth
 * waiting for). By codes only — SQLSTATE or Bun's client code, looking through drizzle's wrapper —
 * never by wording.
 */
import { isOrchError } from "../errors.ts";

/** The SQLSTATE or Bun's client code of an error, looking through drizzle's wrapper. */
export function errorCodes(err: unknown): { state?: string; code?: string } {
  for (let e = err as { errno?: unknown; code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const state = typeof e.errno === "string" && /^[0-9A-Z]{5}$/.test(e.errno) ? e.errno : undefined;
    const code = typeof e.code === "string" && e.code.startsWith("ERR_POSTGRES_") ? e.code : undefined;
    if (state || code) return { state, code };
  }
  return {};
}

/** Worth running the whole transaction again: the server gave up on it, or never got to it. */
export function retryable(err: unknown): "conflict" | "connection" | null {
  const { state, code } = errorCodes(err);
  // Serialization failure, deadlock, a lock_timeout the server (or its admin) set: run it again.
  if (state === "40001" || state === "40P01" || state === "55P03") return "conflict";
  // Connection lost or refused (a restart), the server shutting down or starting up.
  if (state?.startsWith("08") || state === "57P01" || state === "57P02" || state === "57P03") return "connection";
  if (code && /CONNECTION_(CLOSED|REFUSED|TIMEOUT|FAILED)|IDLE_TIMEOUT|LIFETIME_TIMEOUT/.test(code)) return "connection";
  return null;
}

/** The database could not be reached (as opposed to refusing what was asked): a long-running process waits for it. */
export function databaseUnavailable(err: unknown): boolean {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (isOrchError(e) && e.kind === "unavailable") return true;
  }
  return retryable(err) === "connection";
}
