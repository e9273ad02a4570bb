/**
 * The stream page's live parts in Chromium against `dist/orch serve`: the agent's log tail (a
 * headless launcher's log, and a transcript an agent's hook reported) grows without reload when
 * an event about the stream arrives; the stream's work products are listed, a new one appears,
 * and one opened shows its content; orch start's run state shows as badges (failed, paused for
 * budget, running) on the cards and the stream page. Agent-written text is shown as text.
 */
import { expect, test } from "bun:test";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { storeWorkProduct } from "../../src/core/work-products.ts";
import { openStore } from "../../src/db/client.ts";
import { newRunState, newStreamRun, saveState } from "../../src/orchestrate/state.ts";
import { cleanEnv, orchBin, tempDir } from "../helpers.ts";
import { commit, sh, write } from "../git/repo-helpers.ts";
import { browserDescribe, openDashboard, serveProject, useBrowser, type Served } from "./harness.ts";

const jsonl = (...objs: unknown[]) => objs.map((o) => `${JSON.stringify(o)}\n`).join("");
const said = (text: string) => ({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text }] } });
const ran = (command: string) => ({ type: "assistant", message: { role: "assistant", content: [{ type: "tool_use", id: `t-${command}`, name: "Bash", input: { command } }] } });
const EVIL = `<img src=x onerror="window.__pwned=1">`;

/** A Claude Code hook call from an agent working on `stream`, as `orch hook` gets it. */
async function hook(s: Served, stream: string, payload: Record<string, unknown>): Promise<void> {
  const proc = Bun.spawn([orchBin(), "hook"], {
    cwd: s.dir,
    env: cleanEnv({ ...s.env, ORCH_STREAM_ID: stream }),
    stdin: new Blob([JSON.stringify({ cwd: s.dir, ...payload })]),
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await proc.exited).toBe(0);
}

browserDescribe("the stream page, live (Chromium)", () => {
  const b = useBrowser();

  test("the agent's log: an honest empty state; the headless log's lines, kept at the end; a new line shows on the stream's next event, as text", async () => {
    const s = await serveProject();
    const logs = join(s.dir, ".claude/orchestration/logs");
    mkdirSync(logs, { recursive: true });
    const log = join(logs, "Stream-B.log");
    const many = Array.from({ length: 60 }, (_, i) => said(`step ${i}`));
    writeFileSync(log, jsonl({ type: "system", subtype: "init", session_id: "s1" }, ...many, ran("npm test")));

    const page = await b.page();
    await openDashboard(page, s);
    await page.goto(`${s.origin}/#/stream/Stream-C`);
    const empty = page.locator("#log p.empty");
    await empty.waitFor();
    expect(await empty.innerText()).toBe("No agent log yet — orch start launches one.");

    await page.goto(`${s.origin}/#/stream/Stream-B`);
    await page.locator('#log li[data-log-kind="tool"]', { hasText: "Bash: npm test" }).waitFor();
    expect(await page.locator("#log li[data-log-kind]").count()).toBe(61);
    const atEnd = () => page.locator("#log-lines").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 2);
    expect(await atEnd()).toBe(true);

    // The agent writes on; the page learns of it from the stream's next event (no timer polls).
    appendFileSync(log, jsonl(said(`${EVIL} checked the focus ring`), { type: "result", subtype: "success", num_turns: 9, total_cost_usd: 0.5 }));
    await Bun.sleep(300);
    expect(await page.locator("#log li", { hasText: "checked the focus ring" }).count()).toBe(0);
    expect((await s.orch(["task", "update", "TASK-006", "--notes", "focus ring"])).code).toBe(0);
    const line = page.locator('#log li[data-log-kind="text"]', { hasText: "checked the focus ring" });
    await line.waitFor({ timeout: 5_000 });
    expect(await line.innerText()).toBe(`${EVIL} checked the focus ring`);
    expect(await page.locator('#log li[data-log-kind="result"]').innerText()).toBe("Finished · 9 turns · $0.50");
    expect(await atEnd()).toBe(true);
    expect(await page.locator("#app img").count()).toBe(0);
    expect(await page.evaluate("window.__pwned")).toBeUndefined();
  }, 30_000);

  test("the transcript an agent's hook reported (under CLAUDE_CONFIG_DIR/projects): shown when its hook's event arrives", async () => {
    const config = tempDir("orch-claude-config-");
    const s = await serveProject({ serveEnv: { CLAUDE_CONFIG_DIR: config } });
    const transcript = join(config, "projects", "-repo", "sess-c.jsonl");
    mkdirSync(join(config, "projects", "-repo"), { recursive: true });
    writeFileSync(
      transcript,
      jsonl(
        { type: "user", message: { role: "user", content: "<command-name>/continue</command-name>\n<command-args>Stream-C</command-args>" }, timestamp: "2026-01-08T12:00:00.000Z" },
        said("Resuming Stream-C."),
      ),
    );
    const page = await b.page();
    await openDashboard(page, s, "#/stream/Stream-C");
    await page.locator("#log p.empty").waitFor();
    await hook(s, "Stream-C", { session_id: "sess-c", hook_event_name: "SessionStart", source: "startup", transcript_path: transcript });
    await page.locator('#log li[data-log-kind="text"]', { hasText: "Resuming Stream-C." }).waitFor({ timeout: 5_000 });
    expect(await page.locator('#log li[data-log-kind="user"]').innerText()).toContain("/continue Stream-C");
    expect(await page.locator("#log").innerText()).toContain("from the transcript of its latest agent session");
  }, 30_000);

  test("an agent's edit shows among the worktree's dirty files on its next hook event, with no database change between", async () => {
    const s = await serveProject();
    sh(s.dir, "config", "user.email", "dev@example.com");
    sh(s.dir, "config", "user.name", "Dev");
    commit(s.dir, { "README.md": "# app\n" }, "initial");
    const wt = join(s.dir, ".claude/worktrees/Stream-B");
    sh(s.dir, "worktree", "add", "-q", "-b", "stream-b", wt);
    const page = await b.page();
    await openDashboard(page, s, "#/stream/Stream-B");
    await page.locator("#worktree [data-branch]", { hasText: "stream-b" }).waitFor();
    expect(await page.locator("#worktree li[data-dirty]").count()).toBe(0);
    // The agent's Write, then its PostToolUse hook: only an agent event, no task or stream change.
    write(wt, "src/components/Input.tsx", "export const Input = 1;\n");
    await hook(s, "Stream-B", { session_id: "sess-b", hook_event_name: "PreToolUse", tool_name: "Write", tool_input: { file_path: join(wt, "src/components/Input.tsx") } });
    await page.locator('#worktree li[data-dirty="src/components/Input.tsx"]').waitFor({ timeout: 5_000 });
  }, 30_000);

  test("work products: the stream's stored ones listed on open, a new one without reload, one opened shows its content as text", async () => {
    const s = await serveProject();
    // Stored by an agent: another process writing the same database (as work_product_store does).
    const agentDb = await openStore(s.env.ORCH_DB!);
    try {
      const first = await storeWorkProduct(agentDb, { taskId: "TASK-005", type: "technical_design", title: `${EVIL} Button design`, content: `<script>window.__pwned=2</script>\n# Button\n\nTokens: <b>primary</b>` });
      await storeWorkProduct(agentDb, { taskId: "TASK-001", type: "implementation", title: "Stream-A's, not this page's", content: "x" });
      const page = await b.page();
      await openDashboard(page, s, "#/stream/Stream-B");
      const item = page.locator(`#work-products li[data-work-product="${first.id}"]`);
      await item.waitFor();
      expect(await item.innerText()).toContain(`${EVIL} Button design`);
      expect(await page.locator("#work-products li[data-work-product]").count()).toBe(1);

      await item.locator("button[data-open-work-product]").click();
      const content = page.locator("#work-product #work-product-content");
      await content.filter({ hasText: "Tokens:" }).waitFor();
      expect(await content.innerText()).toBe("<script>window.__pwned=2</script>\n# Button\n\nTokens: <b>primary</b>");
      expect(await page.locator("#work-product b, #work-product script, #app img").count()).toBe(0);

      // A new one while the page is open: listed first, the opened one stays open.
      const second = await storeWorkProduct(agentDb, { taskId: "TASK-006", type: "test_plan", title: "Input focus tests", content: "1. tab to it" });
      await page.locator(`#work-products li[data-work-product="${second.id}"]`).waitFor({ timeout: 5_000 });
      expect(await page.locator("#work-products li[data-work-product]").evaluateAll((els) => els.map((e) => e.getAttribute("data-work-product")))).toEqual([second.id, first.id]);
      expect(await content.innerText()).toContain("Tokens:");
      expect(await page.evaluate("window.__pwned")).toBeUndefined();
    } finally {
      await agentDb.close();
    }
  }, 30_000);

  test("run badges from orch start's state: failed and paused (budget) on the cards and the stream page; running once the run says so, after an agent event", async () => {
    const s = await serveProject();
    const run = newRunState({ initiativeId: null, launcher: "headless", maxParallelStreams: 2, restartLimit: 2, now: new Date().toISOString() });
    run.orchestratorPid = process.pid; // a live orch start, as far as the server can tell
    run.streams["Stream-A"] = { ...newStreamRun(), status: "merged" };
    run.streams["Stream-B"] = { ...newStreamRun(), status: "failed", restarts: 2, lastExitCode: 1 };
    run.streams["Stream-C"] = { ...newStreamRun(), status: "pending" };
    run.pausedStreams = ["Stream-C"];
    saveState(s.dir, run);

    const page = await b.page();
    await openDashboard(page, s);
    await page.locator('[data-stream="Stream-B"] [data-run="failed"]').waitFor();
    expect(await page.locator('[data-stream="Stream-C"] [data-run]').textContent()).toBe("paused (budget)");
    expect(await page.locator('[data-stream="Stream-A"] [data-run]').count()).toBe(0);
    expect(await page.locator('[data-stream="Stream-B"] [data-run="failed"]').getAttribute("title")).toBe("orch start gave up on it (last exit code 1, 2 restarts)");

    await page.goto(`${s.origin}/#/stream/Stream-C`);
    await page.locator('#stream[data-stream-page="Stream-C"] [data-run="paused"]').waitFor();
    // Raised and relaunched: the state file says so, and the agent's first hook is the event that brings it.
    run.pausedStreams = [];
    run.streams["Stream-C"] = { ...newStreamRun(), status: "running", launches: 1 };
    saveState(s.dir, run);
    await hook(s, "Stream-C", { session_id: "sess-run-c", hook_event_name: "SessionStart", source: "startup" });
    await page.locator('#stream[data-stream-page="Stream-C"] [data-run="running"]').waitFor({ timeout: 5_000 });
    expect(await page.locator('#stream [data-run="paused"]').count()).toBe(0);
  }, 30_000);
});
