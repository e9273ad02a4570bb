/** The harness itself: the system's Chromium, headless, reaches `orch serve` on a real imported plan. */
import { expect, test } from "bun:test";
import { browserDescribe, serveProject, useBrowser } from "./harness.ts";

browserDescribe("browser harness (playwright-core + system Chromium)", () => {
  const b = useBrowser();

  test("Chromium loads orch serve's API and the page at GET /", async () => {
    const s = await serveProject();
    const page = await b.page();
    // GET / (through the login link when serve prints one): whatever it answers, it answers.
    const root = await page.goto(s.entryUrl);
    expect(root).not.toBeNull();
    expect(root!.status()).toBeLessThan(500);
    // The API as a browser sees it: the imported plan's four streams.
    const res = await page.goto(`${s.origin}/api/streams`);
    expect(res?.status()).toBe(200);
    const body = JSON.parse(await page.locator("body").innerText()) as { totalStreams: number; streams: { streamId: string }[] };
    expect(body.totalStreams).toBe(4);
    expect(body.streams.map((x) => x.streamId).sort()).toEqual(["Stream-A", "Stream-B", "Stream-C", "Stream-Z"]);
  });
});
