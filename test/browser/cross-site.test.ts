/**
 * Another site open in the same browser — a page on another port of this host included (another
 * origin, the same site: cookies do not tell ports apart) — can neither act nor read: its POSTs to
 * the API (fetch with JSON, no-cors fetch, a form posting JSON-looking text/plain) are refused or
 * never sent, the inbox entry stays pending and its agent keeps waiting; its reads come back
 * opaque or fail.
 */
import { expect, test } from "bun:test";
import { browserDescribe, pendingInbox, serveProject, useBrowser, waitingHook } from "./harness.ts";

/** The attacker's page: tries every way a page can post, then every way it can read. */
const evilPage = (target: string, id: number) => `<!doctype html>
<meta charset="utf-8"><title>totally unrelated page</title>
<iframe name="sink" id="sink"></iframe>
<form id="f" method="POST" action="${target}/api/inbox/${id}" enctype="text/plain" target="sink">
  <input name='{"decision":"allow","by":"evil","pad":"' value='"}'>
</form>
<form id="g" method="POST" action="${target}/api/inbox/${id}" target="sink">
  <input name="decision" value="allow">
</form>
<script>
window.results = {};
const body = JSON.stringify({ decision: "allow", by: "evil" });
async function attempt(name, f) {
  try { window.results[name] = await f(); } catch (e) { window.results[name] = "threw " + e.name; }
}
window.attack = async () => {
  await attempt("fetchJson", async () => { const r = await fetch("${target}/api/inbox/${id}", { method: "POST", credentials: "include", headers: { "Content-Type": "application/json" }, body }); return "status " + r.status; });
  await attempt("fetchNoCors", async () => { const r = await fetch("${target}/api/inbox/${id}", { method: "POST", mode: "no-cors", credentials: "include", headers: { "Content-Type": "text/plain" }, body }); return r.type; });
  document.getElementById("f").submit();
  await new Promise((r) => setTimeout(r, 300));
  document.getElementById("g").submit();
  await new Promise((r) => setTimeout(r, 300));
  await attempt("readCors", async () => { const r = await fetch("${target}/api/inbox", { credentials: "include" }); return "read " + (await r.text()).slice(0, 200); });
  await attempt("readNoCors", async () => { const r = await fetch("${target}/api/inbox", { mode: "no-cors", credentials: "include" }); return r.type + ":" + (await r.text()).length; });
  await attempt("readStreams", async () => { const r = await fetch("${target}/api/streams", { credentials: "include" }); return "read " + (await r.text()).slice(0, 200); });
  return window.results;
};
</script>`;

browserDescribe("a cross-site page cannot write or read", () => {
  const b = useBrowser();

  test("POSTs from a page on another port are refused, the entry stays pending, reads are opaque", async () => {
    const s = await serveProject();
    const ask = waitingHook(s, "Stream-B", "sess-evil", "npm publish");
    const t0 = performance.now();
    let entries = await pendingInbox(s);
    while (!entries.length && performance.now() - t0 < 10_000) {
      await Bun.sleep(30);
      entries = await pendingInbox(s);
    }
    expect(entries.length).toBe(1);
    const id = entries[0]!.id;

    const evil = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(evilPage(s.origin, id), { headers: { "Content-Type": "text/html; charset=utf-8" } }) });
    try {
      const page = await b.page();
      // The person is logged in to the dashboard in this browser (its cookie would ride along).
      await page.goto(s.entryUrl);
      const posts: { method: string; status: number | null }[] = [];
      page.on("requestfinished", async (req) => {
        if (req.url().startsWith(`${s.origin}/api/inbox/`)) posts.push({ method: req.method(), status: (await req.response())?.status() ?? null });
      });
      page.on("requestfailed", (req) => {
        if (req.url().startsWith(`${s.origin}/api/inbox/`)) posts.push({ method: req.method(), status: null });
      });
      await page.goto(`http://127.0.0.1:${evil.port}/`);
      const results = (await page.evaluate("window.attack()")) as Record<string, string>;

      // Writes: a JSON fetch needs a preflight the server does not grant (never sent); the rest
      // reach the server and are refused there.
      expect(results.fetchJson).toBe("threw TypeError");
      expect(results.fetchNoCors).toBe("opaque");
      for (const p of posts.filter((x) => x.method === "POST")) expect([401, 403, null]).toContain(p.status);
      // Both forms (a top-level-style navigation of a frame, no preflight) reached the server: 403.
      expect(posts.filter((x) => x.method === "POST" && x.status !== null).length).toBeGreaterThanOrEqual(2);
      // Reads: no CORS grant, so the page learns nothing.
      expect(results.readCors).toBe("threw TypeError");
      expect(results.readStreams).toBe("threw TypeError");
      expect(results.readNoCors).toBe("opaque:0");

      // Nothing changed: still pending, and the agent still waits.
      expect((await pendingInbox(s)).map((e) => e.id)).toEqual([id]);
      expect(ask.proc.exitCode).toBeNull();
      const all = JSON.parse((await s.orch(["inbox", "--all", "--json"])).stdout) as { entries: { id: number; status: string }[] };
      expect(all.entries.find((e) => e.id === id)?.status).toBe("pending");
    } finally {
      evil.stop(true);
    }
  }, 30_000);

  test("a page on another port cannot frame the dashboard (its Allow button cannot be clickjacked)", async () => {
    const s = await serveProject();
    const framer = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response(`<!doctype html><iframe id="victim" src="${s.origin}/" width="800" height="600"></iframe>`, { headers: { "Content-Type": "text/html; charset=utf-8" } }),
    });
    try {
      const page = await b.page();
      await page.goto(s.entryUrl); // logged in: a framed dashboard would have its session
      await page.locator("#nav").waitFor();
      const framed = page.waitForResponse((r) => r.url() === `${s.origin}/` && r.request().frame() !== page.mainFrame(), { timeout: 5_000 });
      await page.goto(`http://127.0.0.1:${framer.port}/`);
      const res = await framed;
      expect(res.headers()["x-frame-options"]).toBe("DENY");
      expect(res.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
      await Bun.sleep(300);
      // The frame holds Chromium's refusal, not the dashboard: none of its markup or script ran.
      const child = page.frames().find((f) => f !== page.mainFrame());
      expect(child?.url()).toStartWith("chrome-error://");
      expect(await child!.evaluate(`document.querySelector("#nav") !== null`)).toBe(false);
    } finally {
      framer.stop(true);
    }
  }, 30_000);
});
