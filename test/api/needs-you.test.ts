/**
 * The "needs you" faces of the API on a real loopback server: GET /api/agents, GET /api/inbox,
 * POST /api/inbox/:id (the first write: same-origin check, JSON only, token off loopback), and
 * the `agent` / `inbox` events on /api/events.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { z } from "zod";
import { createApp } from "../../src/api/app.ts";
import { startApiServer, type ApiServer } from "../../src/api/server.ts";
import * as shapes from "../../src/api/shapes.ts";
import { recordAgentChange, type HookContext } from "../../src/core/agents.ts";
import { effectivePolicy, getQuestion, openQuestion, type QuestionInput } from "../../src/core/inbox.ts";
import { openStore, type Store } from "../../src/db/client.ts";
import { ON_POSTGRES, openTestStore } from "../backend.ts";
import { tempDir, tempStore } from "../helpers.ts";
import { guideData } from "./fixture.ts";
import { loginCookie } from "./login.ts";
import { SseTap } from "./sse-tap.ts";

const open: { servers: ApiServer[]; taps: SseTap[]; stores: Store[] } = { servers: [], taps: [], stores: [] };
afterEach(async () => {
  for (const t of open.taps.splice(0)) t.close();
  for (const s of open.servers.splice(0)) s.stop();
  for (const s of open.stores.splice(0)) await s.close();
});

async function serve(opts: Partial<Parameters<typeof startApiServer>[1]> = {}) {
  const store = await openTestStore(join(tempDir(), "tasks.db"));
  open.stores.push(store);
  await guideData(store);
  const api = await startApiServer(store, { host: "127.0.0.1", port: 0, mainBranch: "main", ...opts });
  open.servers.push(api);
  // Requests go to loopback whatever the bind (0.0.0.0 is reached through 127.0.0.1 too).
  return { api, store, url: `http://127.0.0.1:${api.port}` };
}

async function tap(url: string, headers: Record<string, string> = {}) {
  const t = await SseTap.open(url, headers);
  open.taps.push(t);
  return t;
}

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, text, type: res.headers.get("content-type") ?? "" };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

function shape<S extends z.ZodType>(s: S, body: unknown): z.output<S> {
  const r = s.safeParse(body);
  if (!r.success) throw new Error(`response does not match its shape: ${JSON.stringify(r.error.issues.slice(0, 3))}`);
  return r.data;
}

let asked = 0;
function ask(store: Store, over: Partial<QuestionInput> = {}) {
  asked++;
  return openQuestion(store, {
    kind: "permission",
    source: "hook",
    sessionId: null,
    streamId: "Stream-A",
    toolName: "Bash",
    toolInput: { command: `npm publish --tag t${asked}` },
    question: `Bash(npm publish --tag t${asked})`,
    timeoutMs: 60_000,
    ...over,
  });
}

const session = (sessionId: string, over: Partial<HookContext> = {}): HookContext => ({
  sessionId,
  streamId: "Stream-A",
  cwd: "/tmp/wt-a",
  transcriptPath: "/home/someone/.claude/projects/x/transcript.jsonl",
  pid: null,
  launcher: "headless",
  ...over,
});

describe("GET /api/agents", () => {
  test("live sessions newest first, without the transcript path, with stale; all, streamId and limit", async () => {
    const { store, url } = await serve();
    expect((await call(`${url}/api/agents`)).body).toEqual({ agents: [] });
    await recordAgentChange(store, session("s-a"), { status: "working", tool: "Bash(npm test)" });
    await recordAgentChange(store, session("s-b", { streamId: "Stream-B" }), { status: "waiting_permission", tool: "Bash(npm publish)", pendingQuestion: "permission: Bash(npm publish)" });
    await recordAgentChange(store, session("s-c"), { status: "exited", ended: true });

    const r = await call(`${url}/api/agents`);
    expect(r.status).toBe(200);
    const list = shape(shapes.agentListShape, r.body);
    expect(list.agents.map((a) => a.sessionId)).toEqual(["s-b", "s-a"]);
    expect(r.text).not.toContain("transcript");
    expect(list.agents[0]).toMatchObject({ streamId: "Stream-B", status: "waiting_permission", pendingQuestion: "permission: Bash(npm publish)", stale: false, launcher: "headless" });

    const all = shape(shapes.agentListShape, (await call(`${url}/api/agents?all=1`)).body);
    expect(all.agents.map((a) => a.sessionId).sort()).toEqual(["s-a", "s-b", "s-c"]);
    expect(all.agents.find((a) => a.sessionId === "s-c")!.status).toBe("exited");
    expect((await call(`${url}/api/agents?streamId=Stream-B`)).body.agents.map((a: { sessionId: string }) => a.sessionId)).toEqual(["s-b"]);
    expect((await call(`${url}/api/agents?limit=1`)).body.agents).toHaveLength(1);
  });

  test("bad parameters: 400 naming each one", async () => {
    const { url } = await serve();
    for (const q of ["limit=0", "limit=1001", "limit=abc", "all=maybe", "streamId=../x"]) {
      const r = await call(`${url}/api/agents?${q}`);
      expect(r.status).toBe(400);
      expect(shape(shapes.errorShape, r.body).error).toContain(q.split("=")[0]!);
    }
  });
});

describe("GET /api/inbox", () => {
  test("pending entries oldest first and the pending count; all=1 adds answered ones newest first; bounded by limit", async () => {
    const { store, url } = await serve();
    const a = await ask(store);
    const b = await ask(store, { streamId: "Stream-B" });
    const c = await ask(store);
    const r = await call(`${url}/api/inbox`);
    expect(r.status).toBe(200);
    const list = shape(shapes.inboxListShape, r.body);
    expect(list.entries.map((e) => e.id)).toEqual([a.id, b.id, c.id]);
    expect(list.pending).toBe(3);
    expect(list.entries[0]).toMatchObject({ kind: "permission", status: "pending", toolName: "Bash", toolInput: { command: expect.stringContaining("npm publish") } });

    const one = shape(shapes.inboxListShape, (await call(`${url}/api/inbox?limit=1`)).body);
    expect(one.entries.map((e) => e.id)).toEqual([a.id]);
    expect(one.pending).toBe(3); // the count is of all pending, not of the page
    const streamB = shape(shapes.inboxListShape, (await call(`${url}/api/inbox?streamId=Stream-B`)).body);
    expect(streamB).toMatchObject({ pending: 1, entries: [{ id: b.id }] });

    expect((await post(`${url}/api/inbox/${a.id}`, { decision: "allow" })).status).toBe(200);
    const pending = shape(shapes.inboxListShape, (await call(`${url}/api/inbox`)).body);
    expect(pending.entries.map((e) => e.id)).toEqual([b.id, c.id]);
    expect(pending.pending).toBe(2);
    const all = shape(shapes.inboxListShape, (await call(`${url}/api/inbox?all=1`)).body);
    expect(all.entries.map((e) => e.id)).toEqual([c.id, b.id, a.id]);
    expect(all.entries[2]).toMatchObject({ status: "allowed", answeredBy: "api", answeredHow: "person" });
    for (const q of ["limit=0", "limit=5000", "all=2"]) expect((await call(`${url}/api/inbox?${q}`)).status).toBe(400);
  });
});

describe("POST /api/inbox/:id", () => {
  test("allow and deny round trip: the entry as answered, who and why; --always becomes a policy rule", async () => {
    const { store, url } = await serve();
    const a = await ask(store);
    const r = await post(`${url}/api/inbox/${a.id}`, { decision: "allow", always: true, by: "ana" });
    expect(r.status).toBe(200);
    const entry = shape(shapes.inboxEntryShape, r.body);
    expect(entry).toMatchObject({ id: a.id, status: "allowed", answeredBy: "ana", answeredHow: "person", always: true, reason: null });
    expect(entry.answeredAt).not.toBeNull();
    expect((await effectivePolicy(store, { allow: [], deny: [] })).allow.length).toBe(1);

    const b = await ask(store);
    const d = await post(`${url}/api/inbox/${b.id}`, { decision: "deny", reason: "not on a Friday" });
    expect(d.status).toBe(200);
    expect(shape(shapes.inboxEntryShape, d.body)).toMatchObject({ status: "denied", answeredBy: "api", reason: "not on a Friday", always: false });
    expect((await getQuestion(store, b.id))!.status).toBe("denied");
  });

  test("answered already or expired: 409 with the one line; unknown: 404; nothing changed", async () => {
    const { store, url } = await serve();
    const a = await ask(store);
    expect((await post(`${url}/api/inbox/${a.id}`, { decision: "deny" })).status).toBe(200);
    const again = await post(`${url}/api/inbox/${a.id}`, { decision: "allow" });
    expect(again.status).toBe(409);
    expect(shape(shapes.errorShape, again.body).error).toStartWith(`inbox entry ${a.id} was already answered: denied by api`);
    expect((await getQuestion(store, a.id))!.status).toBe("denied");

    const late = await ask(store, { timeoutMs: 0 });
    const expired = await post(`${url}/api/inbox/${late.id}`, { decision: "allow" });
    expect(expired.status).toBe(409);
    expect(expired.body.error).toContain("expired");
    expect((await getQuestion(store, late.id))!.status).toBe("expired");

    const missing = await post(`${url}/api/inbox/999999`, { decision: "allow" });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "inbox entry 999999 not found" });
  });

  test("bad ids and bodies: 400 naming what is wrong; not JSON: 415; the entry stays pending", async () => {
    const { store, url } = await serve();
    const a = await ask(store);
    const at = `${url}/api/inbox/${a.id}`;
    const bad: [string, unknown, string][] = [
      [`${url}/api/inbox/abc`, { decision: "allow" }, "id"],
      [`${url}/api/inbox/0`, { decision: "allow" }, "id"],
      [`${url}/api/inbox/-1`, { decision: "allow" }, "id"],
      [`${url}/api/inbox/1e3`, { decision: "allow" }, "id"],
      [at, "{not json", "not JSON"],
      [at, "", "not JSON"],
      [at, "[]", "body"],
      [at, "null", "body"],
      [at, {}, "decision"],
      [at, { decision: "maybe" }, "decision"],
      [at, { decision: "ALLOW" }, "decision"],
      [at, { decision: "deny", reason: "two\nlines" }, "reason"],
      [at, { decision: "deny", reason: "x".repeat(2001) }, "reason"],
      [at, { decision: "deny", reason: 5 }, "reason"],
      [at, { decision: "allow", always: "yes" }, "always"],
      [at, { decision: "allow", by: "" }, "by"],
      [at, { decision: "allow", by: "x".repeat(101) }, "by"],
      [at, { decision: "allow", decison: "deny" }, "decison"],
    ];
    for (const [target, body, what] of bad) {
      const r = await post(target, body);
      expect({ target, body, status: r.status }).toEqual({ target, body, status: 400 });
      expect(shape(shapes.errorShape, r.body).error).toContain(what);
    }
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp"]) {
      const r = await call(at, { method: "POST", headers: { "Content-Type": type }, body: JSON.stringify({ decision: "allow" }) });
      expect({ type, status: r.status }).toEqual({ type, status: 415 });
      expect(shape(shapes.errorShape, r.body).error).toContain("application/json");
    }
    const none = await call(at, { method: "POST", body: new Uint8Array(Buffer.from('{"decision":"allow"}')) });
    expect(none.status).toBe(415);
    // charset and case are fine
    expect((await getQuestion(store, a.id))!.status).toBe("pending");
    const ok = await post(at, { decision: "allow" }, { "Content-Type": "Application/JSON; charset=utf-8" });
    expect(ok.status).toBe(200);
  });

  test("a cross-site POST is refused (Origin, Sec-Fetch-Site); this server's own origin and plain programs pass", async () => {
    const { store, url, api } = await serve();
    const a = await ask(store);
    const at = `${url}/api/inbox/${a.id}`;
    const refused: Record<string, string>[] = [
      { Origin: "http://evil.example" },
      { "Sec-Fetch-Site": "cross-site" },
      { Origin: "http://evil.example", "Sec-Fetch-Site": "cross-site" },
      { "Sec-Fetch-Site": "same-site" },
      { Origin: "null" },
      { Origin: `http://127.0.0.1:${api.port + 1}` },
      { Origin: `https://127.0.0.1:${api.port}` },
      { Origin: `http://localhost:${api.port}` }, // another origin than the Host the request names
      { Origin: "http://127.0.0.1", "Sec-Fetch-Site": "same-origin" },
      { Origin: `http://127.0.0.1:${api.port}`, "Sec-Fetch-Site": "cross-site" },
    ];
    for (const headers of refused) {
      const r = await post(at, { decision: "allow" }, headers);
      expect({ headers, status: r.status }).toEqual({ headers, status: 403 });
      expect(shape(shapes.errorShape, r.body).error).toStartWith("Forbidden");
    }
    expect((await getQuestion(store, a.id))!.status).toBe("pending");
    // Reads by a page on another site are refused too (CORS would hide the answer anyway).
    expect((await call(`${url}/api/inbox`, { headers: { Origin: "http://evil.example", "Sec-Fetch-Site": "cross-site" } })).status).toBe(403);

    // This server's own page: its Origin is not enough, it needs the session of the login link too.
    const ownPage = { Origin: `http://127.0.0.1:${api.port}`, "Sec-Fetch-Site": "same-origin" };
    expect((await post(at, { decision: "allow" }, ownPage)).status).toBe(403);
    const cookie = await loginCookie(api);
    const own = await post(at, { decision: "allow" }, { ...ownPage, Cookie: cookie });
    expect(own.status).toBe(200);
    const b = await ask(store);
    // A browser write without an Origin is not taken, cookie or not.
    expect((await post(`${url}/api/inbox/${b.id}`, { decision: "deny" }, { "Sec-Fetch-Site": "none", Cookie: cookie })).status).toBe(403);
    const c = await ask(store);
    expect((await post(`${url}/api/inbox/${c.id}`, { decision: "deny" })).status).toBe(200); // curl, scripts
  });

  test("bound beyond loopback: the token is required; without one the server will not even start", async () => {
    const token = "a-long-enough-token";
    await expect(serve({ host: "0.0.0.0" })).rejects.toThrow("ORCH_API_TOKEN");
    const { store, url } = await serve({ host: "0.0.0.0", token });
    const a = await ask(store);
    const at = `${url}/api/inbox/${a.id}`;
    const none = await post(at, { decision: "allow" });
    expect(none.status).toBe(401);
    expect((await post(at, { decision: "allow" }, { Authorization: "Bearer wrong" })).status).toBe(401);
    expect((await call(`${url}/api/inbox`)).status).toBe(401);
    expect((await call(`${url}/api/agents`)).status).toBe(401);
    expect((await getQuestion(store, a.id))!.status).toBe("pending");
    // The token does not make a cross-site request acceptable.
    expect((await post(at, { decision: "allow" }, { Authorization: `Bearer ${token}`, Origin: "http://evil.example" })).status).toBe(403);
    const ok = await post(at, { decision: "allow" }, { Authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe("allowed");
  });

  test("an app built for a non-loopback address without a token takes no writes, whoever built it", async () => {
    const store = await tempStore();
    const a = await ask(store);
    const app = await createApp(store, { host: "0.0.0.0" });
    const r = await app.request(`/api/inbox/${a.id}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"decision":"allow"}' });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: string }).error).toContain("ORCH_API_TOKEN");
    expect((await getQuestion(store, a.id))!.status).toBe("pending");
  });

  test("other methods and paths: JSON 404s, nothing answered", async () => {
    const { store, url } = await serve();
    const a = await ask(store);
    for (const [method, path] of [["POST", "/api/inbox"], ["PUT", `/api/inbox/${a.id}`], ["DELETE", `/api/inbox/${a.id}`], ["POST", "/api/agents"]] as const) {
      const r = await call(`${url}${path}`, { method, headers: { "Content-Type": "application/json" }, body: '{"decision":"allow"}' });
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 404 });
      expect(r.type).toStartWith("application/json");
    }
    expect((await getQuestion(store, a.id))!.status).toBe("pending");
  });
});

describe("SSE: agent and inbox events", () => {
  test("an entry created and answered arrives as `inbox` events; a session's change as an `agent` event", async () => {
    const { store, url } = await serve();
    const t = await tap(`${url}/api/events`);
    await t.until((x) => x.messages.length >= 1, 5000, "snapshot");

    const a = await ask(store);
    await t.until((x) => x.events("inbox").length >= 1, 5000, "inbox create");
    const created = JSON.parse(t.events("inbox")[0]!.data);
    shape(shapes.changeShape, created);
    expect(created).toMatchObject({ op: "create", entityId: String(a.id) });
    shape(shapes.inboxEntryShape, created.data);
    expect(created.data.status).toBe("pending");

    expect((await post(`${url}/api/inbox/${a.id}`, { decision: "deny", reason: "no" })).status).toBe(200);
    await t.until((x) => x.events("inbox").length >= 2, 5000, "inbox update");
    const answered = JSON.parse(t.events("inbox")[1]!.data);
    expect(answered).toMatchObject({ op: "update", entityId: String(a.id), data: { status: "denied", reason: "no", answeredBy: "api" } });
    expect(Number(t.events("inbox")[1]!.id)).toBeGreaterThan(Number(t.events("inbox")[0]!.id));

    await recordAgentChange(store, session("s-sse"), { status: "working", tool: "Bash(ls)" });
    await t.until((x) => x.events("agent").length >= 1, 5000, "agent event");
    const agent = JSON.parse(t.events("agent")[0]!.data);
    expect(agent).toMatchObject({ op: "create", entityId: "s-sse", data: { sessionId: "s-sse", status: "working", tool: "Bash(ls)" } });
    expect(agent.data).not.toHaveProperty("transcriptPath");
    shape(shapes.agentShape.omit({ stale: true }), agent.data);
  });
});

describe("hostile text", () => {
  test("escape sequences in a question, its input and an agent's message stay JSON-escaped in every answer and event", async () => {
    const { store, url } = await serve();
    const evil = "rm -rf / \u001b[2J\u001b]0;pwned\u0007\u009b31m\r\n\u2028\u202egnp.exe\u0000end";
    const t = await tap(`${url}/api/events`);
    await t.until((x) => x.messages.length >= 1, 5000, "snapshot");
    const a = await ask(store, { question: `Bash(${evil})`, toolInput: { command: evil } });
    await recordAgentChange(store, session("s-evil"), { status: "working", tool: `Bash(${evil})`, lastMessage: evil });
    await t.until((x) => x.events("agent").length >= 1 && x.events("inbox").length >= 1, 5000, "events");

    const raw = [(await call(`${url}/api/inbox`)).text, (await call(`${url}/api/agents`)).text, ...t.events().map((m) => m.data)];
    for (const text of raw) {
      // No raw control character leaves the server: each is a \u escape inside a JSON string.
      expect(/[\u0000-\u001f\u007f-\u009f\u2028\u202e]/.test(text)).toBe(false);
      expect(text).toContain("\\u001b[2J");
    }
    const list = shape(shapes.inboxListShape, JSON.parse(raw[0]!));
    // Stored and returned exactly; PostgreSQL alone cannot store NUL, which it keeps as U+FFFD (db/text-safe.ts).
    const stored = ON_POSTGRES ? evil.replace("\u0000", "\uFFFD") : evil;
    expect(list.entries[0]!.question).toBe(`Bash(${stored})`);
    expect(list.entries[0]!.toolInput).toEqual({ command: stored });
    expect(JSON.parse(raw[1]!).agents[0].lastMessage).toBe(stored);

    // An answer cannot carry them in: a reason and a name are one line of text.
    for (const body of [{ decision: "deny", reason: "ok\u001b[2J" }, { decision: "deny", by: "x\u0007" }]) expect((await post(`${url}/api/inbox/${a.id}`, body)).status).toBe(400);
    expect((await getQuestion(store, a.id))!.status).toBe("pending");
  });
});
