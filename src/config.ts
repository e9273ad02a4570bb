/**
 * Environment + flags → where state lives (SPEC "Where state lives"). Validated with zod so a
 * bad variable is one clear line, not a crash later.
 */
import { mkdirSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { formatZodIssues, usageError } from "./errors.ts";
import { mainTopLevel } from "./git/git.ts";
import { defaultDbPath, expandHome, workspaceId } from "./db/location.ts";
import { isPostgresUrl, parsePostgresUrl } from "./db/pg-url.ts";
import { MACHINE_NAME } from "./sys/machine.ts";

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A stream id also names a branch (`stream-b`) and a folder: on top of ID_PATTERN, what git
 * refuses in a branch name ("a..b", a trailing "." or ".lock").
 */
export function streamIdProblem(id: string): string | null {
  if (id.includes("..")) return "a stream id may not contain '..' (it names a git branch)";
  if (id.endsWith(".")) return "a stream id may not end with '.' (it names a git branch)";
  if (id.toLowerCase().endsWith(".lock")) return "a stream id may not end with '.lock' (it names a git branch)";
  return null;
}

const envSchema = z.object({
  HTTP_API_HOST: z.string().min(1).default("127.0.0.1"),
  HTTP_API_PORT: z.coerce.number().int().min(0).max(65535).default(9090),
  TASK_DB_PATH: z.string().min(1).optional(),
  WORKSPACE_ID: z.string().regex(ID_PATTERN, "must be letters, digits, '.', '_' or '-'").optional(),
  ORCH_DB: z.string().min(1).optional(),
  ORCH_API_TOKEN: z.string().min(1).optional(),
  ORCHESTRATION_WEBHOOK_URL: z.url().optional(),
  NO_COLOR: z.string().optional(),
  /** This machine's name in a team's shared database (sys/machine.ts). */
  ORCH_MACHINE: z.string().trim().regex(MACHINE_NAME, "must be 1 to 64 letters, digits, '.', '_', '/' or '-'").optional(),
  /** How long a stream's claim lasts without a heartbeat (core/claims.ts), over the config file's team.leaseSeconds. */
  ORCH_LEASE_SECONDS: z.coerce.number().int().min(2).max(86_400).optional(),
  /** Where a reverse proxy (TLS) serves `orch serve` to people: https://orch.example.com. */
  ORCH_PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .refine((u) => /^https?:\/\/[^/?#]+\/?$/.test(u), "must be a scheme and a host, like https://orch.example.com")
    .optional(),
  /** The git remote a team's work travels through, over the config file's team.remote (CI jobs set it). */
  ORCH_REMOTE: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "must be a git remote's name, like origin").optional(),
});

export type OrchEnv = z.infer<typeof envSchema>;

export function readEnv(env: Record<string, string | undefined> = process.env): OrchEnv {
  // Empty strings mean "unset", as shells commonly leave them.
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== "") picked[key] = v;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) throw usageError(`invalid environment: ${formatZodIssues(parsed.error.issues)}`);
  return parsed.data;
}


/**
 * The project root is the main worktree's top level: an agent running inside
 * `.claude/worktrees/Stream-B` must land on the same workspace (and so the same DB) as the
 * main checkout. Outside git, the working directory.
 */
export function findProjectRoot(cwd: string = process.cwd()): string {
  return mainTopLevel(cwd) ?? resolve(cwd);
}

export function workspaceIdFor(projectRoot: string, env: OrchEnv): string {
  return workspaceId(projectRoot, env.WORKSPACE_ID);
}

export interface DbLocation {
  path: string;
  /** True when orch chose the path itself (so it may create the folder). */
  isDefault: boolean;
}

/** `--db PATH` > `ORCH_DB` > `$TASK_DB_PATH/<workspace>/tasks.db`. */
/** `root`, when the caller already knows the project root, saves running git. */
export function resolveDbPath(opts: { flag?: string; env: OrchEnv; cwd?: string; root?: string }): DbLocation {
  const cwd = opts.cwd ?? process.cwd();
  const explicit = opts.flag ?? opts.env.ORCH_DB;
  if (explicit) {
    if (explicit === ":memory:") return { path: explicit, isDefault: false };
    // A shared PostgreSQL database: checked here (a malformed URL is a usage error), opened by the store.
    if (isPostgresUrl(explicit)) return { path: parsePostgresUrl(explicit).url, isDefault: false };
    const p = expandHome(explicit);
    return { path: isAbsolute(p) ? p : resolve(cwd, p), isDefault: false };
  }
  const root = opts.root ?? findProjectRoot(cwd);
  const path = defaultDbPath({ root, cwd, taskDbPath: opts.env.TASK_DB_PATH, workspace: opts.env.WORKSPACE_ID });
  return { path, isDefault: true };
}

export function ensureDefaultDbDir(loc: DbLocation): void {
  if (loc.isDefault) mkdirSync(dirname(loc.path), { recursive: true });
}
