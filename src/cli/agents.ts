/**
 * `orch agents`: the Claude Code sessions orch hears from through hooks, as a table or JSON.
 * A thin face over core/agents.ts, which also decides `exited` (pid gone) and `stale` (silent).
 */
import { agentEvent, listAgents, type AgentView } from "../core/agents.ts";
import { expireOrphans } from "../core/inbox.ts";
import { compactCount, ageText, shortSession, statusLine } from "../watch/needs-you.ts";
import { commonFlags, singleAction } from "./command.ts";
import { storeFromFlags, str } from "./context.ts";
import { type Column, printJson, printTable } from "./output.ts";

function tokens(a: AgentView): string {
  const input = a.inputTokens + a.cacheReadTokens + a.cacheCreationTokens;
  return input || a.outputTokens ? `${compactCount(input)} in / ${compactCount(a.outputTokens)} out` : "-";
}

export function agentColumns(now: number): Column<AgentView>[] {
  return [
    { header: "STREAM", value: (a) => a.streamId ?? "-", max: 24 },
    { header: "SESSION", value: (a) => shortSession(a.sessionId) },
    // Tool labels and questions are agent-written: renderTable makes each cell one safe line.
    { header: "STATUS", value: (a) => statusLine(a), max: 60 },
    { header: "LAUNCHER", value: (a) => a.launcher ?? "-", max: 12 },
    { header: "PID", value: (a) => (a.pid === null ? "-" : String(a.pid)) },
    { header: "AGE", value: (a) => ageText(a.updatedAt, now) },
    { header: "TOKENS", value: tokens },
    { header: "COST", value: (a) => (a.costUsd === null ? "-" : `$${a.costUsd.toFixed(2)}`) },
  ];
}

export const command = singleAction("agents", {
  summary: "agent sessions as their hooks report them (status, tool, pending question, cost)",
  flags: {
    all: { type: "boolean", description: "include sessions that have exited" },
    stream: { type: "string", value: "ID", description: "only this stream's sessions" },
    ...commonFlags,
  },
  async run({ flags }) {
    const store = await storeFromFlags(flags);
    // Questions whose asker is gone are closed first: their sessions wait no more.
    await expireOrphans(store);
    const list = await listAgents(store, { all: flags.all === true, streamId: str(flags.stream) });
    // The transcript path is the session's business, as on SSE: not part of the listing.
    if (flags.json) return printJson({ agents: list.map((a) => ({ ...agentEvent(a), stale: a.stale })) });
    printTable(list, agentColumns(Date.now()), flags.all ? "No agent sessions yet." : "No live agent sessions (--all shows ended ones).");
  },
});
