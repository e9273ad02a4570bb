/** The dashboard as served: the page, its assets, its headers, and `orch serve --open`. */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createApi } from "../../src/api/app.ts";
import { ASSETS, INDEX_HTML, SCRIPT, STYLE } from "../../src/dashboard/assets.ts";
import { openerCommand, openInBrowser } from "../../src/dashboard/open.ts";
import { DASHBOARD_CSP, withDashboard } from "../../src/dashboard/routes.ts";
import { guideData } from "../api/fixture.ts";
import { cleanEnv, orchBin, runOrch, tempDir, tempStore } from "../helpers.ts";
import { freePort } from "../net.ts";

async function setup(opts: { token?: string } = {}) {
  const store = await tempStore();
  await guideData(store);
  return withDashboard(await createApi(store, { mainBranch: "main", ...opts }), { host: "127.0.0.1" }).app;
}

describe("GET / and /assets", () => {
  test("the page: HTML, a CSP allowing only this origin's scripts and styles, never cached stale", async () => {
    const res = await (await setup()).request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/html");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toBe(DASHBOARD_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    expect(html).toBe(INDEX_HTML);
    // No inline script: every <script> has a src on this origin.
    expect(html.match(/<script\b[^>]*>/g)).toEqual([`<script type="module" src="/assets/${SCRIPT.name}">`]);
    expect(html).toContain(`<link rel="stylesheet" href="/assets/${STYLE.name}">`);
    expect(html).not.toMatch(/https?:\/\//);
    expect((await (await setup()).request("/index.html")).status).toBe(200);
  });

  test("assets: content types, immutable caching under content-hashed names; unknown ones 404", async () => {
    const app = await setup();
    const js = await app.request(`/assets/${SCRIPT.name}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await js.text()).toBe(SCRIPT.body);
    const css = await app.request(`/assets/${STYLE.name}`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(SCRIPT.name).toMatch(/^app\.[0-9a-z]+\.js$/);
    expect(ASSETS.size).toBe(2);
    for (const path of ["/assets/nope.js", "/assets/app.js", "/assets/..%2Fpackage.json", "/assets/"]) {
      const res = await app.request(path);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toStartWith("application/json");
    }
  });

  test("the bundle is one browser module with no markup assignment and no external URL", () => {
    expect(SCRIPT.body.length).toBeGreaterThan(1000);
    expect(SCRIPT.body).not.toContain("innerHTML");
    expect(SCRIPT.body).not.toContain("outerHTML");
    expect(SCRIPT.body).not.toContain("insertAdjacentHTML");
    expect(SCRIPT.body).toContain("/api/events");
    expect(STYLE.body).toContain("prefers-color-scheme: dark");
  });

  test("the Host check applies to the page; the API behind it answers as before", async () => {
    const app = await setup();
    expect((await app.request("/", { headers: { host: "evil.example:9090" } })).status).toBe(403);
    expect((await app.request(`/assets/${SCRIPT.name}`, { headers: { host: "evil.example" } })).status).toBe(403);
    const streams = await app.request("/api/streams");
    expect(streams.status).toBe(200);
    expect(((await streams.json()) as { totalStreams: number }).totalStreams).toBeGreaterThan(0);
    expect((await app.request("/nope")).status).toBe(404);
    const cross = await app.request("/api/inbox/1", {
      method: "POST",
      headers: { origin: "http://127.0.0.1:9999", "content-type": "application/json" },
      body: JSON.stringify({ decision: "allow" }),
    });
    expect(cross.status).toBe(403);
  });

  test("with a token the page loads without one (it holds no data); the API still asks for it", async () => {
    const app = await setup({ token: "s3cret" });
    expect((await app.request("/")).status).toBe(200);
    expect((await app.request("/api/streams")).status).toBe(401);
  });

  test("the browser code type-checks against the DOM", () => {
    const p = Bun.spawnSync([process.execPath, "x", "tsc", "-p", join(import.meta.dir, "../../src/dashboard/app")], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BUN_BE_BUN: "1" },
    });
    expect(p.stdout.toString() + p.stderr.toString()).toBe("");
    expect(p.exitCode).toBe(0);
  }, 60_000);
});

describe("opening the browser", () => {
  test("the opener per platform, as an argv", () => {
    expect(openerCommand("http://127.0.0.1:1/", "darwin")).toEqual(["open", "http://127.0.0.1:1/"]);
    expect(openerCommand("http://127.0.0.1:1/", "linux")).toEqual(["xdg-open", "http://127.0.0.1:1/"]);
  });

  test("a failing or missing opener is a warning", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "xdg-open"), "#!/bin/sh\nexit 3\n");
    chmodSync(join(dir, "xdg-open"), 0o755);
    const path = process.env.PATH;
    try {
      process.env.PATH = dir;
      expect(await openInBrowser("http://x/", { platform: "linux" })).toBe("cannot open a browser: xdg-open exited with status 3; open the Dashboard link yourself");
      process.env.PATH = tempDir();
      expect(await openInBrowser("http://x/", { platform: "linux" })).toBe("cannot open a browser: xdg-open is not installed; open the Dashboard link yourself");
    } finally {
      process.env.PATH = path;
    }
  });
});

describe("orch serve (compiled binary)", () => {
  const procs: Bun.Subprocess[] = [];
  afterEach(() => {
    for (const p of procs.splice(0)) p.kill();
  });

  async function serve(args: string[], env: Record<string, string>) {
    const p = Bun.spawn([orchBin(), "serve", "--port", "0", ...args], {
      env: cleanEnv({ ORCH_DB: join(tempDir(), "tasks.db"), ...env }),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    procs.push(p);
    const reader = p.stderr.getReader();
    let err = "";
    const decoder = new TextDecoder();
    while (!/Dashboard: .*\n/.test(err)) {
      const { value, done } = await reader.read();
      if (done) break;
      err += decoder.decode(value);
    }
    reader.releaseLock();
    const m =
      /^HTTP server listening on 127\.0\.0\.1:(\d+)\nDashboard: (http:\/\/127\.0\.0\.1:\d+\/\?login=[A-Za-z0-9_-]+)\n/.exec(err) ??
      /^HTTP server listening on [0-9.:]+:(\d+) \(token required\)\nDashboard: (http:\/\/[^ ]+\/) \(sign in with ORCH_API_TOKEN\)\n/.exec(err);
    if (!m) throw new Error(`orch serve did not start: ${err}`);
    // What came in the same chunk after those two lines (a warning may follow them at once).
    const rest = err.slice(m[0].length);
    return { proc: p, port: Number(m[1]), url: m[2]!, reader: p.stderr, rest };
  }

  test("serves the page and its assets from inside the binary; the printed login link logs a browser in", async () => {
    const { port, url } = await serve([], {});
    expect(url).toStartWith(`http://127.0.0.1:${port}/?login=`);
    // The link: a session cookie and on to the page (browser-auth.ts), once.
    const login = await fetch(url, { redirect: "manual" });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/");
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    expect(cookie).toStartWith(`orch_session_${port}=`);
    expect((await fetch(url, { redirect: "manual" })).status).toBe(403);
    // A browser's read of the API with the cookie.
    const read = await fetch(`http://127.0.0.1:${port}/api/streams`, { headers: { cookie, "sec-fetch-site": "same-origin" } });
    expect(read.status).toBe(200);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.headers.get("content-security-policy")).toBe(DASHBOARD_CSP);
    const html = await page.text();
    const js = /src="(\/assets\/app\.[0-9a-z]+\.js)"/.exec(html)![1]!;
    const css = /href="(\/assets\/app\.[0-9a-z]+\.css)"/.exec(html)![1]!;
    const jsRes = await fetch(`http://127.0.0.1:${port}${js}`);
    expect(jsRes.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await jsRes.text()).toContain("/api/events");
    expect((await fetch(`http://127.0.0.1:${port}${css}`)).headers.get("content-type")).toBe("text/css; charset=utf-8");
  }, 60_000);

  test("beyond loopback with ORCH_API_TOKEN: no login code is printed; the token, sent once from the page, buys the session cookie", async () => {
    const token = "team-secret-token-0123456789";
    const { port, url } = await serve(["--host", "0.0.0.0"], { ORCH_API_TOKEN: token });
    expect(url).toBe(`http://127.0.0.1:${port}/`); // a wildcard bind is no address to open
    const base = `http://127.0.0.1:${port}`;
    const own = { origin: base, "sec-fetch-site": "same-origin" };
    // The page is served; its first read says how to sign in.
    expect((await fetch(`${base}/`)).status).toBe(200);
    const before = await fetch(`${base}/api/streams`, { headers: { "sec-fetch-site": "same-origin" } });
    expect(before.status).toBe(401);
    expect(await before.json()).toMatchObject({ signIn: "token" });
    // A one-time code is no way in on a token server (none was minted).
    expect((await fetch(`${base}/?login=anything`, { redirect: "manual" })).status).toBe(403);
    // Wrong token, another origin, or no token at all: no cookie.
    for (const [headers, status] of [
      [{ ...own, authorization: "Bearer wrong" }, 403],
      [{ origin: "http://127.0.0.1:1", "sec-fetch-site": "same-site", authorization: `Bearer ${token}` }, 403],
      [{ authorization: "Bearer wrong" }, 401],
    ] as const) {
      const r = await fetch(`${base}/api/session`, { method: "POST", headers });
      expect(r.status).toBe(status);
      expect(r.headers.get("set-cookie")).toBeNull();
    }
    const signIn = await fetch(`${base}/api/session`, { method: "POST", headers: { ...own, authorization: `Bearer ${token}` } });
    expect(signIn.status).toBe(200);
    expect(await signIn.json()).toEqual({ signedIn: true });
    const setCookie = signIn.headers.get("set-cookie")!;
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).not.toContain(token);
    const cookie = setCookie.split(";")[0]!;
    // The cookie stands for the token on the browser's same-origin reads and writes…
    expect((await fetch(`${base}/api/streams`, { headers: { cookie, "sec-fetch-site": "same-origin" } })).status).toBe(200);
    const write = await fetch(`${base}/api/streams/Stream-X/archive`, { method: "POST", headers: { cookie, ...own, "content-type": "application/json" }, body: "{}" });
    expect(write.status).toBe(404); // through every guard, to the route: there is no such stream
    // …but not for a page on another port of this host, nor for a program without the token.
    expect((await fetch(`${base}/api/streams`, { headers: { cookie, origin: "http://127.0.0.1:1", "sec-fetch-site": "same-site" } })).status).toBe(403);
    expect((await fetch(`${base}/api/streams`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${base}/api/streams`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  }, 60_000);

  test("--open hands the URL to the opener on PATH, as one argument; a failing one is a warning", async () => {
    const dir = tempDir();
    const log = join(dir, "opened");
    writeFileSync(join(dir, "xdg-open"), `#!/bin/sh\nprintf '%s\\n' "$#" "$@" > '${log}'\n`);
    chmodSync(join(dir, "xdg-open"), 0o755);
    const { url } = await serve(["--open"], { PATH: `${dir}:${process.env.PATH}` });
    const deadline = Date.now() + 10_000;
    while (!existsSync(log) && Date.now() < deadline) await Bun.sleep(20);
    // One argument: a login link of its own (the printed one stays unused).
    const opened = readFileSync(log, "utf8").split("\n");
    expect(opened[0]).toBe("1");
    expect(opened[1]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?login=[A-Za-z0-9_-]+$/);
    expect(opened[1]).not.toBe(url);

    const bad = tempDir();
    writeFileSync(join(bad, "xdg-open"), "#!/bin/sh\nexit 4\n");
    chmodSync(join(bad, "xdg-open"), 0o755);
    const s = await serve(["--open"], { PATH: `${bad}:${process.env.PATH}` });
    const reader = s.reader.getReader();
    let warning = s.rest;
    while (!warning.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      warning += new TextDecoder().decode(value);
    }
    expect(warning).toBe("orch: warning: cannot open a browser: xdg-open exited with status 4; open the Dashboard link yourself\n");
    // Still serving; the printed link still logs in.
    expect((await fetch(s.url, { redirect: "manual" })).status).toBe(303);
  }, 60_000);

  test("orch watch names the dashboard of the API it follows (not when it reads the local database)", async () => {
    const { port } = await serve([], {});
    const w = await runOrch(["watch", "--once", "--no-color", "--api", `http://127.0.0.1:${port}`]);
    expect(w.code).toBe(0);
    expect(w.stdout).toEndWith(`Press Ctrl+C to exit\nDashboard: http://127.0.0.1:${port}/\n`);
    const local = await runOrch(["watch", "--once", "--no-color"], { env: { ORCH_DB: join(tempDir(), "tasks.db"), HTTP_API_PORT: "1" } });
    expect(local.stdout).not.toContain("Dashboard:");
  }, 60_000);

  test("orch watch following the API an orch mcp session shares names no dashboard (that API serves none)", async () => {
    const db = join(tempDir(), "tasks.db");
    const port = freePort();
    const env = { ...process.env, ORCH_DB: db, HTTP_API_PORT: String(port), HTTP_API_HOST: "127.0.0.1" } as Record<string, string>;
    const mcp = Bun.spawn([orchBin(), "mcp"], { env, stdin: "pipe", stdout: "ignore", stderr: "ignore" });
    try {
      let up = false;
      for (let i = 0; i < 200 && !up; i++) up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false) || (await Bun.sleep(25), false);
      expect(up).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      const w = await runOrch(["watch", "--once", "--no-color", "--api", `http://127.0.0.1:${port}`], { env: { ORCH_DB: db } });
      expect(w.code).toBe(0);
      expect(w.stdout).toContain("ORCHESTRATION STATUS");
      expect(w.stdout).not.toContain("Dashboard:");
    } finally {
      mcp.kill();
    }
  }, 60_000);
});
