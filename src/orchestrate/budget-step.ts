/**
 * The run's budget step, once a tick: re-read every stream's spend and pause from the database
 * (so `orch budget raise` in another process is seen on the next tick), pause what reached its
 * budget — marked in the database, alerted, asked in the inbox — and resume what was raised.
 * Decisions are core/budget.ts's; this only does what they say.
 */
import {
  launchCapUsd,
  pauseDecision,
  PAUSE_INITIATIVE,
  budgetQuestion,
  raiseCommand,
  spentOfLimit,
  tokenCount,
  usd,
  type BudgetLimits,
  type BudgetView,
  type StreamBudget,
} from "../core/budget.ts";
import { askForRaise, loadBudgetView, setPaused } from "../core/budget-store.ts";
import type { StreamView } from "../core/streams.ts";
import type { Store } from "../db/client.ts";
import type { RunNote } from "./messages.ts";
import { isDone } from "./plan.ts";
import type { RunState } from "./state.ts";

export interface BudgetStep {
  /** Check every stream with work left; returns the ones paused (never launched until raised). */
  check(streams: readonly StreamView[], state: RunState, only: string | null): Promise<ReadonlySet<string>>;
  /** A headless agent stopped at Claude Code's own cap (`error_max_budget_usd`). */
  capHit(streamId: string): void;
  /** `--max-budget-usd` for a launch now; null when no dollar limit applies. */
  capFor(streamId: string): number | null;
}

export function budgetStep(store: Store, limits: BudgetLimits, note: (n: RunNote) => void): BudgetStep {
  let view: BudgetView | null = null;
  let paused = new Set<string>();
  const capHits = new Set<string>();
  /** Pauses already said in this run (one alert per pause). */
  const said = new Set<string>();
  let initiativeSaid = false;

  const left = (s: StreamBudget) =>
    [s.remainingUsd !== null ? `${usd(s.remainingUsd)}` : "", s.remainingTokens !== null ? `${tokenCount(s.remainingTokens)} tokens` : ""].filter(Boolean).join(", ") || "no limit";

  /** `agentRunning` only for an agent that goes on: a headless one has ended with its result. */
  async function pause(s: StreamBudget, reason: string, r: RunState["streams"][string]): Promise<void> {
    await setPaused(store, s.streamId, reason);
    said.add(s.streamId);
    if (reason === PAUSE_INITIATIVE) {
      if (initiativeSaid) return;
      initiativeSaid = true;
      const q = await askForRaise(store, null, budgetQuestion(null, view!.initiative));
      note({ kind: "budget-reached", streamId: null, spent: spentOfLimit(view!.initiative), command: raiseCommand("STREAM", view!.initiative.reached), inboxId: q.id, agentRunning: false });
      return;
    }
    const q = await askForRaise(store, s.streamId, budgetQuestion(s.streamId, s));
    note({ kind: "budget-reached", streamId: s.streamId, spent: spentOfLimit(s), command: raiseCommand(s.streamId, s.reached), inboxId: q.id, agentRunning: r.status === "running" && r.agentAlive && !r.log });
  }

  return {
    async check(streams, state, only) {
      const ids = streams.map((s) => s.streamId);
      view = await loadBudgetView(store, ids, limits);
      const next = new Set<string>();
      const byId = new Map(streams.map((s) => [s.streamId, s]));
      for (const s of view.streams) {
        const r = state.streams[s.streamId];
        const sv = byId.get(s.streamId);
        // Only streams with work left in this run; a finished one's spend still counts above.
        if (!r || !sv || isDone(sv) || !(r.status === "pending" || r.status === "running") || (only && s.streamId !== only)) continue;
        const d = pauseDecision(s, view.initiative, view.limited && capHits.has(s.streamId));
        capHits.delete(s.streamId);
        if (d && "pause" in d) {
          await pause(s, d.pause, r);
          next.add(s.streamId);
        } else if (d && "resume" in d) {
          await setPaused(store, s.streamId, null);
        } else if (s.pausedReason) {
          next.add(s.streamId);
          // Paused before this run began (or by another run): said once.
          if (!said.has(s.streamId)) {
            said.add(s.streamId);
            note({ kind: "budget-paused", streamId: s.streamId, spent: spentOfLimit(s), command: raiseCommand(s.streamId, s.reached) });
          }
        }
        if (!next.has(s.streamId) && paused.has(s.streamId)) {
          said.delete(s.streamId);
          note({ kind: "budget-resumed", streamId: s.streamId, left: left(s) });
        }
      }
      if (!view.initiative.reached) initiativeSaid = false;
      paused = next;
      return paused;
    },
    capHit(streamId) {
      capHits.add(streamId);
    },
    capFor(streamId) {
      return view ? launchCapUsd(view, streamId) : null;
    },
  };
}
