/**
 * The Allow button, end to end with the real Claude Code CLI as the agent (the stand-in model on
 * loopback): `orch start --launcher headless` runs a plan on a real repository; the agent asks
 * for a command outside its allow-list through orch's permission tool; a person opens the
 * dashboard, sees the question in Needs you and clicks Allow; the agent's command runs (the model
 * gets its output), the stream completes and the run ends complete.
 */
import { afterAll, expect, test } from "bun:test";
import { CLAUDE_LATEST, useTempDirs } from "../agents/claude-cli.ts";
import { continuedStream, stepList, type FakeModel, type Step, type Turn } from "../agents/fake-model.ts";
import { realProject } from "../agents/real-project.ts";
import { cleanEnv, orchBin, tempDir } from "../helpers.ts";
import { browserDescribe, useBrowser } from "./harness.ts";

const PRD = `# Initiative: Allow from the browser

## Foundation Phase
### Stream-A: The one stream
- TASK-001: Write a note [files: notes/allowed.txt]
`;

const mcp = (name: string) => `mcp__task-copilot__${name}`;
const bash = (command: string): Step => ({ tool: "Bash", input: { command, description: "run it" } });

const script = stepList((turn: Turn) =>
  continuedStream(turn) !== "Stream-A"
    ? []
    : [
        { tool: mcp("task_update"), input: { id: "TASK-001", status: "in_progress", assignedAgent: "agent-a" } },
        bash("node -e \"console.log('ran-after-browser-allow')\""),
        { tool: "Write", input: { file_path: `${turn.cwd}/notes/allowed.txt`, content: "allowed\n" } },
        bash("git add -- notes/allowed.txt"),
        bash('git commit -q -m "TASK-001"'),
        { tool: mcp("task_update"), input: { id: "TASK-001", status: "completed", notes: "wrote the note" } },
      ],
);

useTempDirs(tempDir);
const models: FakeModel[] = [];
afterAll(() => {
  for (const m of models) m.stop();
});

/** The tool_result the model got for the Bash call containing `needle`. */
function resultFor(model: FakeModel, needle: string): string | null {
  for (const r of [...model.requests].reverse()) {
    const msgs: any[] = r.body.messages ?? [];
    const call = msgs.flatMap((m) => (m.role === "assistant" && Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === "tool_use" && String(b.input?.command ?? "").includes(needle));
    const res = call && msgs.flatMap((m) => (m.role === "user" && Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === "tool_result" && b.tool_use_id === call.id);
    if (res) return typeof res.content === "string" ? res.content : JSON.stringify(res.content);
  }
  return null;
}

browserDescribe("Allow in the dashboard, with the real Claude Code CLI (Chromium)", () => {
  const b = useBrowser();

  test(`Claude Code ${CLAUDE_LATEST} headless waits on orch's permission tool; the Allow button lets its command run and the run completes`, async () => {
    const p = await realProject({ orchBin: orchBin(), claudeVersion: CLAUDE_LATEST, prd: PRD, script });
    models.push(p.model);
    const serve = Bun.spawn([orchBin(), "serve", "--port", "0"], { cwd: p.root, env: cleanEnv({ ORCH_DB: p.env.ORCH_DB!, HOME: p.env.HOME! }), stdout: "ignore", stderr: "pipe" });
    const run = Bun.spawn([orchBin(), "start", "--launcher", "headless"], { cwd: p.root, env: p.env, stdout: "pipe", stderr: "pipe" });
    try {
      let err = "";
      const reader = serve.stderr.getReader();
      while (!/Dashboard: (\S+)/.test(err)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`orch serve ended: ${err}`);
        err += new TextDecoder().decode(value);
      }
      const link = /Dashboard: (\S+)/.exec(err)![1]!;
      const page = await b.page();
      await page.goto(link);
      await page.locator('a[href="#/needs-you"]').click();
      const entry = page.locator("li[data-inbox]", { hasText: "ran-after-browser-allow" });
      await entry.waitFor({ timeout: 120_000 });
      expect(await page.title()).toBe("(1) orch");
      const id = await entry.getAttribute("data-inbox");
      await page.locator(`button[data-allow="${id}"]`).click();
      await page.locator("li[data-inbox]").first().waitFor({ state: "detached", timeout: 30_000 });
      const [stdout, stderr, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited]);
      expect({ code, stderr: stderr.slice(-2000) }).toMatchObject({ code: 0 });
      expect(stdout).toContain("complete");
      expect(resultFor(p.model, "ran-after-browser-allow")).toContain("ran-after-browser-allow");
      expect(p.git("log", "--format=%s", "-5")).toContain("TASK-001");
      const answered = JSON.parse((await p.orch(["inbox", "--all", "--json"])).stdout).entries.find((e: { id: number }) => e.id === Number(id));
      expect(answered).toMatchObject({ status: "allowed", answeredHow: "person", answeredBy: "dashboard" });
    } finally {
      run.kill();
      serve.kill();
    }
  }, 240_000);
});
