/** The agent command template: shell-like splitting without a shell, placeholders per argument. */
import { describe, expect, test } from "bun:test";
import { agentArgv, checkTemplate, DEFAULT_AGENT_COMMAND, shellQuote, splitCommand } from "../../src/orchestrate/agent-command.ts";

const values = { streamId: "Stream-B", worktree: "/p/my project/.claude/worktrees/Stream-B", projectRoot: "/p/my project" };

describe("splitCommand", () => {
  test("words, double and single quotes, backslashes", () => {
    expect(splitCommand(DEFAULT_AGENT_COMMAND)).toEqual(["claude", "-p", "/continue {streamId}", "--output-format", "stream-json", "--verbose", "--permission-prompt-tool", "mcp__task-copilot__permission_prompt"]);
    expect(splitCommand("  a   b\tc  ")).toEqual(["a", "b", "c"]);
    expect(splitCommand(`run 'it''s' "a \\"quoted\\" word" a\\ b 'x\\y' "p\\q"`)).toEqual(["run", "its", 'a "quoted" word', "a b", "x\\y", "p\\q"]);
    expect(splitCommand(`x "" ''`)).toEqual(["x", "", ""]);
    expect(splitCommand(`pre"mid dle"post`)).toEqual(["premid dlepost"]);
    // Shell syntax is just text: nothing is ever run by a shell.
    expect(splitCommand("a; rm -rf / && echo $(id) | b > c")).toEqual(["a;", "rm", "-rf", "/", "&&", "echo", "$(id)", "|", "b", ">", "c"]);
  });

  test("unclosed quotes and empty commands are usage errors (exit 2)", () => {
    expect(() => splitCommand(`claude -p "/continue`)).toThrow(`agent command has an unclosed " quote: claude -p "/continue`);
    expect(() => splitCommand("it's")).toThrow("agent command has an unclosed ' quote: it's");
    for (const empty of ["", "   ", "\t"]) {
      try {
        splitCommand(empty);
        throw new Error("no error");
      } catch (err) {
        expect((err as Error).message).toBe("agent command is empty");
        expect((err as { exitCode: number }).exitCode).toBe(2);
      }
    }
  });
});

describe("placeholders", () => {
  test("filled inside each argument; a value with spaces stays one argument", () => {
    expect(agentArgv(DEFAULT_AGENT_COMMAND, values)).toEqual(["claude", "-p", "/continue Stream-B", "--output-format", "stream-json", "--verbose", "--permission-prompt-tool", "mcp__task-copilot__permission_prompt"]);
    expect(agentArgv("agent --cwd {worktree} --root={projectRoot} {streamId}-{streamId}", values)).toEqual([
      "agent",
      "--cwd",
      "/p/my project/.claude/worktrees/Stream-B",
      "--root=/p/my project",
      "Stream-B-Stream-B",
    ]);
  });

  test("a value is never expanded again (a path that contains a placeholder's text stays as it is)", () => {
    expect(agentArgv("a {worktree}", { ...values, worktree: "/x/{streamId}/$(id)" })).toEqual(["a", "/x/{streamId}/$(id)"]);
  });

  test("an unknown placeholder is a usage error naming the known ones", () => {
    const msg = "agent command has an unknown placeholder {stream} (known: {streamId}, {worktree}, {projectRoot})";
    expect(() => checkTemplate("claude -p '/continue {stream}'")).toThrow(msg);
    expect(() => agentArgv("claude {stream}", values)).toThrow(msg);
    expect(() => checkTemplate("a {}")).toThrow("agent command has an unknown placeholder {} (known:");
    expect(checkTemplate("claude -p {streamId}")).toEqual(["claude", "-p", "{streamId}"]);
  });
});

describe("shellQuote (commands orch prints for a person to paste)", () => {
  test("plain words stay as they are; the rest is single-quoted", () => {
    expect(shellQuote("/usr/bin/claude")).toBe("/usr/bin/claude");
    expect(shellQuote("--pause=30")).toBe("--pause=30");
    expect(shellQuote("/continue Stream-B")).toBe("'/continue Stream-B'");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  test("a real shell reads back exactly the original arguments", () => {
    const args = ["plain", "two words", "it's", `"double"`, "$HOME", "`id`", "a\\b", "semi;colon", "new\nline", "*", ""];
    const line = `printf '%s\\0' ${args.map(shellQuote).join(" ")}`;
    const p = Bun.spawnSync(["sh", "-c", line], { stdout: "pipe", env: { HOME: "/nowhere", PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    expect(p.exitCode).toBe(0);
    expect(p.stdout.toString().split("\0").slice(0, -1)).toEqual(args);
  });
});
