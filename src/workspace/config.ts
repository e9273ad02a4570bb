/**
 * What a new worktree needs besides git's checkout: files to copy from the main worktree
 * (`.mcp.json` always, plus e.g. `.env`) and a setup command (e.g. `bun install`).
 *
 * Read from `.claude/orchestration/orchestration-config.json` when it has a `worktree` key:
 *   "worktree": { "copy": [".env", ".env.local"], "setup": "bun install" }
 * (`setup` may also be an argv array: ["bun", "install", "--frozen-lockfile"]). Flags win over
 * the file. The command runs without a shell: a string is split on whitespace.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, normalize } from "node:path";
import { z } from "zod";
import { formatZodIssues, usageError } from "../errors.ts";

import { CONFIG_FILE } from "../paths.ts";

export { CONFIG_FILE };
/**
 * Always carried over when present and the worktree lacks them: how an agent there reaches orch,
 * and the project's Claude Code settings (permissions, hooks), which Claude Code reads only from
 * the session's own worktree. Never overwritten; kept out of the agents' commits.
 */
export const ALWAYS_COPY = [".mcp.json", ".claude/settings.json", ".claude/settings.local.json"] as const;

/** A path relative to the project root that stays inside it. */
export const copyPathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !isAbsolute(p) && !p.includes("\0"), "must be a relative path")
  .transform((p) => normalize(p).replace(/\/+$/, ""))
  .refine((p) => p !== "." && p !== ".." && !p.startsWith("../") && p !== ".git" && !p.startsWith(".git/"), "must stay inside the project (no '..', not .git)");

export const setupSchema = z.union([z.string(), z.array(z.string().min(1)).min(1)]);

export const worktreeConfigSchema = z.object({
  copy: z.array(copyPathSchema).optional(),
  setup: setupSchema.optional(),
});

export interface WorktreeSetup {
  copy: string[];
  /** argv, or null for none. */
  setup: string[] | null;
}

/** A command as argv: a JSON array (`["bun","install"]`) or a string split on whitespace. */
export function parseSetupCommand(value: string | readonly string[]): string[] | null {
  if (Array.isArray(value)) return value.length ? [...value] : null;
  const s = (value as string).trim();
  if (!s) return null;
  if (s.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch (err) {
      throw usageError(`setup command is not a valid JSON array: ${(err as Error).message}`);
    }
    const r = z.array(z.string().min(1)).safeParse(parsed);
    if (!r.success) throw usageError("setup command as JSON must be an array of non-empty strings");
    return r.data.length ? r.data : null;
  }
  return s.split(/\s+/);
}

export function parseCopyList(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of list) {
    const r = copyPathSchema.safeParse(p);
    if (!r.success) throw usageError(`cannot copy "${p}": ${r.error.issues[0]!.message}`);
    if (!out.includes(r.data)) out.push(r.data);
  }
  return out;
}

/** The `worktree` section of the orchestration config, if the file and key exist. */
export function readWorktreeConfig(root: string): { copy?: string[]; setup?: string | string[] } {
  const file = join(root, CONFIG_FILE);
  if (!existsSync(file)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw usageError(`${CONFIG_FILE} is not valid JSON: ${(err as Error).message}`);
  }
  const section = (json as { worktree?: unknown } | null)?.worktree;
  if (section === undefined) return {};
  const r = worktreeConfigSchema.safeParse(section);
  if (!r.success) throw usageError(`${CONFIG_FILE}: worktree: ${formatZodIssues(r.error.issues)}`);
  return r.data;
}

/** Flags (when given) over the config file; ALWAYS_COPY first. */
export function resolveWorktreeSetup(root: string, flags: { copy?: readonly string[]; setup?: string | readonly string[] } = {}): WorktreeSetup {
  const file = readWorktreeConfig(root);
  const copy = parseCopyList([...ALWAYS_COPY, ...(flags.copy ?? file.copy ?? [])]);
  const setupValue = flags.setup ?? file.setup;
  return { copy, setup: setupValue === undefined ? null : parseSetupCommand(setupValue) };
}
