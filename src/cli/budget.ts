/**
 * `orch budget`: what each stream of the run has spent against its budget, and whether it is
 * paused; `orch budget raise STREAM USD [--tokens N]` adds to a stream's budget and resumes it —
 * a running `orch start` re-reads budgets every tick, so it launches the stream again within a
 * second or so. The limits are the running `orch start`'s (its flags over the config file), else
 * the config file's.
 */
import { loadBudgetView } from "../core/budget-store.ts";
import { PAUSE_INITIATIVE, PAUSE_STREAM, tokenCount, usd, type Budget, type BudgetLimits, type StreamBudget } from "../core/budget.ts";
import { findProjectRoot } from "../config.ts";
import type { Store } from "../db/client.ts";
import { usageError } from "../errors.ts";
import { readBudgetConfig, usdAmount } from "../orchestrate/config.ts";
import { isDone } from "../orchestrate/plan.ts";
import { runStreams } from "../orchestrate/run-setup.ts";
import { currentLimits, raiseStreamBudget, type LimitSource } from "../orchestrate/budget-raise.ts";
import { oneLine } from "../text/neutralise.ts";
import { commandGroup, commonFlags } from "./command.ts";
import { intFlag, storeFromFlags, str } from "./context.ts";
import { printJson, printTable, say } from "./output.ts";

const money = (v: number | null) => (v === null ? "-" : usd(v));
const tokensOf = (v: number | null) => (v === null ? "-" : tokenCount(v));

function stateOf(s: StreamBudget, done: boolean): string {
  if (done) return "complete";
  if (s.pausedReason === PAUSE_STREAM) return "paused: budget";
  if (s.pausedReason === PAUSE_INITIATIVE) return "paused: initiative budget";
  return s.reached ? "reached" : "";
}

const SOURCE_LINE: Record<LimitSource, string> = {
  run: "those of the running orch start",
  config: "from orchestration-config.json",
  none: 'no budget set — "budget" in orchestration-config.json, or orch start --budget-stream-usd N / --budget-usd N',
};

async function show(store: Store, root: string, json: boolean): Promise<number> {
  const streams = await runStreams(store);
  const { limits, source } = currentLimits(root);
  const view = await loadBudgetView(store, streams.map((s) => s.streamId), limits);
  const done = new Set(streams.filter(isDone).map((s) => s.streamId));
  if (json) {
    printJson({ limits, source, initiative: view.initiative, streams: view.streams.map((s) => ({ ...s, state: stateOf(s, done.has(s.streamId)) || "ok" })) });
    return 0;
  }
  printTable(
    view.streams,
    [
      { header: "STREAM", value: (s) => s.streamId },
      { header: "SPENT", value: (s) => usd(s.spentUsd) },
      { header: "LIMIT", value: (s) => money(s.limitUsd) },
      { header: "TOKENS", value: (s) => tokenCount(s.spentTokens) },
      { header: "TOKEN LIMIT", value: (s) => tokensOf(s.limitTokens) },
      { header: "STATE", value: (s) => stateOf(s, done.has(s.streamId)) },
    ],
    "No streams yet — import a PRD (orch prd import FILE.md)",
  );
  say(`\nInitiative: ${initiativeLine(view.initiative)}\nLimits: ${SOURCE_LINE[source]}\n`);
  return 0;
}

function initiativeLine(b: Budget): string {
  const dollars = `${usd(b.spentUsd)}${b.limitUsd === null ? "" : ` of ${usd(b.limitUsd)}`}`;
  const tokens = `${tokenCount(b.spentTokens)}${b.limitTokens === null ? "" : ` of ${tokenCount(b.limitTokens)}`} tokens`;
  return `${dollars}, ${tokens}${b.reached ? " — reached" : ""}`;
}

/** Who raised it: --by, else the login name, else "cli" (recorded on the inbox entry it answers). */
function raiser(flag: string | undefined): string {
  const by = (flag ?? process.env.USER ?? "").trim();
  if (flag !== undefined && (!by || by.length > 100 || by !== oneLine(by))) throw usageError("flag --by must be a name on one line, at most 100 characters");
  return by && by.length <= 100 && by === oneLine(by) ? by : "cli";
}

/** One line: what the stream may now spend, and whether it goes on. */
function raisedLine(s: StreamBudget, wasPaused: boolean, usdAdded: number, tokensAdded: number): string {
  const added = [usdAdded ? usd(usdAdded) : "", tokensAdded ? `${tokenCount(tokensAdded)} tokens` : ""].filter(Boolean).join(" and ");
  const limits = [s.limitUsd !== null ? `${usd(s.limitUsd)} (spent ${usd(s.spentUsd)})` : "", s.limitTokens !== null ? `${tokenCount(s.limitTokens)} tokens (spent ${tokenCount(s.spentTokens)})` : ""]
    .filter(Boolean)
    .join(", ");
  const head = `${s.streamId}: budget raised by ${added}${limits ? ` to ${limits}` : ""}`;
  if (s.reached) return `${head}; still ${s.reached === "tokens" ? "over its token budget: add --tokens N" : "reached: raise it more"}`;
  if (s.pausedReason) return `${head}; still paused: the initiative's budget is reached`;
  return wasPaused ? `${head}; resumed — a running orch start launches it again within a few seconds` : head;
}

export const command = commandGroup(
  "budget",
  "spending per stream against its budget; raise a paused stream's budget",
  {
    show: {
      summary: "per stream: spent, limit, tokens, paused; and the initiative",
      flags: commonFlags,
      async run({ flags }) {
        return show(await storeFromFlags(flags), findProjectRoot(), flags.json === true);
      },
    },
    raise: {
      summary: "add USD (and --tokens N) to a stream's budget; resumes it if it was paused",
      args: ["STREAM", "USD"],
      flags: {
        tokens: { type: "string", value: "N", description: "tokens to add to the stream's token budget" },
        by: { type: "string", value: "NAME", description: "who raises it (default $USER)" },
        ...commonFlags,
      },
      async run({ flags, positionals }) {
        const [streamId, amount] = positionals as [string, string];
        const usdAdded = usdAmount("USD", amount, { allowZero: true })!;
        const tokensAdded = intFlag("tokens", flags.tokens, { min: 0, max: 1_000_000_000 }) ?? 0;
        if (usdAdded + tokensAdded === 0) throw usageError("orch budget raise: add some dollars (USD > 0) or tokens (--tokens N)");
        const by = raiser(str(flags.by));
        const root = findProjectRoot();
        const store = await storeFromFlags(flags);
        const { stream: s, initiative, wasPaused } = await raiseStreamBudget(store, root, { streamId, usd: usdAdded, tokens: tokensAdded, by });
        if (flags.json) printJson({ stream: s, initiative });
        else say(`${raisedLine(s, wasPaused, usdAdded, tokensAdded)}\n`);
        return 0;
      },
    },
  },
  "show",
);
