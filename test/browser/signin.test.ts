/**
 * Signing in on an `orch serve` with ORCH_API_TOKEN (what serving beyond loopback needs): no
 * one-time link is printed; the page asks for the token, refuses a wrong one, and with the right
 * one loads the plan and goes live on its session cookie — the token is kept nowhere in the page.
 */
import { expect, test } from "bun:test";
import { browserDescribe, eventually, serveProject, useBrowser } from "./harness.ts";

const TOKEN = "a-team-token-for-the-dashboard-42";

browserDescribe("signing in with the API token (Chromium)", () => {
  const b = useBrowser();

  test("the page asks for the token; a wrong one is refused, the right one opens the live dashboard", async () => {
    const s = await serveProject({ serveEnv: { ORCH_API_TOKEN: TOKEN } });
    expect(s.output()).toContain(`Dashboard: ${s.origin}/ (sign in with ORCH_API_TOKEN)`);
    expect(s.entryUrl).toBe(`${s.origin}/`);
    const page = await b.page();
    await page.goto(s.entryUrl);
    await page.locator("#signin").waitFor({ timeout: 10_000 });
    expect(await page.locator("#error").count()).toBe(0);

    await page.locator("#signin-token").fill("not-the-token");
    await page.keyboard.press("Enter");
    await page.locator("#signin-error", { hasText: "not this server's token" }).waitFor({ timeout: 5_000 });

    await page.locator("#signin-token").fill(TOKEN);
    await page.locator("#signin-submit").click();
    await page.locator('[data-stream="Stream-B"]').waitFor({ timeout: 10_000 });
    await page.locator("#connection", { hasText: "Live" }).waitFor({ timeout: 10_000 });
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([[`orch_session_${s.port}`, true, "Strict"]]);
    expect(JSON.stringify(cookies)).not.toContain(TOKEN);
    const stored = await page.evaluate(() => {
      const w = globalThis as unknown as { localStorage: object; sessionStorage: object; location: { href: string } };
      return JSON.stringify({ ...w.localStorage }) + JSON.stringify({ ...w.sessionStorage }) + w.location.href;
    });
    expect(stored).not.toContain(TOKEN);

    // Live on the cookie: a change made by another process shows without reload.
    expect((await s.orch(["task", "update", "TASK-005", "--status", "completed", "--agent", "agent-b"], undefined)).code).toBe(0);
    await eventually("the card to count the completed task", async () => (await page.locator('[data-stream="Stream-B"]').innerText()).includes("1/3 done"));
    // A new browser (no cookie) is asked again.
    const other = await b.page();
    await other.goto(`${s.origin}/`);
    await other.locator("#signin").waitFor({ timeout: 10_000 });
  }, 60_000);
});
