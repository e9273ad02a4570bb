/**
 * Needs you, timed with the real Claude Code CLI interactive in tmux (stand-in model on loopback):
 * from the model's answer asking for a tool outside the allow-list to the session showing as
 * `waiting_permission` in `GET /api/agents`. The issue asks for at most 1 s.
 */
import { CLAUDE_LATEST } from "../../../test/agents/claude-cli.ts";
import { stepList, type Turn } from "../../../test/agents/fake-model.ts";
import { startInteractiveClaude, waitForApiAgent } from "../../../test/agents/interactive.ts";
import { realProject } from "../../../test/agents/real-project.ts";
import { median, round, row, type BenchContext, type BenchRow } from "../lib.ts";

export const about =
  "Each round starts `claude --permission-mode default \"check the build N\"` in a tmux pane of a real project (`orch init`'d, `orch serve` running); the stand-in model answers with a Bash call outside the allow-list and notes the time; the bench polls `/api/agents` every 10 ms until that session is `waiting_permission`. What it measures is Claude Code's own handling of the answer, the PermissionRequest hook and orch's write, and the API read.";

const PRD = "# Initiative: Bench needs you\n\n## Foundation Phase\n### Stream-A: Base\n- TASK-001: base\n";

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const asked = new Map<string, number>();
  const script = stepList((turn: Turn) => {
    const round = /check the build (\d+)/.exec(turn.prompt)?.[1];
    return round ? [{ tool: "Bash", input: { command: `node -e "console.log(${round})"`, description: "run it" } }] : [];
  });
  const p = await realProject({
    orchBin: ctx.orchBin,
    claudeVersion: CLAUDE_LATEST,
    prd: PRD,
    script: (turn) => {
      const step = script(turn);
      const round = /check the build (\d+)/.exec(turn.prompt)?.[1];
      if ("tool" in step && round && !asked.has(round)) asked.set(round, Date.now());
      return step;
    },
  });
  const serve = Bun.spawn([ctx.orchBin, "serve"], { cwd: p.root, env: p.env, stdout: "ignore", stderr: "ignore" });
  const api = `http://127.0.0.1:${p.env.HTTP_API_PORT}`;
  const seen = new Set<string>();
  const latencies: number[] = [];
  try {
    for (let i = 1; i <= (ctx.quick ? 2 : 5); i++) {
      const term = startInteractiveClaude(p, `check the build ${i}`, { ORCH_STREAM_ID: "Stream-A" });
      try {
        const waiting = await waitForApiAgent(api, (a) => a.status === "waiting_permission" && !seen.has(a.sessionId), 60_000);
        if (!waiting || !asked.has(String(i))) throw new Error(`round ${i}: no session waiting for permission in /api/agents\n${term.capture()}`);
        latencies.push(Date.now() - asked.get(String(i))!);
        seen.add(waiting.sessionId);
      } finally {
        term.kill();
      }
    }
  } finally {
    serve.kill();
    p.model.stop();
  }
  const ms = median(latencies);
  return [
    row({
      entry: "needs-you",
      metric: `interactive Claude Code ${CLAUDE_LATEST} asks for a tool → \`waiting_permission\` in /api/agents, median of ${latencies.length}`,
      orch: round(ms, 0),
      baseline: 1000,
      baselineName: "the 1 s target",
      unit: "ms",
      target: "≤ 1000 ms",
      pass: ms <= 1000,
    }),
  ];
}
