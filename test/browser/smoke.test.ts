/** The harness itself: the system's Chromium, headless, reaches `orch serve` on a real imported plan. */
import { expect, test } from "bun:test";
import { browserDescribe, serveProject, useBrowser } from "./harness.ts";

browserDescribe("browser harness (playwright-core + system Chromium)", () => {
  const b = useBrowser();

  test("Chromium opens the login link orch serve printed, lands on GET /, and reads the plan from the API", async () => {
    const s = await serveProject();
    const page = await b.page();
    // The login link serve printed: it sets the session and lands on the dashboard at GET /.
    expect(s.entryUrl).toMatch(new RegExp(`^${s.origin.replace(/\./g, "\\.")}/\\?login=\\S+$`));
    const root = await page.goto(s.entryUrl);
    expect(root?.status()).toBe(200);
    expect(page.url()).toBe(`${s.origin}/`);
    expect(root!.headers()["content-type"]).toStartWith("text/html");
    expect(root!.headers()["content-security-policy"]).toContain("script-src 'self'");
    // The API as a browser sees it: the imported plan's four streams.
    const res = await page.goto(`${s.origin}/api/streams`);
    expect(res?.status()).toBe(200);
    const body = JSON.parse(await page.locator("body").innerText()) as { totalStreams: number; streams: { streamId: string }[] };
    expect(body.totalStreams).toBe(4);
    expect(body.streams.map((x) => x.streamId).sort()).toEqual(["Stream-A", "Stream-B", "Stream-C", "Stream-Z"]);
    // Another browser: the link worked once, and without its session the API answers nothing.
    const other = await b.page();
    expect((await other.goto(s.entryUrl))?.status()).toBe(403);
    expect((await other.goto(`${s.origin}/api/streams`))?.status()).toBe(401);
  });
});
