/**
 * Regression tests for the defects the stress suites found, one each, deterministic and fast
 * (they run in every `npm test`, whatever STRESS says).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir, tempStore } from "../helpers.ts";
import { connect } from "../mcp/helpers.ts";
import { McpProc } from "./harness/mcp-proc.ts";
import { cleanEnv, orchBin } from "./harness/orch.ts";

describe("regressions found by fuzzing orch mcp", () => {
  test("an unknown tool's name is echoed at most 100 characters long", async () => {
    const s = await connect(tempStore());
    const name = `x${"y".repeat(300_000)}`; // the SDK client refuses nothing: it sends it as is
    const err = await s.client.callTool({ name, arguments: {} }).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(err).toEndWith(`Unknown tool: x${"y".repeat(99)}… (300001 characters)`);
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
