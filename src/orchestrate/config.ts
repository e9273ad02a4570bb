/**
 * The run settings: flags > `.claude/orchestration/orchestration-config.json` > defaults. The
 * config file is the guide's (written by `orch generate`); orch reads its `maxParallelStreams`
 * and, when present, `agentCommand`, `launcher`, `restartLimit` and `stallTimeout` (seconds).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DEFAULT_MAX_PARALLEL } from "../core/graph.ts";
import { intFlag } from "../text/int-flag.ts";
import { failed, formatZodIssues, usageError } from "../errors.ts";
import { CONFIG_FILE } from "../paths.ts";
import { checkTemplate, defaultAgentCommand } from "./agent-command.ts";
import { ruleProblem, type Policy } from "../core/policy.ts";
import { DEFAULT_QUESTION_TIMEOUT_MS } from "../core/inbox.ts";

export const LAUNCHERS = ["manual", "tmux", "headless"] as const;
export type LauncherName = (typeof LAUNCHERS)[number];

const fileSchema = z
  .object({
    maxParallelStreams: z.number().int().min(1).optional(),
    agentCommand: z.string().min(1).optional(),
    launcher: z.enum(LAUNCHERS).optional(),
    restartLimit: z.number().int().min(0).max(100).optional(),
    stallTimeout: z.number().int().min(1).optional(),
    policy: z
      .object({
        allow: z.array(z.string().refine((r) => ruleProblem(r) === null, "not a rule like Bash(npm test:*)")).optional(),
        deny: z.array(z.string().refine((r) => ruleProblem(r) === null, "not a rule like Bash(git push:*)")).optional(),
      })
      .optional(),
    /** Seconds a question waits for a person before it is denied. */
    questionTimeout: z.number().int().min(1).max(86_400).optional(),
    team: z
      .object({
        leaseSeconds: z.number().int().min(2).max(86_400).optional(),
        heartbeatSeconds: z.number().int().min(1).max(86_400).optional(),
        /** The git remote streams' work travels through between machines (orchestrate/travel-step.ts). */
        remote: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "a git remote's name, like origin").optional(),
      })
      .optional(),
    budget: z
      .object({
        streamUsd: z.number().positive().optional(),
        initiativeUsd: z.number().positive().optional(),
        streamTokens: z.number().int().positive().optional(),
        initiativeTokens: z.number().int().positive().optional(),
      })
      .optional(),
  })
  .loose();

export interface NeedsYouSettings {
  policy: Policy;
  questionTimeoutMs: number;
}

/** The permission policy and question timeout; a missing or unreadable file means none. */
export function readNeedsYouSettings(root: string): NeedsYouSettings {
  const file = readConfig(root);
  return {
    policy: { allow: file.policy?.allow ?? [], deny: file.policy?.deny ?? [] },
    questionTimeoutMs: file.questionTimeout !== undefined ? file.questionTimeout * 1000 : DEFAULT_QUESTION_TIMEOUT_MS,
  };
}

export type BudgetConfig = NonNullable<z.infer<typeof fileSchema>["budget"]>;

export function readBudgetConfig(root: string): BudgetConfig {
  return readConfig(root).budget ?? {};
}

/** A dollar amount given on the command line (`label` names it in the error): positive, at most a million, cents at most. */
export function usdAmount(label: string, value: string | boolean | undefined, opts: { allowZero?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^\d+(\.\d{1,2})?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n <= 1_000_000 && (opts.allowZero ? n >= 0 : n > 0)))
    throw usageError(`${label} must be ${opts.allowZero ? "an" : "a positive"} amount of US dollars up to 1000000 (like 5 or 2.50), not "${String(value)}"`);
  return n;
}

/** The run's limits: `--budget-stream-usd` and `--budget-usd` over the config file's `budget`. */
export function resolveBudget(root: string, flags: { streamUsd?: string; initiativeUsd?: string }): BudgetConfig {
  const streamUsd = usdAmount("flag --budget-stream-usd", flags.streamUsd);
  const initiativeUsd = usdAmount("flag --budget-usd", flags.initiativeUsd);
  const file = readBudgetConfig(root);
  return {
    ...file,
    ...(streamUsd !== undefined ? { streamUsd } : {}),
    ...(initiativeUsd !== undefined ? { initiativeUsd } : {}),
  };
}

export interface TeamSettings {
  /** How long a claim lasts without a heartbeat. */
  leaseMs: number;
  /** How often a run renews its claims: well inside the lease. */
  heartbeatMs: number;
  /** The git remote work travels through between machines; none: one machine's run. */
  remote?: string;
}

export const DEFAULT_LEASE_S = 60;
export const DEFAULT_HEARTBEAT_S = 15;

/** Claims' lease and heartbeat, and the team's remote: ORCH_LEASE_SECONDS / ORCH_REMOTE > the config file's `team` > defaults. */
export function resolveTeamSettings(root: string, env: { ORCH_LEASE_SECONDS?: number; ORCH_REMOTE?: string }): TeamSettings {
  const team = readConfig(root).team ?? {};
  const lease = env.ORCH_LEASE_SECONDS ?? team.leaseSeconds ?? DEFAULT_LEASE_S;
  // Unset, the heartbeat fits a shortened lease three times over (a lease of 6 s beats every 2 s).
  const heartbeat = team.heartbeatSeconds ?? Math.min(DEFAULT_HEARTBEAT_S, lease / 3);
  if (heartbeat >= lease) throw failed(`${CONFIG_FILE}: team.heartbeatSeconds (${heartbeat}) must be shorter than the lease (${lease} s), or a live run loses its claims`);
  const remote = env.ORCH_REMOTE ?? team.remote;
  return { leaseMs: lease * 1000, heartbeatMs: heartbeat * 1000, ...(remote ? { remote } : {}) };
}

export interface RunSettings {
  launcher: LauncherName;
  agentCommand: string;
  maxParallel: number;
  restartLimit: number;
  stallTimeoutMs: number;
}

export const DEFAULT_RESTART_LIMIT = 2;
export const DEFAULT_STALL_TIMEOUT_S = 600;

function readConfig(root: string): z.infer<typeof fileSchema> {
  const path = join(root, CONFIG_FILE);
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw failed(`${CONFIG_FILE} is not valid JSON (${(err as Error).message})`);
  }
  const r = fileSchema.safeParse(raw);
  if (!r.success) throw failed(`${CONFIG_FILE}: ${formatZodIssues(r.error.issues)}`);
  return r.data;
}

export function resolveRunSettings(
  root: string,
  flags: { launcher?: string; agentCmd?: string; maxParallel?: string; restartLimit?: string; stallTimeout?: string },
): RunSettings {
  const file = readConfig(root);
  if (flags.launcher !== undefined && !(LAUNCHERS as readonly string[]).includes(flags.launcher))
    throw usageError(`invalid launcher "${flags.launcher}" (expected one of ${LAUNCHERS.join(", ")})`);
  const launcher = (flags.launcher as LauncherName | undefined) ?? file.launcher ?? "manual";
  const agentCommand = flags.agentCmd ?? file.agentCommand ?? defaultAgentCommand(launcher);
  checkTemplate(agentCommand);
  return {
    launcher,
    agentCommand,
    maxParallel: intFlag("max-parallel", flags.maxParallel, { min: 1, max: 1000 }) ?? file.maxParallelStreams ?? DEFAULT_MAX_PARALLEL,
    restartLimit: intFlag("restart-limit", flags.restartLimit, { min: 0, max: 100 }) ?? file.restartLimit ?? DEFAULT_RESTART_LIMIT,
    stallTimeoutMs: 1000 * (intFlag("stall-timeout", flags.stallTimeout, { min: 1, max: 86_400 }) ?? file.stallTimeout ?? DEFAULT_STALL_TIMEOUT_S),
  };
}
