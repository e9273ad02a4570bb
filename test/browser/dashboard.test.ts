/**
 * The dashboard in Chromium against `dist/orch serve` on the guide's imported plan: the overview
 * renders it, a change made by another process appears without reload within 500 ms, the Allow
 * button unblocks a waiting agent, and agent-written text is shown as text. Selectors are the
 * stable hooks listed at the top of src/dashboard/app/main.ts.
 *
 * With UPDATE_SCREENSHOTS=1 the overview and stream tests write docs/dashboard-overview.png and
 * docs/dashboard-stream.png.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { commit, sh, write } from "../git/repo-helpers.ts";
import { freePort } from "../net.ts";
import { browserDescribe, eventually, openDashboard, pendingInbox, screenshot, serveProject, useBrowser, waitingHook, type Served } from "./harness.ts";

const STREAMS = ["Stream-A", "Stream-B", "Stream-C", "Stream-Z"];

/** Open the dashboard as a person does (the login link) and wait for the overview's cards. */
async function openOverview(page: Page, s: Served): Promise<void> {
  await openDashboard(page, s);
  await page.locator('[data-stream="Stream-A"]').waitFor({ timeout: 10_000 });
}

/** Some progress, as agents would leave it, so the pictures show more than a blank plan. */
async function someProgress(s: Served): Promise<void> {
  const run = async (args: string[]) => expect((await s.orch(args)).code).toBe(0);
  for (const id of ["TASK-001", "TASK-002", "TASK-003", "TASK-004"]) await run(["task", "update", id, "--status", "completed", "--agent", "agent-a"]);
  await run(["task", "update", "TASK-005", "--status", "completed", "--agent", "agent-b", "--notes", "Button reads the theme tokens"]);
  await run(["task", "update", "TASK-006", "--status", "in_progress", "--agent", "agent-b", "--notes", "focus ring contrast in dark mode", "--metadata", '{"files":["src/components/Input.tsx"]}']);
  await run(["task", "update", "TASK-008", "--status", "in_progress", "--agent", "agent-c"]);
  await run(["task", "update", "TASK-009", "--status", "blocked", "--agent", "agent-c", "--blocked-reason", "waiting on the settings API shape"]);
}

/**
 * Wait until `selector` holds `text` in the page; ms from the call. Locators, not waitForFunction:
 * the page's CSP forbids eval, which a string predicate needs.
 */
async function timeUntil(page: Page, selector: string, text: string, timeout = 5_000): Promise<number> {
  const t0 = performance.now();
  await page.locator(selector, { hasText: text }).waitFor({ timeout });
  return performance.now() - t0;
}

browserDescribe("the dashboard (Chromium)", () => {
  const b = useBrowser();

  test("the overview renders the imported plan: a card per stream in its phase lane, the dependency graph", async () => {
    const s = await serveProject();
    await someProgress(s);
    const page = await b.page();
    await openOverview(page, s);
    // (bun's expect(…).resolves costs up to a second per call here: await first.)
    const lane = (phase: string) => page.locator(`section[data-phase="${phase}"] [data-stream]`).evaluateAll((els) => els.map((e) => e.getAttribute("data-stream")).sort());
    expect(await page.locator("#overview [data-stream]").evaluateAll((els) => els.map((e) => e.getAttribute("data-stream")).sort())).toEqual(STREAMS);
    expect(await lane("foundation")).toEqual(["Stream-A"]);
    expect(await lane("parallel")).toEqual(["Stream-B", "Stream-C"]);
    expect(await lane("integration")).toEqual(["Stream-Z"]);
    expect(await page.locator('[data-stream="Stream-A"]').innerText()).toContain("4/4 done");
    expect(await page.locator('[data-stream="Stream-B"]').innerText()).toContain("1/3 done");
    // The graph: a node per stream, A done, Z waiting on B and C.
    expect(await page.locator("#graph [data-node]").evaluateAll((els) => els.map((e) => e.getAttribute("data-node")).sort())).toEqual(STREAMS);
    expect(await page.locator('#graph [data-node="Stream-A"]').getAttribute("data-frontier")).toBe("completed");
    expect(await page.locator('#graph [data-node="Stream-Z"]').getAttribute("data-frontier")).toBe("waiting");
    await screenshot(page, "dashboard-overview.png");
  });

  test("a task update made by another process appears without reload within 500 ms of its exit", async () => {
    const s = await serveProject();
    const page = await b.page();
    await openOverview(page, s);
    await page.evaluate("window.__sameDocument = 1");
    expect(await page.locator('[data-stream="Stream-A"] .counts').innerText()).toContain("0/4 done");

    // Overview: a card's counts.
    expect((await s.orch(["task", "update", "TASK-001", "--status", "completed"])).code).toBe(0);
    const card = await timeUntil(page, '[data-stream="Stream-A"] .counts', "1/4 done");
    expect(card).toBeLessThanOrEqual(500);

    // Stream page: a task's notes, reached by the card's link (no reload either).
    await page.locator('[data-stream="Stream-A"] a[data-stream-link]').first().click();
    await page.locator('#stream[data-stream-page="Stream-A"] tr[data-task="TASK-002"]').waitFor();
    expect((await s.orch(["task", "update", "TASK-002", "--notes", "provider wired into the app shell", "--status", "in_progress"])).code).toBe(0);
    const row = await timeUntil(page, 'tr[data-task="TASK-002"] td.notes', "provider wired into the app shell");
    expect(row).toBeLessThanOrEqual(500);
    expect(await page.evaluate("window.__sameDocument")).toBe(1);
  });

  test("Allow in Needs you unblocks the waiting agent: its hook prints the allow decision and exits", async () => {
    const s = await serveProject();
    const ask = waitingHook(s, "Stream-B", "sess-b", "npm publish");
    const [entry] = await eventually("the hook's question in the inbox", () => pendingInbox(s).then((e) => (e.length ? e : null)));
    const page = await b.page();
    await openOverview(page, s);
    await page.locator("#inbox-count", { hasText: "1" }).waitFor({ timeout: 3_000 });
    expect(await page.title()).toStartWith("(1) ");
    await page.locator('#nav a[href="#/needs-you"]').click();
    const item = page.locator(`#needs-you li[data-inbox="${entry!.id}"]`);
    await item.waitFor();
    expect(await item.innerText()).toContain("npm publish");
    expect(ask.proc.exitCode).toBeNull();

    await page.locator(`button[data-allow="${entry!.id}"]`).click();
    const code = await Promise.race([ask.proc.exited, Bun.sleep(5_000).then(() => "still waiting")]);
    expect(code).toBe(0);
    expect(JSON.parse(await ask.stdout)).toEqual({ hookSpecificOutput: { hookEventName: "PermissionRequest", decision: { behavior: "allow" } } });
    expect(await pendingInbox(s)).toEqual([]);
    await item.waitFor({ state: "detached", timeout: 2_000 });
    await eventually("the count gone from the title", async () => !(await page.title()).startsWith("("), 2_000);
  }, 30_000);

  test("Deny with a reason, by keyboard alone: the agent is told the reason", async () => {
    const s = await serveProject();
    const ask = waitingHook(s, "Stream-C", "sess-c", "git push origin main");
    const [entry] = await eventually("the hook's question in the inbox", () => pendingInbox(s).then((e) => (e.length ? e : null)));
    const page = await b.page();
    await page.goto(s.entryUrl);
    await page.goto(`${s.origin}/#/needs-you`);
    const reason = page.locator(`input[data-reason="${entry!.id}"]`);
    await reason.waitFor();
    await reason.focus();
    await page.keyboard.type("not on Fridays");
    const onDeny = `document.activeElement?.getAttribute("data-deny") === "${entry!.id}"`;
    // From the reason field, Tab reaches Deny (past Allow, if Allow comes first), and Enter presses it.
    for (let i = 0; i < 4; i++) {
      if (await page.evaluate(onDeny)) break;
      await page.keyboard.press("Tab");
    }
    expect(await page.evaluate(onDeny)).toBe(true);
    await page.keyboard.press("Enter");
    const code = await Promise.race([ask.proc.exited, Bun.sleep(5_000).then(() => "still waiting")]);
    expect(code).toBe(0);
    const decision = JSON.parse(await ask.stdout).hookSpecificOutput.decision;
    expect(decision).toMatchObject({ behavior: "deny" });
    expect(decision.message).toContain("not on Fridays");
  }, 30_000);

  test("no plan yet: the honest empty state", async () => {
    const s = await serveProject({ plan: false });
    const page = await b.page();
    await page.goto(s.entryUrl);
    const empty = page.locator("#overview #empty");
    await empty.waitFor();
    expect(await empty.innerText()).toContain("No plan yet — run orch prd import PRD.md");
    expect(await page.locator("[data-stream]").count()).toBe(0);
  });

  test("an agent-written <img onerror> title is shown as text, never run", async () => {
    const s = await serveProject();
    const evil = `<img src=x onerror="window.__pwned=1">`;
    expect((await s.orch(["task", "update", "TASK-005", "--title", evil, "--notes", `<script>window.__pwned=2</script>`])).code).toBe(0);
    const ask = waitingHook(s, "Stream-B", "sess-x", `echo <img src=x onerror="window.__pwned=3">`);
    await eventually("the hook's question", () => pendingInbox(s).then((e) => e.length > 0));
    const page = await b.page();
    await openOverview(page, s);
    await page.goto(`${s.origin}/#/stream/Stream-B`);
    const row = page.locator('#stream[data-stream-page="Stream-B"] tr[data-task="TASK-005"]');
    await row.waitFor();
    expect(await row.locator("td.title").innerText()).toContain(evil);
    expect(await row.locator("td.notes").innerText()).toContain("<script>window.__pwned=2</script>");
    // Live as well: a title changed while the page is open.
    expect((await s.orch(["task", "update", "TASK-006", "--title", `${evil} live`])).code).toBe(0);
    await page.locator('tr[data-task="TASK-006"] td.title', { hasText: `${evil} live` }).waitFor({ timeout: 3_000 });
    // The inbox shows the command as text too.
    await page.goto(`${s.origin}/#/needs-you`);
    await page.locator("#needs-you li[data-inbox]").first().waitFor();
    expect(await page.locator("#needs-you").innerText()).toContain(`onerror="window.__pwned=3"`);
    expect(await page.locator("#app img").count()).toBe(0);
    expect(await page.evaluate("window.__pwned")).toBeUndefined();
    ask.proc.kill();
  }, 30_000);

  test("a stream page: its tasks with status, agent, notes and files; its worktree's dirty files; a predicted conflict, on the next task event", async () => {
    const s = await serveProject();
    await someProgress(s);
    // Stream-B's worktree, with a file it has not committed.
    sh(s.dir, "config", "user.email", "dev@example.com");
    sh(s.dir, "config", "user.name", "Dev");
    sh(s.dir, "config", "commit.gpgsign", "false");
    commit(s.dir, { "src/theme.ts": "export const theme = 'light';\n" }, "initial");
    const wt = join(s.dir, ".claude/worktrees/Stream-B");
    sh(s.dir, "worktree", "add", "-q", "-b", "stream-b", wt);
    write(wt, "src/components/Input.tsx", "export const Input = 1;\n");
    const page = await b.page();
    await openOverview(page, s);
    await page.goto(`${s.origin}/#/stream/Stream-B`);
    const t6 = page.locator('#stream[data-stream-page="Stream-B"] tr[data-task="TASK-006"]');
    await t6.waitFor();
    expect(await t6.locator("td.agent").innerText()).toContain("agent-b");
    expect(await t6.locator("td.notes").innerText()).toContain("focus ring contrast");
    expect(await t6.locator("td.files").innerText()).toContain("src/components/Input.tsx");
    expect(await page.locator('#stream tr[data-task]').count()).toBe(3);
    await page.locator('#worktree li[data-dirty="src/components/Input.tsx"]').waitFor();
    expect(await page.locator("#worktree [data-branch]").innerText()).toBe("stream-b");
    expect(await page.locator("#worktree [data-ahead-behind]").innerText()).toBe("0 ahead, 0 behind");
    expect(await page.locator("#conflicts").innerText()).toContain("None");
    // Stream-B and Stream-C change the same line on their branches: shown on the next task event.
    commit(wt, { "src/theme.ts": "export const theme = 'dark';\n" }, "b: dark");
    sh(s.dir, "branch", "stream-c", "HEAD");
    const other = join(s.dir, ".claude/worktrees/Stream-C");
    sh(s.dir, "worktree", "add", "-q", other, "stream-c");
    commit(other, { "src/theme.ts": "export const theme = 'system';\n" }, "c: system");
    expect((await s.orch(["task", "update", "TASK-006", "--notes", "focus ring contrast in dark mode, checked"])).code).toBe(0);
    const conflict = page.locator('#conflicts li[data-conflict="Stream-C"]');
    await conflict.waitFor();
    expect(await conflict.locator("code.file").allInnerTexts()).toEqual(["src/theme.ts"]);
    expect(await page.locator("#worktree [data-ahead-behind]").innerText()).toBe("1 ahead, 0 behind");
    await screenshot(page, "dashboard-stream.png");
  });

  test("archive asks first: Cancel changes nothing, Archive archives (seen by the API), Unarchive brings it back", async () => {
    const s = await serveProject();
    const archived = async () => ((await (await fetch(`${s.origin}/api/streams/Stream-C?includeArchived=true`)).json()) as { archived: boolean }).archived;
    const page = await b.page();
    await openOverview(page, s);
    await page.goto(`${s.origin}/#/stream/Stream-C`);
    await page.locator('#stream[data-stream-page="Stream-C"] #actions button[data-action="archive"]').click();
    await page.locator('button[data-cancel="archive"]').click();
    await page.locator('button[data-confirm="archive"]').waitFor({ state: "detached" });
    expect(await archived()).toBe(false);

    await page.locator('#actions button[data-action="archive"]').click();
    await page.locator('button[data-confirm="archive"]').click();
    const result = page.locator("#action-result.ok");
    await result.waitFor();
    expect(await result.innerText()).toBe("Archived (3 task(s)).");
    expect(await archived()).toBe(true);

    await page.locator('#actions button[data-action="unarchive"]').click();
    await page.locator("#action-result.ok", { hasText: "Back from the archive" }).waitFor({ timeout: 5_000 });
    expect(await archived()).toBe(false);
  }, 30_000);

  test("one event stream, no polling, nothing from another origin; idle, the page asks nothing", async () => {
    const s = await serveProject();
    const page = await b.page();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await openOverview(page, s);
    await page.locator("#connection.up").waitFor();
    await page.waitForLoadState("networkidle");
    // Everything the page loaded came from this server: no CDN, works offline.
    expect(requests.filter((u) => !u.startsWith(`${s.origin}/`))).toEqual([]);
    expect(requests.filter((u) => new URL(u).pathname === "/api/events").length).toBe(1);
    // Opening asks each thing once: the event stream's first snapshot starts the loads.
    const api = requests.map((u) => new URL(u)).filter((u) => u.pathname.startsWith("/api/") && u.pathname !== "/api/events");
    const paths = api.map((u) => u.pathname);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p, i) => paths.indexOf(p) !== i)).toEqual([]);
    // Idle for a second: no request at all (live changes come over the one event stream).
    const before = requests.length;
    await Bun.sleep(1_000);
    expect(requests.slice(before)).toEqual([]);
    // A change: fetched again, still over the same event stream.
    expect((await s.orch(["task", "update", "TASK-007", "--status", "in_progress"])).code).toBe(0);
    await page.locator('[data-stream="Stream-B"] .counts', { hasText: "1 in progress" }).waitFor({ timeout: 3_000 });
    expect(requests.filter((u) => new URL(u).pathname === "/api/events").length).toBe(1);
  }, 30_000);

  test("light and dark follow the system; alerts list a blocked task with its reason", async () => {
    const s = await serveProject();
    await someProgress(s);
    const background = async (scheme: "light" | "dark") => {
      const page = await b.page({ colorScheme: scheme });
      await openOverview(page, s);
      const rgb = (await page.evaluate(`getComputedStyle(document.body).backgroundColor`)) as string;
      const [r, g, bl] = (rgb.match(/\d+/g) ?? []).map(Number);
      return { page, luminance: (0.2126 * r! + 0.7152 * g! + 0.0722 * bl!) / 255 };
    };
    expect((await background("light")).luminance).toBeGreaterThan(0.8);
    const dark = await background("dark");
    expect(dark.luminance).toBeLessThan(0.2);
    await dark.page.goto(`${s.origin}/#/needs-you`);
    const alert = dark.page.locator('#alerts li[data-alert="blocked"]');
    await alert.waitFor();
    expect(await alert.innerText()).toContain("waiting on the settings API shape");
  }, 30_000);

  test("the server restarts: the page says \"API restarted, reconnecting…\", finds the new server without a reload, asks for its login link; that link brings it back live", async () => {
    const port = freePort();
    const s = await serveProject({ serveArgs: ["--port", String(port)] });
    const page = await b.page();
    await openOverview(page, s);
    await page.locator("#connection.up").waitFor();
    s.proc.kill("SIGTERM");
    await s.proc.exited;
    await page.locator("#connection.down").waitFor({ timeout: 5_000 });
    expect(await page.locator("#connection").innerText()).toBe("API restarted, reconnecting…");
    // Same port, same database: the page finds it again, in the same document.
    await page.evaluate("window.__sameDocument = 1");
    const again = await serveProject({ again: s, serveArgs: ["--port", String(port)] });
    expect(again.port).toBe(port);
    await page.locator("#auth-lost").waitFor({ timeout: 10_000 });
    expect(await page.evaluate("window.__sameDocument")).toBe(1);
    // The new server's login link brings it back to live.
    await page.goto(again.entryUrl);
    await page.locator("#connection.up").waitFor({ timeout: 5_000 });
    await page.locator('[data-stream="Stream-A"]').waitFor();
  }, 30_000);
});
