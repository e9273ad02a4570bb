/**
 * orch around the real Claude Code CLI (a stand-in model on loopback, so no model time counts):
 * - the whole headless run (init'd real repository, 3 streams, the default agent command) against
 *   the same run with orch's own simulated agent: what a real agent session adds around orch;
 * - orch's share of one agent session's context for a 2-task stream, read from the requests the
 *   model receives: orch's tool schemas as Claude Code sends them, the expanded /continue
 *   prompt, and the results of orch's tools. Every byte is paid in every session.
 */
import { CLAUDE_LATEST, CLAUDE_OLDER } from "../../../test/agents/claude-cli.ts";
import { continuedStream, turnOf, type RecordedRequest } from "../../../test/agents/fake-model.ts";
import { realProject } from "../../../test/agents/real-project.ts";
import { streamAgent } from "../../../test/agents/stream-agent.ts";
import { round, row, type BenchContext, type BenchRow } from "../lib.ts";

export const about =
  "The stand-in model answers at once, so the run's wall time is orch plus Claude Code's own start-up and tool handling. Context bytes are counted from the last request of the Stream-B session (2 tasks): orch's tool schemas (every mcp__task-copilot tool the request carries, plus the deferred names), the expanded /continue text and the text of orch's tool results.";

const PRD = `# Initiative: Bench agents

## Foundation Phase
### Stream-A: Base
- TASK-001: base [files: src/extras/base.ts]

## Parallel Phase
### Stream-B: Checks
- TASK-002: check one [files: src/extras/one.ts]
- TASK-003: check two [files: src/extras/two.ts]
`;
const PLAN = {
  "Stream-A": [{ id: "TASK-001", file: "src/extras/base.ts" }],
  "Stream-B": [
    { id: "TASK-002", file: "src/extras/one.ts" },
    { id: "TASK-003", file: "src/extras/two.ts" },
  ],
};

/** orch's bytes in the last request of a stream's session. */
function contextBytes(requests: RecordedRequest[], streamId: string): { schemas: number; prompt: number; results: number } {
  const mine = requests.filter((r) => r.body.tools?.length && continuedStream(turnOf(r.body)) === streamId);
  const last = mine.at(-1)!.body;
  const t = turnOf(last);
  const orchTools = (last.tools as { name: string }[]).filter((x) => x.name.startsWith("mcp__task-copilot__"));
  const deferredNames = [...t.deferred].filter((n) => n.startsWith("mcp__task-copilot__"));
  const schemas = orchTools.reduce((n, x) => n + JSON.stringify(x).length, 0) + deferredNames.reduce((n, x) => n + x.length + 1, 0);
  const prompt = t.prompt.slice(t.prompt.indexOf("# /continue")).length;
  const results = t.calls.filter((c) => c.name.startsWith("mcp__task-copilot__")).reduce((n, c) => n + (t.results.get(c.id)?.content.length ?? 0), 0);
  return { schemas, prompt, results };
}

async function timedRun(ctx: BenchContext, version: string, sim: boolean) {
  const p = await realProject({ orchBin: ctx.orchBin, claudeVersion: version, prd: PRD, script: streamAgent(PLAN) });
  try {
    const args = ["start", "--launcher", "headless", ...(sim ? ["--agent-cmd", `"${ctx.orchBin}" agent-sim {streamId} --pause 0`] : [])];
    const t0 = performance.now();
    const r = await p.orch(args);
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(`orch start failed:\n${r.stdout}\n${r.stderr}`);
    return { ms, requests: p.model.requests };
  } finally {
    p.model.stop();
  }
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const sim = await timedRun(ctx, CLAUDE_LATEST, true);
  const real = await timedRun(ctx, CLAUDE_LATEST, false);
  rows.push(
    row({
      entry: "agent",
      metric: `\`orch start --launcher headless\`, 2 streams, Claude Code ${CLAUDE_LATEST} as the agent (wall time)`,
      orch: round(real.ms, 0),
      baseline: round(sim.ms, 0),
      baselineName: "the same run with orch's simulated agent",
      unit: "ms",
      target: "recorded: Claude Code's start-up per session dominates",
      pass: true,
    }),
  );
  for (const [version, requests] of [
    [CLAUDE_LATEST, real.requests],
    [CLAUDE_OLDER, (await timedRun(ctx, CLAUDE_OLDER, false)).requests],
  ] as const) {
    const c = contextBytes(requests, "Stream-B");
    const total = c.schemas + c.prompt + c.results;
    rows.push(
      row({
        entry: "agent",
        metric: `orch's share of a 2-task stream's agent context, Claude Code ${version} (tool schemas ${c.schemas} + /continue ${c.prompt} + tool results ${c.results} B)`,
        orch: total,
        baseline: 12_288,
        baselineName: "the 12 KB budget",
        unit: "B",
        target: "≤ 1× (12 KB)",
        maxRatio: 1,
      }),
    );
  }
  return rows;
}
