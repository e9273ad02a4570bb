/**
 * Budgets end to end: the compiled binary, `orch start --launcher headless` with a stand-in
 * `claude` (a script named claude that prints Claude Code's stream-json result with its
 * total_cost_usd and does the stream's work with the simulated agent). Stream-B's first run spends
 * past its budget and stops at Claude Code's cap; the run pauses it, alerts and asks in the inbox,
 * keeps Stream-C going, waits instead of ending; `orch budget raise` resumes it and the run completes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../src/db/client.ts";
import { openTestStore } from "../backend.ts";
import { openQuestion } from "../../src/core/inbox.ts";
import { orchBin, rawQuery, tempDir } from "../helpers.ts";
import { freePort, setup, startInBackground, type Project } from "./start-helpers.ts";

const PRD = `# Initiative: Budget Demo

## Foundation Phase
### Stream-A: Core
- TASK-001: schema

## Parallel Phase
### Stream-B: API
- TASK-002: routes
### Stream-C: UI
- TASK-003: pages
`;

/** The stand-in: records its argv, then overspends (Stream-B's first run) or works and reports a small cost. */
function fakeClaude(p: Project): { cmd: string; argvLog: string } {
  const dir = tempDir("fake-claude-");
  mkdirSync(join(dir, "bin"));
  const argvLog = join(dir, "argv.log");
  const script = join(dir, "bin", "claude");
  const result = (subtype: string, cost: number) =>
    JSON.stringify({ type: "result", subtype, is_error: subtype !== "success", num_turns: 2, session_id: "SID", total_cost_usd: cost, usage: { input_tokens: 1000, output_tokens: 100, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } });
  writeFileSync(
    script,
    `#!/bin/sh
echo "$ORCH_STREAM_ID $*" >> "${argvLog}"
n_file="${dir}/$ORCH_STREAM_ID.n"
n=$(( $(cat "$n_file" 2>/dev/null || echo 0) + 1 ))
echo $n > "$n_file"
sid="sess-$ORCH_STREAM_ID-$n"
echo '{"type":"system","subtype":"init","session_id":"'$sid'"}'
if [ "$ORCH_STREAM_ID" = "Stream-B" ] && [ $n = 1 ]; then
  echo '${result("error_max_budget_usd", 1.02)}' | sed "s/SID/$sid/"
  exit 1
fi
"${orchBin()}" agent-sim "$ORCH_STREAM_ID" --pause 20 --record "${p.recordFile}" > /dev/null || exit $?
echo '${result("success", 0.1)}' | sed "s/SID/$sid/"
`,
  );
  chmodSync(script, 0o755);
  return { cmd: `"${script}" -p "/continue {streamId}" --output-format stream-json --verbose`, argvLog };
}

function webhookServer() {
  const texts: string[] = [];
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async (req) => (texts.push(((await req.json()) as { text: string }).text), new Response("ok")) });
  return { url: `http://127.0.0.1:${server.port}/hook`, texts, stop: () => server.stop(true) };
}

/** Read a live stdout until `pred` holds for all of it so far. */
function follower(stream: ReadableStream<Uint8Array>) {
  let text = "";
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return {
    text: () => text,
    async until(what: string, timeoutMs = 30_000): Promise<string> {
      const t0 = performance.now();
      while (!text.includes(what)) {
        if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${JSON.stringify(what)}; output so far:\n${text}`);
        await Bun.sleep(20);
      }
      return text;
    },
  };
}

const hooks: { stop(): void }[] = [];
afterAll(() => {
  for (const h of hooks) h.stop();
});

describe("budgets with orch start (compiled binary, stand-in claude)", () => {
  test("a stream at its budget is paused, alerted and asked about; the others go on; orch budget raise resumes it and the run completes", async () => {
    const p = await setup(PRD);
    expect((await p.orch(["init"])).code).toBe(0);
    p.git("add", "-A");
    p.git("commit", "-qm", "orch init");
    const { cmd, argvLog } = fakeClaude(p);
    const hook = webhookServer();
    hooks.push(hook);
    const env = { HTTP_API_PORT: String(freePort()), ORCHESTRATION_WEBHOOK_URL: hook.url };

    const bad = await p.orch(["start", "--launcher", "headless", "--budget-stream-usd", "five"], env);
    expect(bad).toEqual({ code: 2, stdout: "", stderr: 'orch: flag --budget-stream-usd must be a positive amount of US dollars up to 1000000 (like 5 or 2.50), not "five"\n' });

    const run = startInBackground(p, ["--launcher", "headless", "--agent-cmd", cmd, "--budget-stream-usd", "1"], env);
    const out = follower(run.stdout);
    await out.until("⏸ Waiting for a budget raise: Stream-B (orch budget raise Stream-B USD); nothing else can run");
    const text = out.text();
    expect(text).toContain("⏸ Stream-B reached its budget ($1.02 of $1.00): Stream-B launches nothing more until it is raised — orch budget raise Stream-B USD (inbox ");
    // The other parallel stream went on and was merged while Stream-B waited.
    expect(text).toContain("✓ Stream-C complete");
    expect(text).toContain("⇄ Stream-C merged into main");
    expect(text).not.toContain("complete.");
    expect(text).not.toContain("↻ Stream-B"); // not restarted as a failure
    expect(readFileSync(argvLog, "utf8")).toContain("Stream-B -p /continue Stream-B --output-format stream-json --verbose --max-budget-usd 1\n");
    expect(p.state()).toMatchObject({ outcome: "running", pausedStreams: ["Stream-B"], budget: { streamUsd: 1 } });

    const shown = await p.orch(["budget"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/Stream-B\s+\$1\.02\s+\$1\.00\s+1,100\s+-\s+paused: budget\n/);
    expect(shown.stdout).toMatch(/Stream-C\s+\$0\.10\s+\$1\.00\s+1,100\s+-\s+complete\n/);
    expect(shown.stdout).toContain("\nInitiative: $1.22, 3,300 tokens\nLimits: those of the running orch start\n");
    const reader = await openTestStore(p.db);
    const entry = () => rawQuery(reader, "SELECT * FROM inbox WHERE kind = 'budget'");
    expect(await entry()).toMatchObject([{ stream_id: "Stream-B", status: "pending", question: "Stream-B reached its budget ($1.02 of $1.00): raise it? orch budget raise Stream-B USD" }]);

    // A permission question from any agent is alerted by the run.
    const store = await openTestStore(p.db);
    const q = await openQuestion(store, { kind: "permission", source: "hook", sessionId: "sess-x", streamId: "Stream-B", toolName: "Bash", toolInput: { command: "npm publish" }, question: "Bash(npm publish)", timeoutMs: 60_000 });
    await store.close();
    await out.until(`⏸ Stream-B waits for permission: Bash(npm publish) — orch allow ${q.id} / orch deny ${q.id}`);

    const raised = await p.orch(["budget", "raise", "Stream-B", "2"]);
    expect(raised).toEqual({ code: 0, stderr: "", stdout: "Stream-B: budget raised by $2.00 to $3.00 (spent $1.02); resumed — a running orch start launches it again within a few seconds\n" });
    const r = await run.result();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("▶ Stream-B: budget raised ($1.98 left); resuming");
    expect(r.stdout).toMatch(/\n▶ Stream-B \(parallel\) started again: pid \d+/);
    expect(r.stdout).not.toContain("Its agent, still running"); // a headless agent ends with its result
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("✓ All 3 streams complete.");
    expect(readFileSync(argvLog, "utf8")).toContain("Stream-B -p /continue Stream-B --output-format stream-json --verbose --max-budget-usd 1.98\n");
    expect(await entry()).toMatchObject([{ status: "allowed", answered_how: "person" }]);
    await reader.close();
    expect(hook.texts).toContain("⏸ Stream-B paused: budget reached ($1.02 of $1.00) — orch budget raise Stream-B USD");
    expect(hook.texts).toContain(`⏸ Stream-B waits for permission: Bash(npm publish) — orch allow ${q.id} / orch deny ${q.id}`);
    expect(p.state()).toMatchObject({ outcome: "complete", pausedStreams: [] });
    if (process.env.SHOW_OUTPUT) console.log(r.stdout);
  }, 120_000);
});
