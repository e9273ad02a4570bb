/** Reading Claude Code's stream-json output (pure): the session, each denial once, the result. */
import { describe, expect, test } from "bun:test";
import { agentOutputReader, describeDenial, ruleFor } from "../../src/orchestrate/agent-output.ts";
import { afterUnfinishedExit } from "../../src/orchestrate/plan.ts";
import { newStreamRun } from "../../src/orchestrate/state.ts";
import type { StreamView } from "../../src/core/streams.ts";

const sid = "2a30ad19-1e85-4d0c-a8b1-f7c866884b8a";
// Lines as Claude Code 2.1.332 writes them (shortened to the keys that matter).
const init = { type: "system", subtype: "init", cwd: "/repo", session_id: sid, tools: ["Bash"] };
const assistant = (id: string, name: string, input: unknown) => ({ type: "assistant", session_id: sid, message: { content: [{ type: "tool_use", id, name, input }] } });
const deniedNow = (id: string, name: string) => ({ type: "system", subtype: "permission_denied", tool_name: name, tool_use_id: id, session_id: sid });
const rejectedResult = (id: string) => ({
  type: "user",
  session_id: sid,
  message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, is_error: true, content: "This command requires approval" }] },
  tool_result_meta: [{ id, non_execution_kind: "user-rejected", permission_decision: { decision: "reject", source: "config" } }],
});
const result = (denials: unknown[]) => ({
  type: "result",
  subtype: "success",
  is_error: false,
  num_turns: 8,
  session_id: sid,
  total_cost_usd: 0.0696,
  usage: { input_tokens: 9600, output_tokens: 640, cache_read_input_tokens: 32000, cache_creation_input_tokens: 2400 },
  permission_denials: denials,
});
const lines = (...objs: unknown[]) => objs.map((o) => `${JSON.stringify(o)}\n`).join("");

describe("agentOutputReader", () => {
  test("session id once; a denial at the moment it happens, with the call's input; never twice; the result's figures", () => {
    const r = agentOutputReader();
    const text = lines(
      init,
      assistant("t1", "Bash", { command: "npm publish", description: "x" }),
      deniedNow("t1", "Bash"),
      rejectedResult("t1"),
      assistant("t2", "Write", { file_path: "/etc/x", content: "" }),
      rejectedResult("t2"),
      result([
        { tool_name: "Bash", tool_use_id: "t1", tool_input: { command: "npm publish" } },
        { tool_name: "Write", tool_use_id: "t2", tool_input: { file_path: "/etc/x" } },
        { tool_name: "mcp__task-copilot__task_list", tool_use_id: "t3", tool_input: { streamId: "S" } },
      ]),
    );
    // Fed in awkward pieces: a line split anywhere still reads the same.
    const events = [...r.push(text.slice(0, 100)), ...r.push(text.slice(100, 777)), ...r.push(text.slice(777)), ...r.end()];
    expect(events.map((e) => e.kind)).toEqual(["session", "denial", "denial", "denial", "result"]);
    const denials = events.flatMap((e) => (e.kind === "denial" ? [e.denial] : []));
    expect(denials.map((d) => [d.toolName, d.toolUseId, d.input])).toEqual([
      ["Bash", "t1", { command: "npm publish", description: "x" }],
      ["Write", "t2", { file_path: "/etc/x", content: "" }],
      ["mcp__task-copilot__task_list", "t3", { streamId: "S" }], // an older client reports it only at the end
    ]);
    const res = events.at(-1)!;
    expect(res.kind === "result" && res.result).toMatchObject({
      sessionId: sid,
      turns: 8,
      costUsd: 0.0696,
      inputTokens: 9600,
      outputTokens: 640,
      cacheReadTokens: 32000,
      cacheCreationTokens: 2400,
      isError: false,
    });
  });

  test("stderr noise, broken JSON and unknown events are passed over; an endless line is skipped, not buffered", () => {
    const r = agentOutputReader();
    expect(r.push("Warning: something on stderr\n{not json\n[1,2]\n" + JSON.stringify({ type: "stream_event" }) + "\n")).toEqual([]);
    r.push("x".repeat(5 * 1024 * 1024)); // no newline yet
    expect(r.push(`${"y".repeat(10)}\n${JSON.stringify(init)}\n`)).toEqual([{ kind: "session", sessionId: sid }]);
    expect(r.end()).toEqual([]);
  });
});

test("describeDenial and ruleFor: one bounded line, and the rule that would allow the call", () => {
  expect(describeDenial({ toolName: "Bash", toolUseId: "a", input: { command: "npm test -- --watch" } })).toBe("Bash: npm test -- --watch");
  expect(ruleFor({ toolName: "Bash", toolUseId: "a", input: { command: "  npm test -- --watch" } })).toBe("Bash(npm test:*)");
  expect(ruleFor({ toolName: "mcp__task-copilot__task_list", toolUseId: "a", input: {} })).toBe("mcp__task-copilot");
  expect(ruleFor({ toolName: "WebFetch", toolUseId: "a", input: { url: "https://x" } })).toBe("WebFetch");
  expect(describeDenial({ toolName: "Write", toolUseId: "a", input: { file_path: `/${"a".repeat(300)}` } })).toHaveLength(160);
  // An agent's command is data: no escape sequence reaches the terminal, the line stays one line.
  expect(describeDenial({ toolName: "Bash", toolUseId: "a", input: { command: "printf x\x1b]52;c;eA==\x07\nrm -rf /" } })).toBe(
    "Bash: printf x\\x1b]52;c;eA==\\x07 rm -rf /",
  );
});

describe("afterUnfinishedExit", () => {
  const s = (done: number) => ({ completedTasks: done, totalTasks: 3 }) as StreamView;
  test("denied and no progress: fail, never restart; progress or no denial: the restart limit decides", () => {
    const r = { ...newStreamRun(), completedAtLaunch: 1, denials: 2 };
    expect(afterUnfinishedExit(r, s(1), 2)).toBe("fail-denied");
    expect(afterUnfinishedExit(r, s(2), 2)).toBe("restart");
    expect(afterUnfinishedExit({ ...r, denials: 0 }, s(1), 2)).toBe("restart");
    expect(afterUnfinishedExit({ ...r, denials: 0, restarts: 2 }, s(1), 2)).toBe("fail-limit");
  });
});
