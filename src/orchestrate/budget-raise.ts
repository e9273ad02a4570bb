/**
 * Raising a stream's budget as `orch budget raise` does, for every face (the CLI, the API): the
 * limits in force are a live run's (they may come from its flags), else the config file's.
 */
import { loadBudgetView, raiseBudget } from "../core/budget-store.ts";
import type { Budget, BudgetLimits, StreamBudget } from "../core/budget.ts";
import type { Store } from "../db/client.ts";
import { readBudgetConfig } from "./config.ts";
import { runStreams } from "./run-setup.ts";
import { loadState, processAlive } from "./state.ts";

export type LimitSource = "run" | "config" | "none";

/** The limits in force: a live run's (they may come from its flags), else the config file's. */
export function currentLimits(root: string): { limits: BudgetLimits; source: LimitSource } {
  const state = loadState(root);
  if (state && state.outcome === "running" && processAlive(state.orchestratorPid)) return { limits: state.budget, source: "run" };
  const limits = readBudgetConfig(root);
  return { limits, source: Object.values(limits).some((v) => v !== undefined) ? "config" : "none" };
}

export interface StreamRaise {
  /** The stream's budget as it now stands. */
  stream: StreamBudget;
  initiative: Budget;
  /** It was paused (for its own budget or the initiative's) before the raise. */
  wasPaused: boolean;
}

/** Add `usd` and `tokens` to a stream's budget in project `root`; resumes it if it was paused. */
export async function raiseStreamBudget(store: Store, root: string, r: { streamId: string; usd: number; tokens: number; by: string }): Promise<StreamRaise> {
  const ids = (await runStreams(store)).map((s) => s.streamId);
  const { limits } = currentLimits(root);
  const wasPaused = (await loadBudgetView(store, [r.streamId], limits)).streams[0]!.pausedReason !== null;
  const view = await raiseBudget(store, r, ids, limits);
  return { stream: view.streams.find((x) => x.streamId === r.streamId)!, initiative: view.initiative, wasPaused };
}
