/**
 * Regression tests for the defects the stress suites found, one each, deterministic and fast
 * (they run in every `npm test`, whatever STRESS says).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { formatPrdError, parsePrd } from "../../src/core/prd-markdown.ts";
import { tempDir, tempStore } from "../helpers.ts";
import { connect } from "../mcp/helpers.ts";
import { McpProc } from "./harness/mcp-proc.ts";
import { cleanEnv, orchBin } from "./harness/orch.ts";

describe("regressions found by fuzzing orch mcp", () => {
  test("an unknown tool's name is echoed at most 100 characters long", async () => {
    const s = await connect(await tempStore());
    const name = `x${"y".repeat(20_000)}`; // the SDK client refuses nothing: it sends it as is
    const err = await s.client.callTool({ name, arguments: {} }).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(err).toEndWith(`Unknown tool: x${"y".repeat(99)}… (20001 characters)`);
    expect(err!.length).toBeLessThan(200);
  });

  test("a stray response of megabytes is logged as one bounded line", async () => {
    const dir = tempDir();
    const proc = McpProc.spawn(orchBin(), ["mcp", "--db", join(dir, "tasks.db")], { env: cleanEnv({ HOME: dir }) });
    await proc.initialize();
    proc.write(`${JSON.stringify({ jsonrpc: "2.0", id: 424242, result: { big: "z".repeat(2_000_000) } })}\n`);
    expect((await proc.request("ping", {})).result).toEqual({});
    proc.closeStdin();
    expect(await proc.exited).toBe(0);
    const line = proc.stderr.split("\n").find((l) => l.includes("unknown message ID"))!;
    expect(line).toStartWith("orch mcp: Received a response for an unknown message ID: ");
    expect(line.length).toBeLessThan(700);
    expect(line).toEndWith("characters)");
  });
});

describe("regressions found by fuzzing PRD import", () => {
  const errors = (text: string) => {
    const r = parsePrd(text);
    if (r.ok) throw new Error("expected errors");
    return r.errors.map(formatPrdError);
  };

  test("a rejected stream id is shown quoted and cut at 60 characters, not echoed whole", () => {
    const [e] = errors(`# Initiative: X\n## Foundation Phase\n### ${"A/".repeat(3000)}: name\n- T1: t\n`);
    expect(e).toBe(`PRD line 3: invalid stream id ${JSON.stringify(`${"A/".repeat(30)}…`)} (letters, digits, '.', '_' or '-', starting with a letter or digit)`);
  });

  test("control characters in a rejected id are escaped, never written raw to a terminal", () => {
    const [e] = errors("# Initiative: X\n## Foundation Phase\n### \u001b]0;pwned\u0007: name\n- T1: t\n");
    expect(e).toBe('PRD line 3: invalid stream id "\\u001b]0;pwned\\u0007" (letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit)');
    expect(e).not.toMatch(/[\u0000-\u001f]/);
    const [d] = errors(`# Initiative: X\n## Foundation Phase\n### A: a (depends on ${"\u001b".repeat(200)})\n- T1: t\n`);
    expect(d).toStartWith('PRD line 3: invalid dependency "\\u001b');
    expect(d!.length).toBeLessThan(450);
  });
});
