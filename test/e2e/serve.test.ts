/** `orch serve` as users run it: the compiled binary, its flags, env, messages and exit codes. */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { resolveBindAddress } from "../../src/api/security.ts";
import { cleanEnv, orchBin, runOrch, tempDir } from "../helpers.ts";
import { freePort } from "../net.ts";
import { ON_POSTGRES } from "../backend.ts";

const procs: Bun.Subprocess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill();
});


/** Start `orch serve …` and resolve with its port once it prints the listening line. */
async function startServe(args: string[], env: Record<string, string> = {}, db = join(tempDir(), "tasks.db")) {
  const p = Bun.spawn([orchBin(), "serve", ...args], {
    env: cleanEnv({ ORCH_DB: db, ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  procs.push(p);
  const reader = p.stderr.getReader();
  let err = "";
  const decoder = new TextDecoder();
  while (!err.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    err += decoder.decode(value);
  }
  reader.releaseLock();
  const m = /^HTTP server listening on (127\.0\.0\.1|0\.0\.0\.0|localhost):(\d+)/.exec(err);
  if (!m) throw new Error(`orch serve did not start: ${err}`);
  return { proc: p, port: Number(m[2]), line: err.split("\n")[0]!, db };
}

describe("orch serve (compiled binary)", () => {
  test("prints the guide's listening line, answers the API, exits 0 on SIGTERM", async () => {
    const { proc, port, line, db } = await startServe(["--port", "0"]);
    expect(line).toBe(`HTTP server listening on 127.0.0.1:${port}`);
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: "ok", service: "orch" });
    expect((await runOrch(["task", "create", "--title", "x", "--stream", "Stream-A"], { env: { ORCH_DB: db } })).code).toBe(0);
    const streams = (await (await fetch(`http://127.0.0.1:${port}/api/streams`)).json()) as { totalStreams: number };
    expect(streams.totalStreams).toBe(1);
    // With a client on the event stream, too.
    const ac = new AbortController();
    const sse = await fetch(`http://127.0.0.1:${port}/api/events`, { signal: ac.signal });
    expect(sse.status).toBe(200);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    ac.abort();
  });

  test("HTTP_API_PORT and HTTP_API_HOST are read when no flag is given; flags win", async () => {
    const port = freePort();
    const a = await startServe([], { HTTP_API_PORT: String(port), HTTP_API_HOST: "127.0.0.1" });
    expect(a.port).toBe(port);
    a.proc.kill("SIGINT"); // Ctrl+C, right after the line: a clean exit, not a signal death
    expect(await a.proc.exited).toBe(0);
    const b = await startServe(["--port", "0"], { HTTP_API_PORT: String(port) });
    expect(b.port).not.toBe(port);
  });

  test("a non-loopback address without ORCH_API_TOKEN is refused: exit 2, one line, nothing created", async () => {
    const db = join(tempDir(), "tasks.db");
    for (const args of [["--host", "0.0.0.0"], ["--host", "::"], []]) {
      const env = args.length ? { ORCH_DB: db } : { ORCH_DB: db, HTTP_API_HOST: "0.0.0.0" };
      const r = await runOrch(["serve", "--port", "0", ...args], { env });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `orch: refusing to serve on ${args[1] ?? "0.0.0.0"} without ORCH_API_TOKEN: a non-loopback address exposes the API to the network; set ORCH_API_TOKEN or create a named token (orch token create NAME) (clients then send "Authorization: Bearer <token>"), or bind 127.0.0.1\n`,
      );
    }
    expect(existsSync(db)).toBe(false);
  });

  test("a host name is judged by the address it resolves to, not its spelling (*.localhost is not loopback by name)", async () => {
    // Resolves to loopback here: served, bound to that address.
    const { port, line } = await startServe(["--host", "localhost", "--port", "0"]);
    expect(line).toBe(`HTTP server listening on localhost:${port}`);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    // A name that resolves to nothing: refused before anything is created.
    const db = join(tempDir(), "tasks.db");
    const r = await runOrch(["serve", "--host", "orch-test.localhost", "--port", "0"], { env: { ORCH_DB: db } });
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe("orch: cannot serve on orch-test.localhost: the name does not resolve to an address of this machine\n");
    expect(existsSync(db)).toBe(false);
    // A *.localhost name a hosts entry maps to every interface: refused without a token.
    const everywhere = async () => [{ address: "0.0.0.0" }];
    const refused = await resolveBindAddress("evil.localhost", undefined, everywhere).catch((e: Error) => e.message);
    expect(refused).toStartWith("refusing to serve on evil.localhost (it resolves to 0.0.0.0) without ORCH_API_TOKEN");
    expect(await resolveBindAddress("evil.localhost", "tok", everywhere)).toBe("0.0.0.0");
    expect(await resolveBindAddress("app.localhost", undefined, async () => [{ address: "127.0.0.1" }, { address: "::1" }])).toBe("127.0.0.1");
    expect(await resolveBindAddress("mixed.localhost", undefined, async () => [{ address: "127.0.0.1" }, { address: "10.1.2.3" }]).catch((e: Error) => e.message)).toContain("(it resolves to 10.1.2.3)");
  });

  test("with ORCH_API_TOKEN on 0.0.0.0: starts, and every request needs the token", async () => {
    const { port, line } = await startServe(["--host", "0.0.0.0", "--port", "0"], { ORCH_API_TOKEN: "tok-0123456789" });
    expect(line).toBe(`HTTP server listening on 0.0.0.0:${port} (token required)`);
    const url = `http://127.0.0.1:${port}/api/tasks`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: "Bearer nope" } })).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: "Bearer tok-0123456789" } })).status).toBe(200);
  });

  test("port already in use: one clear line, exit 1", async () => {
    const holder = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not orch") });
    try {
      const r = await runOrch(["serve", "--port", String(holder.port)], { env: { ORCH_DB: join(tempDir(), "t.db") } });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `orch: cannot listen on 127.0.0.1:${holder.port}: port ${holder.port} is already in use (another orch serve? pick one with --port or HTTP_API_PORT)\n`,
      );
    } finally {
      holder.stop(true);
    }
  });

  test("bad flags and environment: exit 2 with the reason", async () => {
    const env = { ORCH_DB: join(tempDir(), "t.db") };
    const bad = await runOrch(["serve", "--port", "abc"], { env });
    expect(bad).toEqual({ code: 2, stdout: "", stderr: 'orch: flag --port must be a port number from 0 to 65535 (got "abc")\n' });
    expect((await runOrch(["serve", "--port", "70000"], { env })).code).toBe(2);
    const envBad = await runOrch(["serve"], { env: { ...env, HTTP_API_PORT: "ninety" } });
    expect(envBad.code).toBe(2);
    expect(envBad.stderr).toStartWith("orch: invalid environment: HTTP_API_PORT");
    const unknown = await runOrch(["serve", "--prot", "1"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean "--port"');
    const help = await runOrch(["serve", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--host HOST");
    expect(help.stdout).toContain("--port N");
  });
});

describe("named API tokens (orch token)", () => {
  /** Read a running server's stderr as it comes. */
  function stderrOf(p: Bun.Subprocess<"ignore", "pipe", "pipe">) {
    let text = "";
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of p.stderr) text += dec.decode(chunk, { stream: true });
    })();
    return () => text;
  }

  test("create prints the token once and keeps only its hash; a server with named tokens needs one, even off loopback; requests are attributed; a revocation holds within seconds", async () => {
    const db = join(tempDir(), "tasks.db");
    const env = { ORCH_DB: db };
    const made = await runOrch(["token", "create", "ci-runner"], { env });
    expect(made.code).toBe(0);
    const token = made.stdout.trim();
    expect(token).toMatch(/^orch_[A-Za-z0-9_-]{43}$/);
    expect(made.stderr).toContain("orch: token ci-runner created; it is shown this once.");
    const again = await runOrch(["token", "create", "ci-runner"], { env });
    expect([again.code, again.stdout]).toEqual([1, ""]);
    expect(again.stderr).toBe("orch: a token named ci-runner exists already: revoke it first (orch token revoke ci-runner)\n");
    const bad = await runOrch(["token", "create", "no spaces\u001b[31m"], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(bad.stderr).not.toContain("\u001b");
    const listed = JSON.parse((await runOrch(["token", "list", "--json"], { env })).stdout);
    expect(listed.tokens).toEqual([{ name: "ci-runner", createdAt: expect.any(String), createdOn: expect.any(String), lastUsedAt: null }]);
    expect(JSON.stringify(listed)).not.toContain(token);

    // Off loopback with no ORCH_API_TOKEN: allowed, because named tokens exist.
    const s = await startServe(["--host", "0.0.0.0", "--port", "0"], {}, db);
    expect(s.line).toBe(`HTTP server listening on 0.0.0.0:${s.port} (token required)`);
    const log = stderrOf(s.proc as Bun.Subprocess<"ignore", "pipe", "pipe">);
    const url = `http://127.0.0.1:${s.port}`;
    const get = (t?: string) => fetch(`${url}/api/streams`, { headers: t ? { authorization: `Bearer ${t}` } : {} }).then((r) => r.status);
    expect(await get()).toBe(401);
    expect(await get("orch_not-a-token")).toBe(401);
    expect(await get(token)).toBe(200);
    // A write says whose token made it.
    const post = await fetch(`${url}/api/inbox/999`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ decision: "allow" }) });
    expect(post.status).toBe(404);
    for (let i = 0; i < 100 && !log().includes("by ci-runner"); i++) await Bun.sleep(20);
    expect(log()).toContain("orch: POST /api/inbox/999 → 404 by ci-runner");
    // The dashboard's sign-in takes it too (from the server's own page).
    const signIn = await fetch(`${url}/api/session`, { method: "POST", headers: { authorization: `Bearer ${token}`, origin: url, "sec-fetch-site": "same-origin" } });
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get("set-cookie")).toContain("HttpOnly");

    // Revoked from another process: refused within seconds, no restart.
    expect((await runOrch(["token", "revoke", "ci-runner"], { env })).code).toBe(0);
    const t0 = performance.now();
    while ((await get(token)) === 200) {
      expect(performance.now() - t0).toBeLessThan(5000);
      await Bun.sleep(100);
    }
    expect(await get(token)).toBe(401);
    expect((await runOrch(["token", "revoke", "ci-runner"], { env })).stderr).toBe("orch: no token named ci-runner (orch token list shows them)\n");
    // The database never held the token itself (on PostgreSQL the file is a stand-in's name).
    if (!ON_POSTGRES) {
      expect(Bun.file(db).size).toBeGreaterThan(0);
      expect(await Bun.file(db).text()).not.toContain(token);
    }
  });

  test("without any token, off loopback is still refused; an existing database without named tokens is left as it was", async () => {
    const db = join(tempDir(), "tasks.db");
    expect((await runOrch(["task", "list"], { env: { ORCH_DB: db } })).code).toBe(0);
    const r = await runOrch(["serve", "--host", "0.0.0.0", "--port", "0"], { env: { ORCH_DB: db } });
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("orch: refusing to serve on 0.0.0.0 without ORCH_API_TOKEN");
  });

  test("behind a TLS reverse proxy (--public-url): the proxy's name and https origin are the server's own; the dashboard signs in and writes through it; refused without a token", async () => {
    const dir = tempDir();
    const db = join(dir, "tasks.db");
    const env = { ORCH_DB: db };
    // Without any token a public URL is refused: the proxy exposes the loopback bind.
    const open = await runOrch(["serve", "--port", "0", "--public-url", "https://orch.test"], { env });
    expect([open.code, open.stderr]).toEqual([2, "orch: refusing to serve https://orch.test without a token: set ORCH_API_TOKEN or create a named token (orch token create NAME)\n"]);
    const bad = await runOrch(["serve", "--port", "0", "--public-url", "https://orch.test/sub?x=1"], { env });
    expect(bad.code).toBe(2);
    const token = (await runOrch(["token", "create", "alice"], { env })).stdout.trim();
    // A TLS-terminating proxy (what Caddy or nginx do), keeping the Host header.
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    const ssl = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=orch.test", "-keyout", key, "-out", cert, "-days", "1"], { stderr: "pipe" });
    expect(ssl.exitCode).toBe(0);
    let upstream = 0;
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { key: Bun.file(key), cert: Bun.file(cert) },
      async fetch(req) {
        const u = new URL(req.url);
        const headers = new Headers(req.headers);
        return fetch(`http://127.0.0.1:${upstream}${u.pathname}${u.search}`, { method: req.method, headers, body: req.body, redirect: "manual" });
      },
    });
    try {
      const publicUrl = `https://orch.test:${proxy.port}`;
      const s = await startServe(["--port", "0", "--public-url", publicUrl], {}, db);
      upstream = s.port;
      const via = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
        fetch(`https://127.0.0.1:${proxy.port}${path}`, { ...init, headers: { host: `orch.test:${proxy.port}`, ...init.headers }, tls: { rejectUnauthorized: false } } as RequestInit);
      // A program with the token reads through the proxy; without it, 401.
      expect((await via("/api/streams")).status).toBe(401);
      expect((await via("/api/streams", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      // The dashboard's page, then its sign-in and a write from that page (https origin, via the proxy).
      expect((await via("/")).status).toBe(200);
      const browser = { origin: publicUrl, "sec-fetch-site": "same-origin" };
      const signIn = await via("/api/session", { method: "POST", headers: { ...browser, authorization: `Bearer ${token}` } });
      expect(signIn.status).toBe(200);
      const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
      expect((await via("/api/streams", { headers: { ...browser, cookie } })).status).toBe(200);
      const write = await via("/api/inbox/999", { method: "POST", headers: { ...browser, cookie, "content-type": "application/json" }, body: JSON.stringify({ decision: "allow" }) });
      expect(write.status).toBe(404); // through every guard to the route: no such question
      // Another site is still another site.
      const foreign = await via("/api/inbox/999", { method: "POST", headers: { origin: "https://evil.test", "sec-fetch-site": "cross-site", cookie, "content-type": "application/json" }, body: "{}" });
      expect(foreign.status).toBe(403);
      // And a Host that is neither the proxy's name nor this machine's is refused (DNS rebinding).
      expect((await fetch(`http://127.0.0.1:${s.port}/api/streams`, { headers: { host: "evil.test", authorization: `Bearer ${token}` } })).status).toBe(403);
    } finally {
      proxy.stop(true);
    }
  });
});

