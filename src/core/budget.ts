/**
 * Budgets, pure: what each stream and the initiative have spent against their limits. A stream's
 * limit is the configured one plus what `orch budget raise` added; the initiative's is its
 * configured one plus every raise (a person who gives a stream more money gives the initiative
 * that much more too, else a raise could never resume a run stopped by the initiative's limit).
 *
 * Tokens count what the model processed afresh: input, output and cache writes. Cache reads are
 * left out: a session re-reads its whole context from cache every turn, so they would dwarf the
 * rest and a token budget would measure conversation length rather than work.
 */

export interface BudgetLimits {
  streamUsd?: number;
  initiativeUsd?: number;
  streamTokens?: number;
  initiativeTokens?: number;
}

export interface Spend {
  costUsd: number;
  tokens: number;
}

/** What the database keeps per stream (stream_budgets), zero when it has no row. */
export interface StreamBudgetState {
  raisedUsd: number;
  raisedTokens: number;
  pausedReason: string | null;
}

/** A stream reached its own limit (cleared by a raise), or the initiative reached its (cleared by room). */
export const PAUSE_STREAM = "budget";
export const PAUSE_INITIATIVE = "initiative-budget";

export type ReachedBy = "usd" | "tokens" | null;

export interface Budget {
  spentUsd: number;
  spentTokens: number;
  /** null: no limit of that kind. */
  limitUsd: number | null;
  limitTokens: number | null;
  remainingUsd: number | null;
  remainingTokens: number | null;
  reached: ReachedBy;
}

export interface StreamBudget extends Budget {
  streamId: string;
  raisedUsd: number;
  raisedTokens: number;
  pausedReason: string | null;
}

export interface BudgetView {
  streams: StreamBudget[];
  initiative: Budget;
  /** Any limit configured at all: without one, nothing is ever paused. */
  limited: boolean;
}

export const NO_SPEND: Spend = Object.freeze({ costUsd: 0, tokens: 0 });
const NO_STATE: StreamBudgetState = Object.freeze({ raisedUsd: 0, raisedTokens: 0, pausedReason: null });

export const budgetTokens = (u: { inputTokens: number; outputTokens: number; cacheCreationTokens: number }) => u.inputTokens + u.outputTokens + u.cacheCreationTokens;

const roundUsd = (v: number) => Math.round(v * 1e6) / 1e6;
/** Spend at the limit counts as reached (float sums land a hair either side). */
const EPSILON_USD = 1e-6;

function budget(spend: Spend, limitUsd: number | null, limitTokens: number | null): Budget {
  const remainingUsd = limitUsd === null ? null : roundUsd(Math.max(0, limitUsd - spend.costUsd));
  const remainingTokens = limitTokens === null ? null : Math.max(0, limitTokens - spend.tokens);
  const reached: ReachedBy =
    limitUsd !== null && spend.costUsd >= limitUsd - EPSILON_USD ? "usd" : limitTokens !== null && spend.tokens >= limitTokens ? "tokens" : null;
  return { spentUsd: roundUsd(spend.costUsd), spentTokens: spend.tokens, limitUsd, limitTokens, remainingUsd, remainingTokens, reached };
}

export function streamBudget(streamId: string, limits: BudgetLimits, state: StreamBudgetState = NO_STATE, spend: Spend = NO_SPEND): StreamBudget {
  const limitUsd = limits.streamUsd === undefined ? null : roundUsd(limits.streamUsd + state.raisedUsd);
  const limitTokens = limits.streamTokens === undefined ? null : limits.streamTokens + state.raisedTokens;
  return { streamId, ...budget(spend, limitUsd, limitTokens), raisedUsd: state.raisedUsd, raisedTokens: state.raisedTokens, pausedReason: state.pausedReason };
}

/** Every stream of the run and the initiative, from the limits, the stored raises and the spend. */
export function budgetView(
  streamIds: readonly string[],
  limits: BudgetLimits,
  states: ReadonlyMap<string, StreamBudgetState>,
  spend: ReadonlyMap<string, Spend>,
): BudgetView {
  const streams = streamIds.map((id) => streamBudget(id, limits, states.get(id), spend.get(id)));
  let raisedUsd = 0;
  let raisedTokens = 0;
  for (const s of states.values()) {
    raisedUsd += s.raisedUsd;
    raisedTokens += s.raisedTokens;
  }
  const total = { costUsd: 0, tokens: 0 };
  for (const s of spend.values()) {
    total.costUsd += s.costUsd;
    total.tokens += s.tokens;
  }
  const initiative = budget(
    total,
    limits.initiativeUsd === undefined ? null : roundUsd(limits.initiativeUsd + raisedUsd),
    limits.initiativeTokens === undefined ? null : limits.initiativeTokens + raisedTokens,
  );
  const limited = Object.values(limits).some((v) => v !== undefined);
  return { streams, initiative, limited };
}

/**
 * Claude Code's own per-run cap for a headless launch (`--max-budget-usd`): what is left of the
 * stream's dollars, or of the initiative's if that is less; null when no dollar limit applies.
 */
export function launchCapUsd(view: BudgetView, streamId: string): number | null {
  const own = view.streams.find((s) => s.streamId === streamId)?.remainingUsd ?? null;
  const all = view.initiative.remainingUsd;
  if (own === null) return all;
  if (all === null) return own;
  return Math.min(own, all);
}

export type PauseDecision = { pause: typeof PAUSE_STREAM | typeof PAUSE_INITIATIVE } | { resume: true } | null;

/**
 * Whether a stream that still has work should be paused, resumed or left as it is. `capHit`: its
 * headless agent stopped at Claude Code's own cap (which was the stream's remaining budget), even
 * if the recorded cost lands a cent short of the limit.
 */
export function pauseDecision(s: StreamBudget, initiative: Budget, capHit: boolean): PauseDecision {
  if (s.pausedReason === PAUSE_STREAM) return null; // only a raise resumes it
  if (s.reached || capHit) return { pause: PAUSE_STREAM };
  if (initiative.reached) return s.pausedReason === PAUSE_INITIATIVE ? null : { pause: PAUSE_INITIATIVE };
  return s.pausedReason === PAUSE_INITIATIVE ? { resume: true } : null;
}

export const usd = (v: number) => `$${v.toFixed(2)}`;
export const tokenCount = (v: number) => v.toLocaleString("en-US");

/** "$5.02 of $5.00" or "2,000,113 of 2,000,000 tokens": what was reached. */
export function spentOfLimit(b: Budget): string {
  if (b.reached === "tokens") return `${tokenCount(b.spentTokens)} of ${tokenCount(b.limitTokens ?? 0)} tokens`;
  return `${usd(b.spentUsd)} of ${b.limitUsd === null ? "no limit" : usd(b.limitUsd)}`;
}

export const raiseCommand = (streamId: string, by: ReachedBy) => `orch budget raise ${streamId} USD${by === "tokens" ? " --tokens N" : ""}`;

/** The inbox question for a stream that reached its budget (null: the initiative's). */
export function budgetQuestion(streamId: string | null, b: Budget): string {
  if (streamId === null) return `The initiative reached its budget (${spentOfLimit(b)}): every stream is paused. Raise it? ${raiseCommand("STREAM", b.reached)} (adds to that stream and the initiative)`;
  return `${streamId} reached its ${b.reached === "tokens" ? "token " : ""}budget (${spentOfLimit(b)}): raise it? ${raiseCommand(streamId, b.reached)}`;
}
