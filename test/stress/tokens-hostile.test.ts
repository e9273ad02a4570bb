/**
 * Named API tokens (orch token create / list / revoke, orch serve), adversarially, from the
 * compiled binary: hostile names, header forms, the token's value in anything orch prints or
 * keeps, revocation timing, browser sessions signed in with a token, concurrent creates, the log
 * of writes, and a server whose every token is revoked.
 *
 * Promises that hold are ordinary tests (regression guards). Each defect found is one
 * `test.failing` named "DEFECT: …" (it fails now; bun reports it as passing while it does, and as
 * a failure once the defect is fixed — then drop `.failing`). Random choices come from `seeded`.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, orchBin, runOrch, tempDir } from "../helpers.ts";
import { LineReader } from "./harness/orch.ts";
import { seeded } from "./harness/prng.ts";

const procs: Bun.Subprocess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill("SIGKILL");
});

const PRD = `# Initiative: Tokens

## Foundation Phase
### Stream-A: Core
- TASK-001: one
`;

/** A fresh database (a PRD imported: a stream to write to) and the environment naming it. */
async function project() {
  const dir = tempDir("orch-tok-");
  const db = join(dir, "tasks.db");
  const env = { ORCH_DB: db };
  const prd = join(dir, "PRD.md");
  writeFileSync(prd, PRD);
  const imp = await runOrch(["prd", "import", prd], { env, cwd: dir });
  if (imp.code !== 0) throw new Error(`prd import failed: ${imp.stderr}`);
  const create = async (name: string) => {
    const r = await runOrch(["token", "create", name], { env, cwd: dir });
    if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
    return r.stdout.trim();
  };
  const revoke = (name: string) => runOrch(["token", "revoke", name], { env, cwd: dir });
  return { dir, db, env, create, revoke };
}

/** `orch serve` on the project's database; resolves once it listens. */
async function serve(env: Record<string, string>, args: string[] = []) {
  const proc = Bun.spawn([orchBin(), "serve", "--port", "0", ...args], { env: cleanEnv(env), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.push(proc);
  const stderr = new LineReader(proc.stderr);
  await stderr.until((l) => l.some((x) => x.startsWith("HTTP server listening on ")), 15_000, "orch serve to listen");
  const line = stderr.lines.find((x) => x.startsWith("HTTP server listening on "))!;
  const port = Number(/:(\d+)/.exec(line)![1]);
  return { proc, stderr, line, port, url: `http://127.0.0.1:${port}` };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("named tokens: names, values, headers", () => {
  test("hostile names are refused with one clean line; nothing is stored for them", async () => {
    await seeded("token names", async (rnd) => {
      const p = await project();
      const hostile = [
        "\u001b]0;pwned\u0007",
        "\u001b[31mred",
        "two\nlines",
        "a".repeat(65),
        "x".repeat(10_000),
        "ünïcödé",
        "😀",
        "-leading-dash",
        ".dot",
        "has space",
        "semi;colon",
        "slash/name",
        "",
      ];
      for (const name of [...hostile].sort(() => rnd.next() - 0.5)) {
        const r = await runOrch(["token", "create", name], { env: p.env });
        expect(r.code).not.toBe(0);
        expect(r.stdout).toBe("");
        // One line, no control characters reach the terminal.
        expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
        expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
        expect(r.stderr.length).toBeLessThan(400);
        const rv = await runOrch(["token", "revoke", name], { env: p.env });
        expect(rv.code).not.toBe(0);
        expect(rv.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      }
      // The longest name there may be, and every allowed character.
      const longest = "A" + "z9._@-".repeat(10) + "abc";
      expect(longest).toHaveLength(64);
      await p.create(longest);
      const listed = JSON.parse((await runOrch(["token", "list", "--json"], { env: p.env })).stdout);
      expect(listed.tokens.map((t: { name: string }) => t.name)).toEqual([longest]);
    });
  }, 60_000);

  test("eight processes creating the same name at once: exactly one token, the others told it exists", async () => {
    const p = await project();
    const rs = await Promise.all(Array.from({ length: 8 }, () => runOrch(["token", "create", "same"], { env: p.env })));
    expect(rs.filter((r) => r.code === 0)).toHaveLength(1);
    for (const r of rs.filter((r) => r.code !== 0)) expect(r.stderr).toBe("orch: a token named same exists already: revoke it first (orch token revoke same)\n");
    const listed = JSON.parse((await runOrch(["token", "list", "--json"], { env: p.env })).stdout);
    expect(listed.tokens).toHaveLength(1);
  }, 60_000);

  test("the token's value is in nothing orch keeps or prints afterwards: list, JSON, the database files, serve's log, /health, errors", async () => {
    const p = await project();
    const token = await p.create("ci");
    expect(token).toMatch(/^orch_[A-Za-z0-9_-]{43}$/);
    const s = await serve(p.env);
    // Used for a read, a write and a failed write; a near miss too.
    expect((await fetch(`${s.url}/api/streams`, { headers: bearer(token) })).status).toBe(200);
    const w = await fetch(`${s.url}/api/streams/Stream-A/archive`, { method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: "{}" });
    expect(w.status).toBeLessThan(500);
    const miss = await fetch(`${s.url}/api/streams`, { headers: bearer(token.slice(0, -1)) });
    expect(miss.status).toBe(401);
    const missBody = await miss.text();
    const health = await (await fetch(`${s.url}/health?challenge=${"ab".repeat(16)}`)).text();
    const list = (await runOrch(["token", "list"], { env: p.env })).stdout + (await runOrch(["token", "list", "--json"], { env: p.env })).stdout;
    s.proc.kill("SIGTERM");
    await s.proc.exited;
    const files = readdirSync(p.dir).map((f) => readFileSync(join(p.dir, f)).toString("latin1"));
    const secret = token.slice("orch_".length);
    for (const text of [s.stderr.text, missBody, health, list, ...files]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(token.slice(0, -1));
    }
  }, 60_000);

  test("Authorization forms: any case of Bearer, several spaces, surrounding blanks pass; anything glued to the token does not", async () => {
    const p = await project();
    const token = await p.create("ci");
    const s = await serve(p.env);
    const status = async (value: string) => (await fetch(`${s.url}/api/streams`, { headers: { authorization: value } })).status;
    for (const ok of [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `Bearer    ${token}`, `  Bearer ${token}  `]) expect(await status(ok)).toBe(200);
    for (const bad of [
      `Bearer ${token} ${token}`,
      `Bearer ${token},x`,
      `Bearer "${token}"`,
      `Bearer\t${token}`,
      `Bearer${token}`,
      `Basic ${btoa(`x:${token}`)}`,
      `Bearer ${token.toUpperCase()}`,
      `Bearer ${token.slice("orch_".length)}`,
      `Bearer ${"orch_" + "A".repeat(43)}`,
      token,
    ])
      expect(await status(bad)).toBe(401);
    // Far too long: refused before it is looked at (431), never taken.
    expect([401, 431]).toContain(await status(`Bearer ${"x".repeat(60_000)}`));
  }, 60_000);
});

describe("named tokens: revocation", () => {
  test("a revoked token is refused within 2.5 s and ever after; the other tokens go on", async () => {
    await seeded("revocation timing", async (rnd) => {
      const p = await project();
      const a = await p.create("alice");
      const b = await p.create("bob");
      const s = await serve(p.env);
      let lastOk = 0;
      let polling = true;
      const poll = (async () => {
        while (polling) {
          if ((await fetch(`${s.url}/api/streams`, { headers: bearer(a) })).status === 200) lastOk = Date.now();
          await Bun.sleep(rnd.range(5, 40));
        }
      })();
      await Bun.sleep(rnd.range(200, 1500));
      expect((await p.revoke("alice")).code).toBe(0);
      const revokedAt = Date.now();
      await Bun.sleep(3500);
      polling = false;
      await poll;
      expect(lastOk).toBeLessThan(revokedAt + 2500);
      expect((await fetch(`${s.url}/api/streams`, { headers: bearer(a) })).status).toBe(401);
      expect((await fetch(`${s.url}/api/streams`, { headers: bearer(b) })).status).toBe(200);
      // A new token of the same name is a new value: the old one stays refused.
      const a2 = await p.create("alice");
      expect(a2).not.toBe(a);
      await Bun.sleep(2200);
      expect((await fetch(`${s.url}/api/streams`, { headers: bearer(a) })).status).toBe(401);
      expect((await fetch(`${s.url}/api/streams`, { headers: bearer(a2) })).status).toBe(200);
    });
  }, 60_000);

  test("0.0.0.0 with named tokens, then every token revoked: the server still requires one and lets nothing in", async () => {
    const p = await project();
    const token = await p.create("ci");
    const s = await serve(p.env, ["--host", "0.0.0.0"]);
    expect(s.line).toBe(`HTTP server listening on 0.0.0.0:${s.port} (token required)`);
    expect((await fetch(`${s.url}/api/streams`, { headers: bearer(token) })).status).toBe(200);
    expect((await p.revoke("ci")).code).toBe(0);
    await Bun.sleep(2500);
    const own = { origin: s.url, "sec-fetch-site": "same-origin" };
    expect((await fetch(`${s.url}/api/streams`)).status).toBe(401);
    expect((await fetch(`${s.url}/api/streams`, { headers: bearer(token) })).status).toBe(401);
    expect((await fetch(`${s.url}/api/streams`, { headers: own })).status).toBe(401);
    expect((await fetch(`${s.url}/openapi.json`)).status).toBe(401);
    expect([401, 403]).toContain((await fetch(`${s.url}/api/session`, { method: "POST", headers: { ...bearer(token), ...own } })).status);
    expect([401, 403]).toContain((await fetch(`${s.url}/api/session`, { method: "POST", headers: own })).status);
    expect((await fetch(`${s.url}/api/session`, { method: "POST", headers: bearer(token) })).status).toBe(401);
    const w = await fetch(`${s.url}/api/streams/Stream-A/archive`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(w.status).toBe(401);
    // /health answers (clients identify servers by it) but holds no data.
    const health = await (await fetch(`${s.url}/health`)).json();
    expect(JSON.stringify(health)).not.toContain("Stream-A");
  }, 60_000);

  test("the first named token, made while a loopback server without any token runs: that server stays open until restarted (required is decided at start)", async () => {
    const p = await project();
    const s = await serve(p.env);
    expect(s.line).toBe(`HTTP server listening on 127.0.0.1:${s.port}`);
    const token = await p.create("ci");
    await Bun.sleep(2500);
    // As documented: named tokens count when they exist at start. The running server stays as it was…
    expect((await fetch(`${s.url}/api/streams`)).status).toBe(200);
    expect((await fetch(`${s.url}/api/streams`, { headers: bearer(token) })).status).toBe(200);
    s.proc.kill("SIGTERM");
    await s.proc.exited;
    // …and the next start requires a token.
    const again = await serve(p.env);
    expect(again.line).toContain("(token required)");
    expect((await fetch(`${again.url}/api/streams`)).status).toBe(401);
    expect((await fetch(`${again.url}/api/streams`, { headers: bearer(token) })).status).toBe(200);
  }, 60_000);

  test("fixed (was: a browser session signed in with a named token outlives the token's revocation (reads, writes and new sessions go on, logged 'by browser session'))", async () => {
    const p = await project();
    const token = await p.create("contractor");
    const s = await serve(p.env);
    const own = { origin: s.url, "sec-fetch-site": "same-origin" };
    const signIn = await fetch(`${s.url}/api/session`, { method: "POST", headers: { ...bearer(token), ...own } });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    expect((await fetch(`${s.url}/api/streams`, { headers: { cookie, ...own } })).status).toBe(200);
    expect((await p.revoke("contractor")).code).toBe(0);
    await Bun.sleep(3000);
    // The token itself is refused by now…
    expect((await fetch(`${s.url}/api/streams`, { headers: bearer(token) })).status).toBe(401);
    // …and so must be what was signed in with it. Today: 200 for a read, a write, and a fresh session.
    const read = await fetch(`${s.url}/api/streams`, { headers: { cookie, ...own } });
    const write = await fetch(`${s.url}/api/streams/Stream-A/archive`, { method: "POST", headers: { cookie, ...own, "content-type": "application/json" }, body: "{}" });
    const renewed = await fetch(`${s.url}/api/session`, { method: "POST", headers: { cookie, ...own } });
    expect({ read: read.status, write: write.status, renewed: renewed.status }).toEqual({ read: 401, write: 403, renewed: 403 });
  }, 60_000);

  test("fixed (was: the log of writes prints the request path percent-decoded, control characters and all: a token holder forges log lines and sends escape sequences to serve's terminal)", async () => {
    const p = await project();
    const token = await p.create("mallory");
    const s = await serve(p.env);
    const forged = "orch: POST /api/streams/Stream-A/archive → 200 by alice";
    const path = `/api/streams/X%0A${encodeURI(forged)}%0A%1B%5D0;pwned%07/archive`;
    const r = await fetch(`${s.url}${path}`, { method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: "{}" });
    expect(r.status).toBeGreaterThanOrEqual(400);
    await s.stderr.until((l) => l.some((x) => x.includes("by mallory")), 5000, "the write's log line");
    const logged = s.stderr.lines.filter((l) => l.startsWith("orch: "));
    // Every write is one line of its own, naming the token that made it; no terminal control characters.
    expect(logged.some((l) => l === forged)).toBe(false);
    expect(s.stderr.text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(logged.every((l) => / by (mallory|\?)$/.test(l) || l.startsWith("orch: token"))).toBe(true);
  }, 60_000);
});
