/**
 * The dashboard's actions on a real server on loopback: POST /api/streams/:id/merge (a real git
 * merge), /archive, /unarchive, POST /api/budget/:streamId/raise; and the browser session: the
 * one-time login link, its cookie, and what a browser may read and write with or without it.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import { dashboardLoginUrl } from "../../src/api/browser-auth.ts";
import { startApiServer, type ApiServer } from "../../src/api/server.ts";
import * as shapes from "../../src/api/shapes.ts";
import { createTask, getStream, listStreams } from "../../src/core/index.ts";
import { openQuestion, getQuestion } from "../../src/core/inbox.ts";
import { openStore, type Store } from "../../src/db/client.ts";
import { openTestStore } from "../backend.ts";
import { createStreamWorktree } from "../../src/workspace/create.ts";
import { commit, gitStatus, sh, tempRepo, write } from "../git/repo-helpers.ts";
import { tempDir } from "../helpers.ts";
import { guideData } from "./fixture.ts";
import { loginCookie } from "./login.ts";

const open: { servers: ApiServer[]; stores: Store[] } = { servers: [], stores: [] };
afterEach(async () => {
  for (const s of open.servers.splice(0)) s.stop();
  for (const s of open.stores.splice(0)) await s.close();
});

async function serve(opts: { cwd?: string; token?: string } = {}) {
  const store = await openTestStore(join(tempDir(), "tasks.db"));
  open.stores.push(store);
  await guideData(store);
  const api = await startApiServer(store, { host: "127.0.0.1", port: 0, mainBranch: "main", cwd: opts.cwd ?? tempDir(), token: opts.token });
  open.servers.push(api);
  return { api, store, url: api.url, own: { Origin: api.url, "Sec-Fetch-Site": "same-origin" } };
}

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { redirect: "manual", ...init });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, headers: res.headers };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });

const shape = <S extends z.ZodType>(s: S, v: unknown): z.output<S> => s.parse(v);

const noCors = (h: Headers) => [...h.keys()].filter((k) => k.toLowerCase().startsWith("access-control-"));

describe("the one-time login link", () => {
  test("sets an HttpOnly, SameSite=Strict, Path=/ session cookie and redirects to /; works once", async () => {
    const { api, url } = await serve();
    const link = dashboardLoginUrl(api);
    expect(link).toMatch(new RegExp(`^${url.replace(/\./g, "\\.")}/\\?login=[A-Za-z0-9_-]{40,}$`));
    const first = await call(link);
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/");
    expect(first.headers.get("cache-control")).toBe("no-store");
    const cookie = first.headers.get("set-cookie")!;
    const [pair, ...attrs] = cookie.split(";").map((s) => s.trim());
    expect(pair).toMatch(new RegExp(`^orch_session_${api.port}=[A-Za-z0-9_-]{40,}$`));
    expect(attrs.sort()).toEqual(["HttpOnly", "Path=/", "SameSite=Strict"]);

    // Used: refused, and no cookie given; with the session already held, it just opens the dashboard.
    const again = await call(link);
    expect(again.status).toBe(403);
    expect(again.headers.get("set-cookie")).toBeNull();
    expect(String(again.body)).toContain("already used");
    const held = await call(link, { headers: { Cookie: pair! } });
    expect(held.status).toBe(303);
    expect(held.headers.get("set-cookie")).toBeNull();
    // An unknown code, an empty one, a huge one: refused.
    for (const code of ["nope", "", "x".repeat(5000)]) expect((await call(`${url}/?login=${code}`)).status).toBe(403);
    // Each link is its own code: a second link works once too, and gives another session.
    const second = await call(dashboardLoginUrl(api));
    expect(second.status).toBe(303);
    expect(second.headers.get("set-cookie")!.split(";")[0]).not.toBe(pair);
  });

  test("a session of one server is nothing to another (secret per server, cookie name per port)", async () => {
    const a = await serve();
    const b = await serve();
    const cookieA = await loginCookie(a.api);
    const bCookie = cookieA.replace(`orch_session_${a.api.port}`, `orch_session_${b.api.port}`);
    expect((await call(`${b.url}/api/streams`, { headers: { ...b.own, Cookie: bCookie } })).status).toBe(401);
    expect((await call(`${a.url}/api/streams`, { headers: { ...a.own, Cookie: cookieA } })).status).toBe(200);
  });
});

describe("browsers: writes need this server's Origin and the session; reads the session", () => {
  test("writes: refused without the cookie, from another origin with it, without an Origin; taken with both; programs as before", async () => {
    const { api, url, store, own } = await serve();
    const cookie = await loginCookie(api);
    const at = `${url}/api/streams/Stream-B/archive`;
    const refused: Record<string, string>[] = [
      own, // same origin, no cookie
      { Origin: url }, // same origin, no Sec-Fetch-Site, no cookie
      { ...own, Cookie: "orch_session_1=forged" },
      { ...own, Cookie: `orch_session_${api.port}=forged` },
      { Origin: `http://127.0.0.1:${api.port + 1}`, "Sec-Fetch-Site": "same-site", Cookie: cookie }, // another port: the cookie goes along
      { Origin: `http://127.0.0.1:${api.port + 1}`, Cookie: cookie },
      { Origin: `http://localhost:${api.port}`, Cookie: cookie },
      { "Sec-Fetch-Site": "same-origin", Cookie: cookie }, // no Origin
      { "Sec-Fetch-Site": "none", Cookie: cookie },
      { Origin: "http://evil.example", "Sec-Fetch-Site": "cross-site", Cookie: cookie },
    ];
    for (const headers of refused) {
      const r = await post(at, {}, headers);
      expect({ headers, status: r.status }).toEqual({ headers, status: 403 });
      expect(shape(shapes.errorShape, r.body).error).toStartWith("Forbidden");
      expect(noCors(r.headers)).toEqual([]);
    }
    expect((await getStream(store, "Stream-B")).archived).toBe(false);
    const ok = await post(at, {}, { ...own, Cookie: cookie });
    expect(ok.status).toBe(200);
    expect((await getStream(store, "Stream-B", { includeArchived: true })).archived).toBe(true);
    // curl and orch's own clients: no Origin, no Sec-Fetch-Site, no cookie, as before.
    expect((await post(`${url}/api/streams/Stream-B/unarchive`, {})).status).toBe(200);
  });

  test("the token stands for the session (a browser-like client with the token), never for the Origin", async () => {
    const token = "a-long-enough-token";
    const { url, store, own } = await serve({ token });
    const auth = { Authorization: `Bearer ${token}` };
    expect((await post(`${url}/api/streams/Stream-B/archive`, {}, { ...own, ...auth })).status).toBe(200);
    expect((await post(`${url}/api/streams/Stream-B/unarchive`, {}, { Origin: "http://127.0.0.1:1", ...auth })).status).toBe(403);
    expect((await getStream(store, "Stream-B", { includeArchived: true })).archived).toBe(true);
  });

  test("reads: a page on another site or port is refused whatever it carries; this server's page needs the session; programs read as before", async () => {
    const { api, url, own } = await serve();
    const cookie = await loginCookie(api);
    for (const path of ["/api/streams", "/api/inbox", "/openapi.json"]) {
      expect((await call(`${url}${path}`, { headers: { "Sec-Fetch-Site": "cross-site", Cookie: cookie } })).status).toBe(403);
      expect((await call(`${url}${path}`, { headers: { "Sec-Fetch-Site": "same-site", Cookie: cookie } })).status).toBe(403);
      expect((await call(`${url}${path}`, { headers: { Origin: `http://127.0.0.1:${api.port + 1}`, Cookie: cookie } })).status).toBe(403);
      const none = await call(`${url}${path}`, { headers: own });
      expect(none.status).toBe(401);
      expect(none.body.error).toContain("login link");
      expect((await call(`${url}${path}`, { headers: { "Sec-Fetch-Site": "same-origin", Cookie: cookie } })).status).toBe(200);
      expect((await call(`${url}${path}`)).status).toBe(200);
    }
    // /health identifies the server to anyone on this machine.
    expect((await call(`${url}/health`, { headers: own })).status).toBe(200);
    // The event stream too: a page elsewhere cannot even open it.
    expect((await call(`${url}/api/events`, { headers: { "Sec-Fetch-Site": "same-site", Cookie: cookie } })).status).toBe(403);
  });

  test("no response ever carries Access-Control-*: reads, writes, preflights, errors, the login link", async () => {
    const { api, url, own } = await serve();
    const cookie = await loginCookie(api);
    const evil = { Origin: "http://evil.example" };
    const other = { Origin: `http://127.0.0.1:${api.port + 1}` };
    const responses = [
      await call(`${url}/api/streams`, { headers: evil }),
      await call(`${url}/api/streams`, { headers: { ...other, Cookie: cookie } }),
      await call(`${url}/api/streams`, { headers: { ...own, Cookie: cookie } }),
      await call(`${url}/api/streams`),
      await call(`${url}/health`, { headers: evil }),
      await call(`${url}/openapi.json`, { headers: { ...own, Cookie: cookie } }),
      await call(`${url}/nope`, { headers: evil }),
      await call(`${url}/api/streams/Stream-A/merge`, { method: "OPTIONS", headers: { ...evil, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" } }),
      await call(`${url}/api/budget/Stream-A/raise`, { method: "OPTIONS", headers: { ...other, "Access-Control-Request-Method": "POST" } }),
      await post(`${url}/api/budget/Stream-A/raise`, { usd: 1 }, evil),
      await post(`${url}/api/streams/Stream-A/archive`, {}, { ...own, Cookie: cookie }),
      await post(`${url}/api/streams/Nope/archive`, {}),
      await call(dashboardLoginUrl(api), { headers: evil }),
      await call(`${url}/?login=used`),
    ];
    for (const r of responses) expect(noCors(r.headers)).toEqual([]);
  });
});

describe("POST /api/streams/:id/archive and /unarchive", () => {
  test("archive, unarchive; figures as the CLI reports them", async () => {
    const { url, store } = await serve();
    const a = await post(`${url}/api/streams/Stream-A/archive`, {});
    expect(a.status).toBe(200);
    expect(shape(shapes.archiveResultShape, a.body)).toEqual({ streamId: "Stream-A", archived: true, tasksAffected: 4 });
    expect((await listStreams(store)).map((s) => s.streamId)).toEqual(["Stream-B"]);
    expect((await call(`${url}/api/streams/Stream-A`)).status).toBe(404);
    const again = await post(`${url}/api/streams/Stream-A/archive`, {});
    expect(again.body).toEqual({ streamId: "Stream-A", archived: true, tasksAffected: 0 });
    const u = await post(`${url}/api/streams/Stream-A/unarchive`, {});
    expect(u.body).toEqual({ streamId: "Stream-A", archived: false, tasksAffected: 4 });
    expect((await call(`${url}/api/streams/Stream-A`)).status).toBe(200);
  });

  test("errors: unknown stream 404, bad id or body 400, not JSON 415", async () => {
    const { url } = await serve();
    const missing = await post(`${url}/api/streams/Stream-Z/archive`, {});
    expect(missing.status).toBe(404);
    expect(shape(shapes.errorShape, missing.body).error).toContain("Stream-Z");
    expect((await post(`${url}/api/streams/bad%20id/archive`, {})).status).toBe(400);
    const extra = await post(`${url}/api/streams/Stream-A/unarchive`, { force: true });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toContain("force");
    expect((await post(`${url}/api/streams/Stream-A/archive`, [])).status).toBe(400);
    expect((await call(`${url}/api/streams/Stream-A/archive`, { method: "POST", body: "{}", headers: { "Content-Type": "text/plain" } })).status).toBe(415);
    expect((await call(`${url}/api/streams/Stream-A/archive`)).status).toBe(404); // GET: no such route
  });
});

describe("POST /api/budget/:streamId/raise", () => {
  test("adds dollars and tokens, answers the stream's budget question, reports as the CLI does", async () => {
    const { url, store } = await serve();
    const q = await openQuestion(store, { kind: "budget", source: "budget", sessionId: null, streamId: "Stream-A", agent: "orch", question: "raise?", timeoutMs: 600_000 });
    const r = await post(`${url}/api/budget/Stream-A/raise`, { usd: 2.5, tokens: 1000, by: "Ada" });
    expect(r.status).toBe(200);
    const body = shape(shapes.budgetRaiseShape, r.body);
    expect(body.stream).toMatchObject({ streamId: "Stream-A", raisedUsd: 2.5, raisedTokens: 1000, pausedReason: null });
    expect(body.wasPaused).toBe(false);
    expect(await getQuestion(store, q.id)).toMatchObject({ status: "allowed", answeredBy: "Ada" });
    const more = await post(`${url}/api/budget/Stream-A/raise`, { usd: 0, tokens: 5 });
    expect(shape(shapes.budgetRaiseShape, more.body).stream).toMatchObject({ raisedUsd: 2.5, raisedTokens: 1005 });
  });

  test("errors: nothing added, bad amounts, unknown fields 400; unknown stream 404", async () => {
    const { url } = await serve();
    const at = `${url}/api/budget/Stream-A/raise`;
    for (const [body, what] of [
      [{ usd: 0 }, "add some dollars"],
      [{}, "usd"],
      [{ usd: -1 }, "usd"],
      [{ usd: 1.005 }, "cents"],
      [{ usd: 2_000_000 }, "usd"],
      [{ usd: "5" }, "usd"],
      [{ usd: 1, tokens: 1.5 }, "tokens"],
      [{ usd: 1, by: "a\nb" }, "by"],
      [{ usd: 1, stream: "x" }, "stream"],
    ] as [unknown, string][]) {
      const r = await post(at, body);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expect(shape(shapes.errorShape, r.body).error).toContain(what);
    }
    const missing = await post(`${url}/api/budget/Stream-Z/raise`, { usd: 1 });
    expect(missing.status).toBe(404);
  });
});

/** A repository with streams Stream-B and Stream-C, each with a worktree and a commit of its own. */
async function mergeProject() {
  const root = tempRepo();
  const s = await serve({ cwd: root });
  for (const id of ["Stream-B", "Stream-C"]) {
    await createTask(s.store, { id: `T-${id}`, title: `work of ${id}`, metadata: { streamId: id, streamPhase: "parallel" } });
    await createStreamWorktree(s.store, { streamId: id, cwd: root });
  }
  const wt = (id: string) => join(root, ".claude/worktrees", id);
  return { ...s, root, wt };
}

const head = (cwd: string) => sh(cwd, "rev-parse", "HEAD").trim();

describe("POST /api/streams/:id/merge (a real git repository)", () => {
  test("merges, reports the commit and files; again: up to date; the main worktree stays clean", async () => {
    const { url, root, wt } = await mergeProject();
    const before = head(root);
    commit(wt("Stream-B"), { "src/b.ts": "export const b = 1;\n" }, "stream B work");
    const r = await post(`${url}/api/streams/Stream-B/merge`, {});
    expect(r.status).toBe(200);
    const m = shape(shapes.mergeResultShape, r.body);
    expect(m).toMatchObject({ streamId: "Stream-B", branchName: "stream-b", into: "main", status: "merged", merged: true, targetCommit: before, filesChanged: ["src/b.ts"] });
    expect(m.commit).toBe(head(root));
    expect(sh(root, "log", "-1", "--format=%P").trim().split(" ")).toEqual([before, m.sourceCommit]);
    expect(existsSync(join(root, "src/b.ts"))).toBe(true);
    expect(gitStatus(root)).toBe("");
    const again = await post(`${url}/api/streams/Stream-B/merge`, { into: "main" });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "up_to_date", merged: false, commit: null });
  });

  test("a conflict changes nothing: 409 with the files; uncommitted work in the main worktree refuses the merge and is kept", async () => {
    const { url, root, wt } = await mergeProject();
    commit(wt("Stream-B"), { "src/shared.ts": "export const a = 'B';\n" }, "B edits shared");
    commit(wt("Stream-C"), { "src/shared.ts": "export const a = 'C';\n" }, "C edits shared");
    expect((await post(`${url}/api/streams/Stream-B/merge`, {})).status).toBe(200);
    const merged = head(root);
    const c = await post(`${url}/api/streams/Stream-C/merge`, {});
    expect(c.status).toBe(409);
    const body = shape(shapes.mergeConflictShape, c.body);
    expect(body.error).toContain("would conflict");
    expect(body.merge).toMatchObject({ status: "conflict", merged: false, conflictingFiles: ["src/shared.ts"], into: "main" });
    expect(head(root)).toBe(merged);
    expect(gitStatus(root)).toBe("");

    // Uncommitted work in main: refused, kept as it was.
    commit(wt("Stream-B"), { "src/more.ts": "x\n" }, "more B");
    write(root, "README.md", "# my edit, not committed\n");
    const dirty = await post(`${url}/api/streams/Stream-B/merge`, {});
    expect(dirty.status).toBe(409);
    expect(shape(shapes.errorShape, dirty.body).error).toContain("uncommitted changes");
    expect(head(root)).toBe(merged);
    expect(gitStatus(root)).toBe(" M README.md\n");
  });

  test("errors: unknown stream 404, a stream without a branch 404, a target not checked out 409, bad body 400", async () => {
    const { url, store } = await mergeProject();
    expect((await post(`${url}/api/streams/Stream-Z/merge`, {})).status).toBe(404);
    await createTask(store, { id: "T-D", title: "no worktree", metadata: { streamId: "Stream-D" } });
    const nob = await post(`${url}/api/streams/Stream-D/merge`, {});
    expect(nob.status).toBe(404);
    expect(nob.body.error).toContain("does not exist");
    const off = await post(`${url}/api/streams/Stream-B/merge`, { into: "release" });
    expect(off.status).toBe(409);
    expect(off.body.error).toContain("not release");
    expect((await post(`${url}/api/streams/Stream-B/merge`, { into: "--force" })).status).toBe(400);
    expect((await post(`${url}/api/streams/Stream-B/merge`, { onto: "main" })).status).toBe(400);
  });

  test("waiting for another merge's lock does not hold up other requests; the merge goes on once it is free", async () => {
    const { url, root, wt } = await mergeProject();
    commit(wt("Stream-B"), { "src/b.ts": "b\n" }, "B");
    // Another orch process's merge into this repository holds the merge lock.
    const locks = join(root, ".git", "orch", "locks");
    mkdirSync(locks, { recursive: true });
    const lock = join(locks, "merge.lock");
    const other = Bun.spawn(["sleep", "30"]);
    writeFileSync(lock, String(other.pid));
    try {
      const merging = post(`${url}/api/streams/Stream-B/merge`, {});
      await Bun.sleep(150);
      const t0 = performance.now();
      expect((await call(`${url}/api/streams`)).status).toBe(200);
      expect((await call(`${url}/health`)).status).toBe(200);
      expect(performance.now() - t0).toBeLessThan(1000);
      let done = false;
      void merging.then(() => (done = true));
      await Bun.sleep(100);
      expect(done).toBe(false);
      rmSync(lock);
      const r = await merging;
      expect(r.status).toBe(200);
      expect(r.body.status).toBe("merged");
    } finally {
      other.kill();
    }
  });
});

describe("OpenAPI", () => {
  test("describes each action: POST, its JSON body from the schema that validates it, its answers", async () => {
    const { url } = await serve();
    const doc = (await call(`${url}/openapi.json`)).body;
    const op = (p: string) => {
      expect(Object.keys(doc.paths[p])).toEqual(["post"]);
      return doc.paths[p].post;
    };
    const merge = op("/api/streams/{streamId}/merge");
    expect(merge.requestBody.content["application/json"].schema.properties.into.type).toBe("string");
    expect(merge.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/MergeResult" });
    expect(merge.responses["409"].content["application/json"].schema.oneOf).toEqual([{ $ref: "#/components/schemas/MergeConflict" }, { $ref: "#/components/schemas/Error" }]);
    for (const p of ["/api/streams/{streamId}/archive", "/api/streams/{streamId}/unarchive"]) {
      expect(op(p).responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ArchiveResult" });
      expect(op(p).parameters[0]).toMatchObject({ name: "streamId", in: "path", required: true });
    }
    const raise = op("/api/budget/{streamId}/raise");
    const body = raise.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(["usd"]);
    expect(Object.keys(body.properties).sort()).toEqual(["by", "tokens", "usd"]);
    expect(raise.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/BudgetRaise" });
    expect(doc.info.description).toContain("login link");
  });
});
