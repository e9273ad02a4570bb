/**
 * Typed errors carrying the one line a user sees and the exit code (SPEC: 0 ok, 1 failed, 2 usage).
 * Faces map them: the CLI prints `orch: <message>`, the API answers JSON, MCP returns isError.
 */
/** `unavailable`: the database could not be reached (a lost network, a server restarting): worth trying again. */
export type ErrorKind = "usage" | "invalid" | "not_found" | "conflict" | "failed" | "unavailable";

export class OrchError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind = "failed",
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "OrchError";
  }

  get exitCode(): 1 | 2 {
    return this.kind === "usage" || this.kind === "invalid" ? 2 : 1;
  }
}

/** Bad usage or invalid input: exit 2. */
export const usageError = (message: string, details?: unknown) => new OrchError(message, "usage", details);
export const invalidInput = (message: string, details?: unknown) => new OrchError(message, "invalid", details);
/** The thing named does not exist: exit 1. */
export const notFound = (message: string, details?: unknown) => new OrchError(message, "not_found", details);
/** The operation is refused in the current state (dependencies, dirty tree…): exit 1. */
export const conflict = (message: string, details?: unknown) => new OrchError(message, "conflict", details);
export const failed = (message: string, details?: unknown) => new OrchError(message, "failed", details);
/** The database cannot be reached now: exit 1, HTTP 503; a long-running process waits and tries again. */
export const unavailable = (message: string, details?: unknown) => new OrchError(message, "unavailable", details);

/** A stream's branch does not exist (it never had a worktree): nothing of it to merge. */
export class BranchMissingError extends OrchError {
  constructor(message: string) {
    super(message, "not_found");
    this.name = "BranchMissingError";
  }
}

export function isOrchError(err: unknown): err is OrchError {
  return err instanceof OrchError;
}

/** Render a zod issue list as one readable line: `status: invalid option …; limit: …`. */
export function formatZodIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues
    .map((i) => (i.path.length ? `${i.path.map(String).join(".")}: ${i.message}` : i.message))
    .join("; ");
}
