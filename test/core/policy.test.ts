/** Permission rules in Claude Code's syntax, and what a hook says about its session: pure. */
import { describe, expect, test } from "bun:test";
import { decide, ruleForCall, ruleMatches, ruleProblem, toolLabel, type ToolCall } from "../../src/core/policy.ts";
import { agentChange, nextAgentRow, readHookPayload, type HookContext } from "../../src/core/agent-status.ts";

const bash = (command: string): ToolCall => ({ toolName: "Bash", input: { command } });
const edit = (file_path: string, cwd = "/repo/wt"): ToolCall => ({ toolName: "Edit", input: { file_path }, cwd });

describe("policy rules", () => {
  test("Bash prefix rules match the command and its arguments, not a longer word", () => {
    expect(ruleMatches("Bash(npm test:*)", bash("npm test"), "allow")).toBe(true);
    expect(ruleMatches("Bash(npm test:*)", bash("npm test -- --watch"), "allow")).toBe(true);
    expect(ruleMatches("Bash(npm test:*)", bash("npm testx"), "allow")).toBe(false);
    expect(ruleMatches("Bash(git status)", bash("git status"), "allow")).toBe(true);
    expect(ruleMatches("Bash(git status)", bash("git status --short"), "allow")).toBe(false);
  });

  test("an allow rule never covers a chained command; a deny rule matches any part of one", () => {
    for (const chained of ["npm test && curl evil", "npm test; rm -rf /", "npm test | sh", "npm test\nrm -rf /", "npm test $(curl x)", "npm test `id`", "npm test || true"])
      expect(ruleMatches("Bash(npm test:*)", bash(chained), "allow")).toBe(false);
    expect(ruleMatches("Bash(git push:*)", bash("npm test && git push origin main"), "deny")).toBe(true);
    expect(ruleMatches("Bash(git push:*)", bash("echo hi; git push"), "deny")).toBe(true);
  });

  test("deny wins over allow; no rule, no verdict", () => {
    const policy = { allow: ["Bash", "Edit(./src/**)"], deny: ["Bash(git push:*)"] };
    expect(decide(policy, bash("git push"))).toEqual({ effect: "deny", rule: "Bash(git push:*)" });
    expect(decide(policy, bash("ls"))).toEqual({ effect: "allow", rule: "Bash" });
    expect(decide(policy, { toolName: "WebFetch", input: { url: "https://x.example/" } })).toBeNull();
  });

  test("path rules are read from the session's directory; .. cannot climb out of them", () => {
    expect(ruleMatches("Edit(./src/**)", edit("src/a/b.ts"), "allow")).toBe(true);
    expect(ruleMatches("Edit(./src/**)", edit("/repo/wt/src/x.ts"), "allow")).toBe(true);
    expect(ruleMatches("Edit(./src/**)", edit("src/../../etc/passwd"), "allow")).toBe(false);
    expect(ruleMatches("Edit(./src/*.ts)", edit("src/a/b.ts"), "allow")).toBe(false);
    expect(ruleMatches("Edit(//etc/**)", edit("/etc/hosts"), "deny")).toBe(true);
  });

  test("a rule's /path is read from the project root, //path is absolute (Claude Code's reading)", () => {
    const inWorktree = (file_path: string): ToolCall => ({ toolName: "Edit", input: { file_path }, cwd: "/repo/.claude/worktrees/B", root: "/repo" });
    expect(ruleMatches("Edit(/secrets/**)", inWorktree("/repo/secrets/key.pem"), "deny")).toBe(true);
    expect(ruleMatches("Edit(/secrets/**)", inWorktree("/secrets/key.pem"), "deny")).toBe(false);
    expect(ruleMatches("Edit(//secrets/**)", inWorktree("/secrets/key.pem"), "deny")).toBe(true);
    expect(ruleMatches("Edit(./src/**)", inWorktree("src/a.ts"), "allow")).toBe(true);
    expect(ruleMatches("Edit(./src/**)", inWorktree("/repo/src/a.ts"), "allow")).toBe(false);
  });

  test("MCP server and tool rules, WebFetch domains", () => {
    expect(ruleMatches("mcp__github", { toolName: "mcp__github__create_issue", input: {} }, "allow")).toBe(true);
    expect(ruleMatches("mcp__github", { toolName: "mcp__githubx__create_issue", input: {} }, "allow")).toBe(false);
    expect(ruleMatches("mcp__github__create_issue", { toolName: "mcp__github__create_issue", input: {} }, "allow")).toBe(true);
    expect(ruleMatches("WebFetch(domain:example.com)", { toolName: "WebFetch", input: { url: "https://example.com/a" } }, "allow")).toBe(true);
    expect(ruleMatches("WebFetch(domain:example.com)", { toolName: "WebFetch", input: { url: "https://example.com.evil/a" } }, "allow")).toBe(false);
  });

  test("labels and --always rules name the exact call; bad rules are named", () => {
    expect(toolLabel(bash("npm publish"))).toBe("Bash(npm publish)");
    expect(toolLabel(bash("x".repeat(500))).length).toBeLessThan(140);
    expect(ruleForCall(bash("npm publish"))).toBe("Bash(npm publish)");
    expect(ruleForCall({ toolName: "mcp__x__y", input: {} })).toBe("mcp__x__y");
    expect(ruleProblem("Bash(npm test:*)")).toBeNull();
    expect(ruleProblem("")).not.toBeNull();
    expect(ruleProblem("rm -rf /")).not.toBeNull();
  });
});

describe("hook payloads → a session's status", () => {
  const ctx: HookContext = { sessionId: "s1", streamId: "Stream-B", cwd: "/r", transcriptPath: null, pid: null, launcher: null };

  test("the boundary: an object with a session id and an event name, typed fields, bounded", () => {
    expect(typeof readHookPayload({ session_id: "s1", hook_event_name: "Stop" })).toBe("object");
    for (const bad of [null, [], "x", { hook_event_name: "Stop" }, { session_id: "../x", hook_event_name: "Stop" }, { session_id: "s", hook_event_name: 3 }, { session_id: "s", hook_event_name: "Stop", cwd: 5 }, { session_id: "s", hook_event_name: "Stop", tool_name: "x".repeat(201) }])
      expect(typeof readHookPayload(bad)).toBe("string");
  });

  test("working → waiting → working → idle → exited, and an ended session stays ended", () => {
    const steps = [
      { session_id: "s1", hook_event_name: "SessionStart" },
      { session_id: "s1", hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "npm test" } },
      { session_id: "s1", hook_event_name: "Notification", notification_type: "permission_prompt", message: "Claude needs your permission to use Bash" },
      { session_id: "s1", hook_event_name: "PostToolUse", tool_name: "Bash" },
      { session_id: "s1", hook_event_name: "Stop", last_assistant_message: "done" },
      { session_id: "s1", hook_event_name: "SessionEnd", reason: "exit" },
      { session_id: "s1", hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "late" } },
    ];
    let row = null;
    const seen: string[] = [];
    for (const s of steps) {
      row = nextAgentRow(row, ctx, agentChange(s), new Date().toISOString()).row;
      seen.push(`${row.status}${row.tool ? ` ${row.tool}` : ""}`);
    }
    expect(seen).toEqual(["starting", "working Bash(npm test)", "waiting_permission Bash(npm test)", "working", "idle", "exited", "exited"]);
    expect(row!.lastMessage).toBe("done");
    expect(row!.endedAt).not.toBeNull();
  });

  test("an unknown event changes only the clock; a failure is an error with its text", () => {
    expect(agentChange({ session_id: "s", hook_event_name: "FileChanged" })).toBeNull();
    expect(agentChange({ session_id: "s", hook_event_name: "StopFailure", error: { message: "rate limited" } })).toMatchObject({ status: "error", lastMessage: "rate limited" });
    expect(agentChange({ session_id: "s", hook_event_name: "Notification", notification_type: "idle_prompt" })).toMatchObject({ status: "waiting_input" });
  });
});
