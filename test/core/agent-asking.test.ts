/**
 * A session's permission question and its hooks, which are relayed and can land late: a hook for
 * the very call being asked about, or the session's first event, must not make it look at work
 * while the question waits; the tool's result (or anything else) moves it on.
 */
import { expect, test } from "bun:test";
import { getAgent, recordAgentChange, type HookContext } from "../../src/core/agents.ts";
import { openQuestion } from "../../src/core/inbox.ts";
import { tempStore } from "../helpers.ts";

const ctx = (sessionId: string): HookContext => ({ sessionId, streamId: "Stream-B", cwd: "/tmp/wt-b", transcriptPath: null, pid: null, launcher: "headless" });
const ask = (sessionId: string, label: string) =>
  ({ kind: "permission", source: "prompt_tool", sessionId, streamId: "Stream-B", toolName: "Bash", toolInput: { command: "x" }, question: label, timeoutMs: 60_000 }) as const;

test("a late PreToolUse of the call being asked about, or a first event, leaves the session waiting; the tool's result moves it on", async () => {
  const store = await tempStore();
  // The question came first; the session's first hook lands after it.
  await openQuestion(store, ask("s-1", "Bash(node -e 1)"));
  await recordAgentChange(store, ctx("s-1"), { status: "starting", tool: null, pendingQuestion: null });
  expect(await getAgent(store, "s-1")).toMatchObject({ status: "waiting_permission", tool: "Bash(node -e 1)", pendingQuestion: "permission: Bash(node -e 1)" });
  await recordAgentChange(store, ctx("s-1"), { status: "working", tool: "Bash(node -e 1)", pendingQuestion: null });
  expect(await getAgent(store, "s-1")).toMatchObject({ status: "waiting_permission" });
  // Another tool's hook, or the result (PostToolUse: no tool), is news: the session moves on.
  await recordAgentChange(store, ctx("s-1"), { status: "working", tool: null, pendingQuestion: null });
  expect(await getAgent(store, "s-1")).toMatchObject({ status: "working", tool: null, pendingQuestion: null });
  // With no question pending nothing is held back.
  await recordAgentChange(store, ctx("s-2"), { status: "working", tool: "Bash(ls)", pendingQuestion: null });
  expect(await getAgent(store, "s-2")).toMatchObject({ status: "working", tool: "Bash(ls)" });
});
