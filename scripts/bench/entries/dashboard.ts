/**
 * The dashboard in the system's Chromium (headless, playwright-core) on loopback, on the guide's
 * Dark Mode plan (4 streams, 15 tasks, some progress) and on a synthetic 100-stream plan:
 * - first meaningful paint: navigation start → the overview's stream cards in the page and the
 *   frame after (cold cache, logged in), against a bare `Bun.serve` answering a static page with
 *   the same cards written into its HTML (the browser's own floor for a page on loopback);
 * - bytes shipped for that load, gzipped (Bun.gzipSync of every response body: page, script,
 *   style, the API reads, and the event stream's first snapshot), against the API data alone, gzipped.
 */
import { realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Cookie, Page } from "playwright-core";
import { DARK_MODE_PRD } from "../../../src/core/index.ts";
import { findChromium, launchChromium, loginLink } from "../../../test/browser/chromium.ts";
import { median, round, row, type BenchContext, type BenchRow } from "../lib.ts";
import { syntheticPrd } from "../plan-fixture.ts";

export const about =
  "Headless Debian Chromium driven by playwright-core on loopback, a fresh browser context (cold cache) per load, logged in by the session cookie from `orch serve`'s one-time link. Paint: `performance.now()` in the page (its navigation start is 0) when the first `[data-stream]` card is in the document, plus one animation frame. Bytes: every response of that load, each body gzipped with Bun.gzipSync, and of the event stream its first snapshot (the page's first data since it loads from the snapshot).";

/** Records, in the page, when the first element matching `selector` exists and a frame has passed. */
const paintProbe = (selector: string) => `
(() => {
  const done = () => requestAnimationFrame(() => { window.__fmp = performance.now(); });
  const check = () => { if (document.querySelector(${JSON.stringify(selector)})) { obs.disconnect(); done(); return true; } return false; };
  const obs = new MutationObserver(check);
  obs.observe(document, { childList: true, subtree: true });
})();`;

/** The baseline: a static page with the same cards (id, name, counts) written into its HTML. */
const baselinePage = (cards: { id: string; name: string; counts: string }[]) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>orch</title></head><body><main>${cards
    .map((c) => `<article data-stream="${c.id}"><h3>${c.id}: ${c.name}</h3><p>${c.counts}</p></article>`)
    .join("\n")}</main></body></html>`;

async function startServe(ctx: BenchContext, prd: string, progress: string[][]): Promise<{ proc: Bun.Subprocess; origin: string; login: string }> {
  const dir = realpathSync(ctx.scratch());
  Bun.spawnSync(["git", "init", "-q", dir]);
  writeFileSync(join(dir, "PRD.md"), prd);
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, ORCH_DB: join(dir, "tasks.db") };
  const run = (args: string[]) => {
    const p = Bun.spawnSync([ctx.orchBin, ...args], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`orch ${args.join(" ")}: ${p.stderr.toString()}`);
  };
  run(["prd", "import", "PRD.md", "--max-parallel", "100000"]);
  for (const args of progress) run(args);
  const proc = Bun.spawn([ctx.orchBin, "serve", "--port", "0"], { cwd: dir, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  const dec = new TextDecoder();
  for (const s of [proc.stdout, proc.stderr]) {
    void (async () => {
      const r = s.getReader();
      for (;;) {
        const { value, done } = await r.read();
        if (done) return;
        out += dec.decode(value, { stream: true });
      }
    })();
  }
  const t0 = performance.now();
  let m: RegExpExecArray | null = null;
  while (!(m = /HTTP server listening on 127\.0\.0\.1:(\d+)/.exec(out))) {
    if (performance.now() - t0 > 10_000) throw new Error(`orch serve did not start: ${out}`);
    await Bun.sleep(10);
  }
  const origin = `http://127.0.0.1:${m[1]}`;
  const t1 = performance.now();
  while (!loginLink(out, origin) && performance.now() - t1 < 500) await Bun.sleep(10);
  return { proc, origin, login: loginLink(out, origin) ?? `${origin}/` };
}

interface Load {
  fmp: number;
  bytes: number;
  dataBytes: number;
}

/** One cold load of `url` in a fresh context carrying `cookies`: its paint time and gzipped bytes. */
async function load(browser: Browser, url: string, cookies: Cookie[]): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    if (cookies.length) await context.addCookies(cookies);
    const page: Page = await context.newPage();
    await page.addInitScript(paintProbe("[data-stream]"));
    const bodies: Promise<{ bytes: number; data: boolean }>[] = [];
    page.on("response", (res) => {
      const type = res.headers()["content-type"] ?? "";
      if (type.includes("text/event-stream")) return;
      bodies.push(
        res.body().then(
          (b) => ({ bytes: Bun.gzipSync(new Uint8Array(b)).length, data: new URL(res.url()).pathname.startsWith("/api/") }),
          () => ({ bytes: 0, data: false }),
        ),
      );
    });
    await page.goto(url);
    // Polled from here: the page's CSP forbids the eval a waitForFunction string needs. The time
    // itself was taken in the page, so the polling interval does not enter it.
    let fmp: unknown;
    for (const t0 = performance.now(); typeof fmp !== "number"; await Bun.sleep(5)) {
      if (performance.now() - t0 > 15_000) throw new Error(`no stream card on ${url} within 15 s`);
      fmp = await page.evaluate("window.__fmp");
    }
    await page.waitForLoadState("networkidle").catch(() => {});
    const all = await Promise.all(bodies);
    return { fmp: fmp as number, bytes: all.reduce((a, x) => a + x.bytes, 0), dataBytes: all.filter((x) => x.data).reduce((a, x) => a + x.bytes, 0) };
  } finally {
    await context.close();
  }
}

interface Plan {
  name: string;
  prd: string;
  progress: string[][];
  target: number;
}

const PLANS: Plan[] = [
  {
    name: "the guide's plan (4 streams, 15 tasks)",
    prd: DARK_MODE_PRD,
    progress: [
      ...["TASK-001", "TASK-002", "TASK-003", "TASK-004", "TASK-005"].map((id) => ["task", "update", id, "--status", "completed", "--agent", "bench"]),
      ["task", "update", "TASK-006", "--status", "in_progress", "--agent", "bench"],
    ],
    target: 300,
  },
  { name: "100 streams, 2,000 tasks", prd: syntheticPrd(100, 20), progress: [], target: 500 },
];

/** The first `snapshot` event of /api/events (what an opening page receives there), gzipped. */
async function snapshotBytes(origin: string): Promise<number> {
  const abort = new AbortController();
  const res = await fetch(`${origin}/api/events`, { signal: abort.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const at = text.indexOf("event: snapshot");
      const end = at >= 0 ? text.indexOf("\n\n", at) : -1;
      if (end >= 0) return Bun.gzipSync(new TextEncoder().encode(text.slice(at, end + 2))).length;
    }
  } finally {
    abort.abort();
  }
  throw new Error("no snapshot event on /api/events");
}

/** Paint and bytes for one plan: orch's page against the static cards, interleaved. */
async function measure(ctx: BenchContext, browser: Browser, plan: Plan): Promise<BenchRow[]> {
  const serve = await startServe(ctx, plan.prd, plan.progress);
  let bare: ReturnType<typeof Bun.serve> | undefined;
  try {
    // Log in once (the link works once); every load then carries the session cookie.
    const first = await browser.newContext();
    const p = await first.newPage();
    await p.goto(serve.login);
    const cookies = await first.cookies();
    await first.close();
    const streams = ((await (await fetch(`${serve.origin}/api/streams`)).json()) as { streams: { streamId: string; streamName: string; completedTasks: number; totalTasks: number }[] }).streams;
    const html = baselinePage(streams.map((st) => ({ id: st.streamId, name: st.streamName, counts: `${st.completedTasks}/${st.totalTasks} done` })));
    bare = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } }) });

    const runs = ctx.quick ? 5 : 20;
    const orch: Load[] = [];
    const base: Load[] = [];
    await load(browser, `${serve.origin}/`, cookies); // warm the server and the browser process
    await load(browser, `http://127.0.0.1:${bare.port}/`, []);
    for (let i = 0; i < runs; i++) {
      orch.push(await load(browser, `${serve.origin}/`, cookies));
      base.push(await load(browser, `http://127.0.0.1:${bare.port}/`, []));
    }
    // The page's data now comes partly in the event stream's first snapshot: counted too.
    const snapshot = await snapshotBytes(serve.origin);
    const last = orch[orch.length - 1]!;
    const bytes = { ...last, bytes: last.bytes + snapshot, dataBytes: last.dataBytes + snapshot };
    const fmp = round(median(orch.map((x) => x.fmp)));
    return [
      row({
        entry: "dashboard",
        metric: `Dashboard first meaningful paint (navigation → stream cards painted), cold cache, median: ${plan.name}`,
        orch: fmp,
        baseline: round(median(base.map((x) => x.fmp))),
        baselineName: "bare Bun.serve, the same cards as static HTML",
        unit: "ms",
        target: `≤ ${plan.target} ms`,
        pass: fmp <= plan.target,
      }),
      row({
        entry: "dashboard",
        metric: `Dashboard bytes shipped for the overview, gzipped (page + script + style + API reads): ${plan.name}`,
        orch: round(bytes.bytes / 1024, 1),
        baseline: round(bytes.dataBytes / 1024, 1),
        baselineName: "the API data alone, gzipped",
        unit: "KiB",
        target: "≤ 40 KiB + the data",
        pass: bytes.bytes - bytes.dataBytes <= 40 * 1024,
      }),
    ];
  } finally {
    serve.proc.kill("SIGTERM");
    await serve.proc.exited;
    bare?.stop(true);
  }
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const chromiumPath = findChromium();
  if (!chromiumPath) throw new Error("bench dashboard: no Chromium (set CHROMIUM_PATH, or apt-get install chromium)");
  const browser = await launchChromium(chromiumPath);
  try {
    const rows: BenchRow[] = [];
    for (const plan of PLANS) rows.push(...(await measure(ctx, browser, plan)));
    return rows;
  } finally {
    await browser.close();
  }
}
