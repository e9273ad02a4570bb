import { describe, expect, test } from "bun:test";
import {
  CONTINUE_COMMAND,
  gitignoreCovers,
  jsonErrorOffset,
  mergeMcpJson,
  ORCHESTRATION_COMMAND,
  updateGitignore,
} from "../../src/generate/init-files.ts";

const D = { host: "127.0.0.1", port: 9090 };
const ENTRY = { command: "orch", args: ["mcp"], env: { HTTP_API_PORT: "9090", HTTP_API_HOST: "127.0.0.1" } };

describe(".mcp.json merge", () => {
  test("no file: created with just task-copilot", () => {
    const r = mergeMcpJson(null, D);
    expect(r.status).toBe("created");
    expect(JSON.parse(r.content)).toEqual({ mcpServers: { "task-copilot": ENTRY } });
    expect(r.content.endsWith("}\n")).toBe(true);
  });

  test("other servers and keys untouched; idempotent", () => {
    const before = { $schema: "x", mcpServers: { github: { command: "gh-mcp", args: ["--x"], env: { TOKEN: "t" } } } };
    const r = mergeMcpJson(JSON.stringify(before), D);
    expect(r.status).toBe("updated");
    expect(JSON.parse(r.content)).toEqual({ ...before, mcpServers: { ...before.mcpServers, "task-copilot": ENTRY } });
    const again = mergeMcpJson(r.content, D);
    expect(again).toEqual({ status: "unchanged", content: r.content });
    // Formatting of the user's file does not matter to "unchanged".
    expect(mergeMcpJson(JSON.stringify(JSON.parse(r.content), null, 4), D).status).toBe("unchanged");
  });

  test("an old task-copilot entry gets orch's command, keeps its env values and extra keys", () => {
    const old = { mcpServers: { "task-copilot": { type: "stdio", command: "node", args: ["dist/index.js"], env: { HTTP_API_PORT: "9191", TASK_DB_PATH: "/db" } } } };
    const r = mergeMcpJson(JSON.stringify(old), D);
    expect(JSON.parse(r.content).mcpServers["task-copilot"]).toEqual({
      type: "stdio",
      command: "orch",
      args: ["mcp"],
      env: { HTTP_API_PORT: "9191", TASK_DB_PATH: "/db", HTTP_API_HOST: "127.0.0.1" },
    });
    const num = mergeMcpJson(JSON.stringify({ mcpServers: { "task-copilot": { env: { HTTP_API_PORT: 9292 } } } }), D);
    expect(JSON.parse(num.content).mcpServers["task-copilot"].env.HTTP_API_PORT).toBe("9292");
  });

  test("the environment's port and host are the defaults", () => {
    expect(JSON.parse(mergeMcpJson(null, { host: "localhost", port: 7000 }).content).mcpServers["task-copilot"].env).toEqual({
      HTTP_API_PORT: "7000",
      HTTP_API_HOST: "localhost",
    });
  });

  test("an empty file is treated as {}", () => {
    expect(JSON.parse(mergeMcpJson("  \n", D).content)).toEqual({ mcpServers: { "task-copilot": ENTRY } });
  });

  test("invalid JSON or a wrong shape is refused with a message naming the place", () => {
    expect(() => mergeMcpJson('{\n  "mcpServers": {\n    "a": {,}\n  }\n}', D)).toThrow(
      ".mcp.json is not valid JSON at line 3, column 11; fix it (it was left untouched) and run orch init again",
    );
    expect(() => mergeMcpJson("[]", D)).toThrow(".mcp.json is not a JSON object; fix it (it was left untouched)");
    expect(() => mergeMcpJson('{"mcpServers": []}', D)).toThrow('.mcp.json: "mcpServers" is not an object');
  });

  test("jsonErrorOffset agrees with JSON.parse", () => {
    const cases = ["{}", '{"a":[1,2.5e-3,true,false,null,"\\u00e9\\n"]}', "{bad", '{"a":1,}', "[1,,2]", '"\\x"', "01", "[] x", "", '{"a" 1}', '"a\nb"'];
    for (const c of cases) {
      let ok = true;
      try {
        JSON.parse(c);
      } catch {
        ok = false;
      }
      expect({ c, ok: jsonErrorOffset(c) === null }).toEqual({ c, ok });
    }
    expect(jsonErrorOffset('{"a":1,}')).toBe(7);
  });
});

describe("slash commands", () => {
  test("continue.md uses orch continue and the MCP tools", () => {
    expect(CONTINUE_COMMAND).toStartWith("---\ndescription: ");
    expect(CONTINUE_COMMAND).toContain("argument-hint: <stream-id>");
    expect(CONTINUE_COMMAND).toContain("`orch continue $ARGUMENTS`");
    for (const tool of ["task_update", "agent_heartbeat", "stream_conflict_check", "work_product_store", "task_list", "stream_get"])
      expect(CONTINUE_COMMAND).toContain(tool);
    expect(CONTINUE_COMMAND).toContain("Stream cannot start - dependencies incomplete");
  });

  test("orchestration.md runs orch generate and knows the PRD form", () => {
    expect(ORCHESTRATION_COMMAND).toContain("`orch generate $ARGUMENTS`");
    expect(ORCHESTRATION_COMMAND).toContain("orch prd import");
    expect(ORCHESTRATION_COMMAND).toContain("# Initiative: Add Dark Mode Support");
    expect(ORCHESTRATION_COMMAND).toContain("progress_summary");
  });
});

describe(".gitignore", () => {
  const none = () => false;
  test("creates, appends once, keeps what is there", () => {
    const created = updateGitignore(null, none);
    expect(created.status).toBe("created");
    expect(created.content).toBe(
      "# orch: stream worktrees and run state\n.claude/worktrees/\n.claude/orchestration/logs/\n.claude/orchestration/orchestration-state.json\n.claude/settings.local.json\n",
    );
    expect(updateGitignore(created.content, none)).toEqual({ content: created.content, status: "unchanged", added: [] });
    const appended = updateGitignore("node_modules", none);
    expect(appended.content).toStartWith("node_modules\n\n# orch:");
    expect(appended.status).toBe("updated");
  });

  test("rules already covered (by a broader line, or by git) are not added again", () => {
    expect(updateGitignore("/.claude/\n", none).status).toBe("unchanged");
    expect(updateGitignore(".claude/worktrees\n", none).added).toEqual([".claude/orchestration/logs/", ".claude/orchestration/orchestration-state.json", ".claude/settings.local.json"]);
    expect(updateGitignore("", () => true).status).toBe("unchanged");
    expect(gitignoreCovers(".claude/worktrees/*", ".claude/worktrees/Stream-A")).toBe(true);
    expect(gitignoreCovers("# .claude/\n!.claude/", ".claude/worktrees/Stream-A")).toBe(false);
    expect(gitignoreCovers(".claude/work", ".claude/worktrees/Stream-A")).toBe(false);
  });
});
