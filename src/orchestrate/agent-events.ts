/**
 * What a headless agent's event stream means for the run: its session id and cost go to its
 * agent session row, each permission denial is counted, stored and becomes a note at once.
 */
import { addDenial, setSessionFigures, setSessionId } from "../core/agent-sessions.ts";
import type { Store } from "../db/client.ts";
import { describeDenial, ruleFor, type AgentEvent } from "./agent-output.ts";
import type { RunNote } from "./messages.ts";
import type { StreamRun } from "./state.ts";

export async function applyAgentEvent(store: Store, streamId: string, r: StreamRun, e: AgentEvent): Promise<RunNote | null> {
  const session = r.agentSession;
  if (e.kind === "session") {
    if (session) await setSessionId(store, session, e.sessionId);
    return null;
  }
  if (e.kind === "result") {
    const { denials: _, subtype, isError, ...figures } = e.result;
    if (session) await setSessionFigures(store, session, { ...figures, outcome: isError ? `error: ${subtype ?? "?"}` : subtype });
    return null;
  }
  r.denials++;
  const detail = describeDenial(e.denial);
  const rule = ruleFor(e.denial);
  if (session) await addDenial(store, session, { toolName: e.denial.toolName, detail, rule });
  return { kind: "denied", streamId, detail, rule };
}
