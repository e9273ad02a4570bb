/**
 * Needs you under attack, from outside: `orch hook` fed hostile payloads and broken databases,
 * many hooks at once while people answer and a writer writes, answers racing each other (CLI and
 * API), killed waiters, cross-site writes to POST /api/inbox/:id, policy rules pushed to cover
 * what they must not, and `orch init` merging hooks into a person's settings. Compiled binary,
 * real processes, real temp repositories, a real server on loopback.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { answerQuestion, openQuestion } from "../../src/core/inbox.ts";
import { decide, ruleForCall } from "../../src/core/policy.ts";
import { openStore } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { migrations } from "../../src/db/migrations/index.ts";
import { mergeSettingsHooks } from "../../src/generate/init-files.ts";
import { rawSqlite, runOrch, tempDir } from "../helpers.ts";
import { size, timeout } from "./harness/mode.ts";
import { cleanEnv, orchBin, serve } from "./harness/orch.ts";
import { type Random, seeded } from "./harness/prng.ts";

const SESSION_ID = /^[A-Za-z0-9._:-]{1,200}$/;
const STATUSES = ["starting", "working", "waiting_permission", "waiting_input", "idle", "error", "exited"];

interface Project {
  dir: string;
  db: string;
  env: Record<string, string>;
}

/** A git repository with a database holding one task, and a config: a policy and a short question timeout. */
async function project(config: object = {}): Promise<Project> {
  const dir = tempDir("orch-needs-you-");
  Bun.spawnSync(["git", "init", "-q", dir]);
  const db = join(dir, "tasks.db");
  const env = { ORCH_DB: db, HOME: dir };
  const r = await runOrch(["task", "create", "--id", "B1", "--title", "Button", "--stream", "Stream-B", "--phase", "parallel"], { env, cwd: dir });
  expect(r.code).toBe(0);
  mkdirSync(join(dir, ".claude", "orchestration"), { recursive: true });
  writeFileSync(join(dir, ".claude", "orchestration", "orchestration-config.json"), JSON.stringify({ questionTimeout: 1, ...config }));
  return { dir, db, env };
}

interface HookRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function spawnHook(p: Project, stdin: Uint8Array | string, extraEnv: Record<string, string> = {}) {
  const t0 = performance.now();
  const proc = Bun.spawn([orchBin(), "hook"], { cwd: p.dir, env: cleanEnv({ ...p.env, ...extraEnv }), stdin: new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const done = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]).then(
    ([stdout, stderr, code]): HookRun => ({ code, stdout, stderr, ms: performance.now() - t0 }),
  );
  return { proc, done };
}

const hook = (p: Project, stdin: Uint8Array | string, extraEnv: Record<string, string> = {}) => spawnHook(p, stdin, extraEnv).done;

/** What a hook may print: nothing, or one PermissionRequest decision. */
function expectDecisionOrNothing(r: HookRun, what: string): "allow" | "deny" | null {
  if (r.code !== 0 || r.stderr !== "") throw new Error(`${what}: exit ${r.code}, stderr ${JSON.stringify(r.stderr.slice(0, 300))}`);
  if (r.stdout === "") return null;
  const out = JSON.parse(r.stdout) as { hookSpecificOutput: { hookEventName: string; decision: { behavior: string; message?: string } } };
  expect(r.stdout.endsWith("\n") && r.stdout.indexOf("\n") === r.stdout.length - 1).toBe(true);
  expect(out.hookSpecificOutput.hookEventName).toBe("PermissionRequest");
  expect(["allow", "deny"]).toContain(out.hookSpecificOutput.decision.behavior);
  return out.hookSpecificOutput.decision.behavior as "allow" | "deny";
}

const hooksLog = (p: Project) => (existsSync(join(p.dir, "hooks.log")) ? readFileSync(join(p.dir, "hooks.log"), "utf8") : "");

function checkStored(p: Project): { agents: number } {
  const sqlite = new Database(p.db, { readonly: true });
  try {
    expect((sqlite.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
    const rows = sqlite.query("SELECT session_id, status, started_at, updated_at FROM agents").all() as { session_id: string; status: string; started_at: string; updated_at: string }[];
    for (const r of rows) {
      expect(r.session_id).toMatch(SESSION_ID);
      expect(STATUSES).toContain(r.status);
      expect(Number.isFinite(Date.parse(r.started_at)) && Number.isFinite(Date.parse(r.updated_at))).toBe(true);
    }
    for (const e of sqlite.query("SELECT payload FROM events WHERE kind IN ('agent', 'inbox')").all() as { payload: string }[]) JSON.parse(e.payload);
    return { agents: rows.length };
  } finally {
    sqlite.close();
  }
}

// ---------------------------------------------------------------- hostile payloads

const EVENTS = ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest", "Notification", "Stop", "StopFailure", "SessionEnd", "Weird", "__proto__", "constructor"];
const HOSTILE_STRINGS = ["\u001b[2J\u001b]0;pwned\u0007", "\u001b]52;c;aGk=\u0007", "a\u0000b", "\r\nfake line", "\u202e\u2066bidi", "\ud800", "../../../etc/passwd", "$(rm -rf ~)", "`id`", "x".repeat(5000)];
const WRONG_TYPES: unknown[] = [null, 0, -1, 1e308, true, [], {}, [1, "x"], { a: { b: 1 } }, "", "s"];

function nested(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

/** One hostile stdin for `orch hook`, and whether it is a permission request that will be answered. */
function hostilePayload(rnd: Random, i: number): { bytes: Uint8Array | string; kind: string } {
  const session = `s-${i % 7}`;
  const base: Record<string, unknown> = { session_id: session, hook_event_name: rnd.pick(EVENTS) };
  switch (rnd.int(12)) {
    case 0:
      return { bytes: `{"session_id":"${session}","hook_event_name":"PreToolUse","x":"${"a".repeat(1024 * 1024 + rnd.int(1000))}"}`, kind: "huge" };
    case 1:
      return { bytes: nested(rnd.range(1000, 200_000)), kind: "nested-array" };
    case 2:
      return { bytes: `{"session_id":"${session}","hook_event_name":"PreToolUse","tool_input":${nested(rnd.range(1000, 50_000))}}`, kind: "nested-input" };
    case 3: {
      const head = Buffer.from(`{"session_id":"${session}","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"`);
      return { bytes: Buffer.concat([head, Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]), Buffer.from('"}}')]), kind: "invalid-utf8" };
    }
    case 4:
      return { bytes: `{"session_id":"${session}\u0000","hook_event_name":"PreToolUse"}`.replace("\\u0000", "\u0000"), kind: "raw-nul" };
    case 5:
      return { bytes: JSON.stringify({ ...base, session_id: rnd.pick(["../../etc", "a/b", "..", "", "x".repeat(201), "a b", "s\u0000", "s\n"]) }), kind: "session-path" };
    case 6: {
      const key = rnd.pick(["session_id", "hook_event_name", "cwd", "transcript_path", "tool_name", "tool_input", "tool_use_id", "message", "notification_type", "last_assistant_message", "reason", "error"]);
      return { bytes: JSON.stringify({ ...base, [key]: rnd.pick(WRONG_TYPES) }), kind: "wrong-type" };
    }
    case 7:
      return { bytes: JSON.stringify({ ...base, hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: rnd.pick(HOSTILE_STRINGS) }, message: rnd.pick(HOSTILE_STRINGS) }), kind: "escapes" };
    case 8:
      return { bytes: rnd.pick(["", "null", "[]", "1", '"x"', "{", "}", "{}}", "\ufeff{}", "{\"session_id\":\"a\",\"session_id\":\"b\"}"]), kind: "not-an-object" };
    case 9:
      return { bytes: JSON.stringify({ ...base, hook_event_name: "Notification", notification_type: rnd.pick(["permission_prompt", "idle_prompt", "x"]), message: rnd.pick(HOSTILE_STRINGS) }), kind: "notification" };
    case 10:
      // Answered at once by the policy below, or refused by it: a decision on stdout.
      return { bytes: JSON.stringify({ ...base, hook_event_name: "PermissionRequest", tool_name: "Bash", tool_input: { command: rnd.pick(["npm test", "git push --force", "npm test; rm -rf /"]) } }), kind: "permission" };
    default:
      return { bytes: JSON.stringify({ ...base, hook_event_name: "Stop", transcript_path: rnd.pick(["/dev/zero", "/etc/passwd", "/nonexistent", join("/proc/self/fd/0"), "."]) }), kind: "transcript" };
  }
}

describe("orch hook: hostile payloads", () => {
  test(
    "always exit 0, quiet, quick; stdout empty or one decision; nothing stored wrong; problems in hooks.log",
    async () =>
      seeded("needs-you-hostile/payloads", async (rnd) => {
        const p = await project({ policy: { allow: ["Bash(npm test:*)"], deny: ["Bash(git push:*)", "Bash(rm:*)"] } });
        const n = size(60, 400);
        const kinds = new Map<string, number>();
        let decisions = 0;
        for (let i = 0; i < n; i += 4) {
          const batch = Array.from({ length: Math.min(4, n - i) }, (_, k) => hostilePayload(rnd, i + k));
          const runs = await Promise.all(batch.map((b) => hook(p, b.bytes)));
          runs.forEach((r, k) => {
            const what = `payload ${i + k} (${batch[k]!.kind})`;
            kinds.set(batch[k]!.kind, (kinds.get(batch[k]!.kind) ?? 0) + 1);
            if (expectDecisionOrNothing(r, what)) decisions++;
            if (r.ms > 8000) throw new Error(`${what} took ${Math.round(r.ms)} ms`);
          });
        }
        checkStored(p);
        // Every line of the log is one line, neutralised.
        for (const line of hooksLog(p).split("\n").filter(Boolean)) expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
        if (kinds.get("huge")) expect(hooksLog(p)).toContain("payload larger than");
        console.log(`needs-you-hostile payloads: ${n} hooks (${[...kinds].map(([k, v]) => `${k} ${v}`).join(", ")}), ${decisions} decisions`);
      }),
    timeout(120_000, 600_000),
  );
});

// ---------------------------------------------------------------- broken databases

describe("orch hook: broken databases", () => {
  const P = (s: string, e = "PreToolUse") => JSON.stringify({ session_id: s, hook_event_name: e, tool_name: "Bash", tool_input: { command: "ls" } });

  test("a directory, a corrupt file, a newer schema: exit 0, quiet, a hooks.log line for each event", async () => {
    const p = await project();
    const cases: [string, () => unknown][] = [
      ["dir.db", () => mkdirSync(join(p.dir, "dir.db"))],
      ["garbage.db", () => writeFileSync(join(p.dir, "garbage.db"), Buffer.alloc(8192, 0x5a))],
      ["header.db", () => writeFileSync(join(p.dir, "header.db"), Buffer.concat([Buffer.from("SQLite format 3\u0000"), Buffer.alloc(8192, 0xa5)]))],
      [
        "newer.db",
        async () => {
          const s = await openStore(join(p.dir, "newer.db"));
          rawSqlite(s).run("INSERT INTO __orch_migrations (version, tag, applied_at) VALUES (999, 'future', 'x')");
          await s.close();
        },
      ],
    ];
    for (const [name, make] of cases) {
      await make();
      for (const event of ["PreToolUse", "Stop", "PermissionRequest"]) {
        const r = await hook(p, P("b1", event), { ORCH_DB: join(p.dir, name) });
        expect({ name, event, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ name, event, code: 0, stdout: "", stderr: "" });
        expect(r.ms).toBeLessThan(5000);
      }
      // The events the full handler takes always leave a line; a tool event on a directory may be
      // taken for "no database here" (nothing to record) by the fast path.
      const lines = hooksLog(p).split("\n").filter((l) => l.includes(`not recorded in ${join(p.dir, name)}: `));
      expect(lines.filter((l) => / of b1 /.test(l) && !l.includes("PreToolUse")).length).toBe(2);
      if (name !== "dir.db") expect(lines.length).toBe(3);
    }
  });

  test("an empty file and every older schema: migrated by the full path and the event stored", async () => {
    const p = await project();
    const versions = [-1, ...migrations.map((m) => m.version).sort((a, b) => a - b).slice(0, -1)];
    for (const v of versions) {
      const path = join(p.dir, `old${v}.db`);
      if (v === -1) writeFileSync(path, "");
      else {
        const s = new Database(path, { create: true });
        s.run("PRAGMA journal_mode = WAL");
        migrate(s, migrations.filter((m) => m.version <= v));
        s.close();
      }
      const r = await hook(p, P(`old${v}`), { ORCH_DB: path });
      expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" });
      const s = await openStore(path);
      expect((rawSqlite(s).query("SELECT status, tool FROM agents WHERE session_id = ?").get(`old${v}`) as object) ?? null).toEqual({ status: "working", tool: "Bash(ls)" });
      await s.close();
    }
    expect(hooksLog(p)).toBe("");
  });

  test("a database another program holds locked: the hook waits its busy timeout at most, exits 0, says so in hooks.log", async () => {
    const p = await project();
    const holder = new Database(p.db);
    holder.run("BEGIN IMMEDIATE");
    holder.run("UPDATE tasks SET notes = 'held'");
    try {
      const r = await hook(p, P("locked"));
      expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" });
      expect(r.ms).toBeLessThan(9000);
      expect(hooksLog(p)).toContain(`PreToolUse of locked not recorded in ${p.db}: SQLITE_BUSY`);
    } finally {
      holder.run("COMMIT");
      holder.close();
    }
    // Free again: recorded.
    expect(await hook(p, P("locked"))).toMatchObject({ code: 0, stdout: "" });
    expect(checkStored(p).agents).toBe(1);
  }, 30_000);
});

// ---------------------------------------------------------------- many at once

describe("orch hook: 64 at once", () => {
  test(
    "8 sessions × 8 hooks (2 permission questions each) while orch allow answers and a writer writes: all exit 0, every question answered once, every write kept",
    async () =>
      seeded("needs-you-hostile/concurrent", async (rnd) => {
        const p = await project({ questionTimeout: 60 });
        const sessions = Array.from({ length: 8 }, (_, i) => `sess-${i}`);
        const hooks: { session: string; ask: boolean; run: Promise<HookRun> }[] = [];
        const order = rnd.fork();
        for (const s of sessions) {
          for (let k = 0; k < 8; k++) {
            const ask = k < 2;
            const event = ask ? "PermissionRequest" : order.pick(["PreToolUse", "PostToolUse", "UserPromptSubmit", "Notification"]);
            const payload = { session_id: s, hook_event_name: event, cwd: p.dir, tool_name: "Bash", tool_input: { command: ask ? `deploy ${s} ${k}` : `ls ${k}` } };
            hooks.push({ session: s, ask, run: hook(p, JSON.stringify(payload), { ORCH_STREAM_ID: "Stream-B" }).then((r) => r) });
          }
        }
        // A writer: task notes, each acknowledged by exit 0.
        const writer = (async () => {
          let last = "";
          for (let i = 0; i < size(12, 40); i++) {
            const r = await runOrch(["task", "update", "B1", "--notes", `note ${i}`], { env: p.env, cwd: p.dir });
            expect(r).toMatchObject({ code: 0, stderr: "" });
            last = `note ${i}`;
          }
          return last;
        })();
        // A person answering whatever is pending until all 16 questions are.
        const answered = new Set<number>();
        const answerer = (async () => {
          const t0 = performance.now();
          while (answered.size < 16) {
            if (performance.now() - t0 > 60_000) throw new Error(`only ${answered.size} of 16 questions seen`);
            const list = await runOrch(["inbox", "--json"], { env: p.env, cwd: p.dir });
            expect(list).toMatchObject({ code: 0, stderr: "" });
            const ids = (JSON.parse(list.stdout) as { entries: { id: number }[] }).entries.map((e) => e.id).filter((id) => !answered.has(id));
            await Promise.all(
              ids.map(async (id) => {
                const r = await runOrch(["allow", String(id), "--by", "tester"], { env: p.env, cwd: p.dir });
                expect(r).toMatchObject({ code: 0, stderr: "" });
                answered.add(id);
              }),
            );
            await Bun.sleep(20);
          }
        })();
        const [runs, lastNote] = await Promise.all([Promise.all(hooks.map((h) => h.run)), writer, answerer]);
        runs.forEach((r, i) => {
          const d = expectDecisionOrNothing(r, `hook ${i} of ${hooks[i]!.session}`);
          expect(d).toBe(hooks[i]!.ask ? "allow" : null);
        });
        expect(hooksLog(p)).toBe("");
        expect(checkStored(p).agents).toBe(8);
        const store = await openStore(p.db);
        try {
          const task = rawSqlite(store).query("SELECT notes FROM tasks WHERE id = 'B1'").get() as { notes: string };
          expect(task.notes).toBe(lastNote);
          const entries = rawSqlite(store).query("SELECT status, answered_by AS by FROM inbox").all() as { status: string; by: string }[];
          expect(entries).toHaveLength(16);
          expect(entries.every((e) => e.status === "allowed" && e.by === "tester")).toBe(true);
          const live = rawSqlite(store).query("SELECT count(*) AS n FROM agents WHERE status = 'waiting_permission'").get() as { n: number };
          expect(live.n).toBe(0);
        } finally {
          await store.close();
        }
        console.log(`needs-you-hostile concurrent: 64 hooks, 16 questions answered by orch allow, ${size(12, 40)} writes kept`);
      }),
    timeout(120_000, 300_000),
  );
});

// ---------------------------------------------------------------- answers racing

describe("inbox answers: races, expiry, killed waiters, bad ids", () => {
  test(
    "orch allow, orch deny and POST /api/inbox/:id on one entry at once: exactly one wins, the others get one clear line",
    async () =>
      seeded("needs-you-hostile/races", async (rnd) => {
        const p = await project();
        const api = await serve(p.db, { cwd: p.dir, env: { HOME: p.dir } });
        try {
          const rounds = size(8, 30);
          const store = await openStore(p.db);
          const ids: number[] = [];
          for (let i = 0; i < rounds; i++)
            ids.push((await openQuestion(store, { kind: "permission", source: "hook", sessionId: null, streamId: "Stream-B", toolName: "Bash", toolInput: { command: `race ${i}` }, question: `Bash(race ${i})`, timeoutMs: 600_000 })).id);
          await store.close();
          for (const id of ids) {
            const contenders = rnd.pick([2, 3, 4]);
            const tries = Array.from({ length: contenders }, (_, k) => {
              const kind = rnd.pick(["allow", "deny", "post-allow", "post-deny"]);
              if (kind.startsWith("post")) {
                const decision = kind.slice(5);
                return fetch(`${api.url}/api/inbox/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ decision, by: `p${k}` }) }).then(async (r) => ({
                  won: r.status === 200,
                  decision,
                  line: r.status === 200 ? "" : ((await r.json()) as { error: string }).error,
                  status: r.status,
                }));
              }
              return runOrch([kind, String(id), "--by", `c${k}`], { env: p.env, cwd: p.dir }).then((r) => ({ won: r.code === 0, decision: kind, line: r.stderr, status: r.code }));
            });
            const results = await Promise.all(tries);
            const winners = results.filter((r) => r.won);
            expect(winners).toHaveLength(1);
            for (const loser of results.filter((r) => !r.won)) {
              expect([1, 409]).toContain(loser.status);
              expect(loser.line.trimEnd().split("\n")).toHaveLength(1);
              expect(loser.line).toContain(`inbox entry ${id} was already answered: ${winners[0]!.decision === "allow" ? "allowed" : "denied"}`);
            }
          }
          // Bad ids: one line each, nothing changes.
          for (const bad of ["0", "-1", "abc", "1e3", "99999999999999999999", "0x10", " 1", "1.5", "%31"]) {
            const r = await runOrch(["deny", bad], { env: p.env, cwd: p.dir });
            expect(r.code).toBe(2);
            expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
            const post = await fetch(`${api.url}/api/inbox/${encodeURIComponent(bad)}`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"decision":"deny"}' });
            expect([400, 404]).toContain(post.status);
          }
          const missing = await runOrch(["allow", "987654"], { env: p.env, cwd: p.dir });
          expect(missing).toEqual({ code: 1, stdout: "", stderr: "orch: inbox entry 987654 not found\n" });
          expect((await fetch(`${api.url}/api/inbox/987654`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"decision":"allow"}' })).status).toBe(404);
          console.log(`needs-you-hostile races: ${rounds} entries, each answered exactly once`);
        } finally {
          await api.stop();
        }
      }),
    timeout(120_000, 300_000),
  );

  test("an entry past its expiry is refused and closed; a killed waiter's session is not left waiting", async () => {
    const p = await project({ questionTimeout: 1 });
    const payload = JSON.stringify({ session_id: "killed-1", hook_event_name: "PermissionRequest", cwd: p.dir, tool_name: "Bash", tool_input: { command: "npm publish" } });
    const { proc } = spawnHook(p, payload);
    const t0 = performance.now();
    let id = 0;
    while (!id) {
      if (performance.now() - t0 > 10_000) throw new Error("the question never appeared");
      const r = await runOrch(["inbox", "--json"], { env: p.env, cwd: p.dir });
      id = (JSON.parse(r.stdout) as { entries: { id: number }[] }).entries[0]?.id ?? 0;
      await Bun.sleep(20);
    }
    proc.kill("SIGKILL");
    await proc.exited;
    const waiting = JSON.parse((await runOrch(["agents", "--json"], { env: p.env, cwd: p.dir })).stdout) as { agents: { sessionId: string; status: string }[] };
    expect(waiting.agents.find((a) => a.sessionId === "killed-1")?.status).toBe("waiting_permission");
    await Bun.sleep(1200);
    const late = await runOrch(["allow", String(id)], { env: p.env, cwd: p.dir });
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(new RegExp(`^orch: inbox entry ${id} expired at \\S+; it was denied\\n$`));
    const again = await runOrch(["deny", String(id)], { env: p.env, cwd: p.dir });
    expect(again.stderr).toMatch(new RegExp(`^orch: inbox entry ${id} already expired at \\S+\\n$`));
    const after = JSON.parse((await runOrch(["agents", "--json"], { env: p.env, cwd: p.dir })).stdout) as { agents: { sessionId: string; status: string; pendingQuestion: string | null }[] };
    expect(after.agents.find((a) => a.sessionId === "killed-1")).toMatchObject({ status: "working", pendingQuestion: null });
  }, 30_000);

  test("--always on a call no exact rule can name is refused and nothing is answered", async () => {
    const store = await openStore(join(tempDir(), "tasks.db"));
    try {
      const ask = (command: unknown, i: number) =>
        openQuestion(store, { kind: "permission", source: "hook", sessionId: null, streamId: null, toolName: "Bash", toolInput: command, question: `q${i}`, timeoutMs: 60_000 });
      const cases = [{ command: "echo *" }, { command: "ls:*" }, { command: `x${"y".repeat(20_000)}` }];
      for (const [i, input] of cases.entries()) {
        const q = await ask(input, i);
        await expect(answerQuestion(store, q.id, { decision: "allow", by: "t", how: "person", always: true })).rejects.toThrow(/no rule can name exactly/);
        expect(rawSqlite(store).query("SELECT status FROM inbox WHERE id = ?").get(q.id)).toEqual({ status: "pending" });
      }
      expect(rawSqlite(store).query("SELECT count(*) AS n FROM policy_rules").get()).toEqual({ n: 0 });
      const ok = await ask({ command: "npm publish" }, 9);
      await answerQuestion(store, ok.id, { decision: "allow", by: "t", how: "person", always: true });
      expect(rawSqlite(store).query("SELECT rule FROM policy_rules").all()).toEqual([{ rule: "Bash(npm publish)" }]);
    } finally {
      await store.close();
    }
  });
});

// ---------------------------------------------------------------- the API's write route

describe("POST /api/inbox/:id: cross-site and malformed writes", () => {
  test("refused without answering: foreign Origin or Sec-Fetch-Site, own origin without a session, no or wrong content type, large bodies; a program answers", async () => {
    const p = await project();
    const api = await serve(p.db, { cwd: p.dir, env: { HOME: p.dir } });
    try {
      const store = await openStore(p.db);
      const q = await openQuestion(store, { kind: "permission", source: "hook", sessionId: null, streamId: "Stream-B", toolName: "Bash", toolInput: { command: "npm publish" }, question: "Bash(npm publish)", timeoutMs: 600_000 });
      const port = new URL(api.url).port;
      const body = '{"decision":"allow"}';
      const json = { "content-type": "application/json" };
      const refused: [string, RequestInit, number][] = [
        ["evil origin", { headers: { ...json, origin: "https://evil.example" }, body }, 403],
        ["null origin", { headers: { ...json, origin: "null" }, body }, 403],
        ["other port", { headers: { ...json, origin: `http://127.0.0.1:${Number(port) + 1}` }, body }, 403],
        ["https scheme", { headers: { ...json, origin: `https://127.0.0.1:${port}` }, body }, 403],
        ["localhost alias", { headers: { ...json, origin: `http://localhost:${port}` }, body }, 403],
        ["two origins", { headers: { ...json, origin: `https://evil.example, http://127.0.0.1:${port}` }, body }, 403],
        ["cross-site", { headers: { ...json, "sec-fetch-site": "cross-site" }, body }, 403],
        ["same-site", { headers: { ...json, "sec-fetch-site": "same-site" }, body }, 403],
        ["odd fetch site", { headers: { ...json, "sec-fetch-site": "SAME-ORIGIN, cross-site" }, body }, 403],
        ["text/plain", { headers: { "content-type": "text/plain" }, body }, 415],
        ["no type", { body: new Blob([body]) }, 415],
        ["form", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "decision=allow" }, 415],
        ["multipart", { body: (() => { const f = new FormData(); f.set("decision", "allow"); return f; })() }, 415],
        ["json-ish type", { headers: { "content-type": "application/jsonx" }, body }, 415],
        ["large", { headers: json, body: JSON.stringify({ decision: "allow", reason: "x".repeat(2_000_000) }) }, 413],
        ["extra field", { headers: json, body: '{"decision":"allow","status":"allowed"}' }, 400],
        ["proto", { headers: json, body: '{"decision":"allow","__proto__":{"always":true}}' }, 400],
        ["array", { headers: json, body: "[]" }, 400],
        ["reason with a line break", { headers: json, body: '{"decision":"deny","reason":"a\\nb"}' }, 400],
      ];
      for (const [what, init, status] of refused) {
        const r = await fetch(`${api.url}/api/inbox/${q.id}`, { method: "POST", ...init }).catch(() => null);
        // A 2 MB body may be cut off by the server before it is read: a closed connection is a refusal too.
        if (r === null && what === "large") continue;
        expect({ what, status: r?.status }).toEqual({ what, status });
        const text = await r!.text();
        // Bun refuses a body over the limit itself, before orch: 413 with an empty body.
        if (!(what === "large" && text === "")) expect({ what, error: typeof (JSON.parse(text) as { error?: unknown }).error }).toEqual({ what, error: "string" });
        expect(rawSqlite(store).query("SELECT status FROM inbox WHERE id = ?").get(q.id)).toEqual({ status: "pending" });
      }
      // This server's own origin is not enough from a browser: it needs the login link's session
      // too (test/api/actions.test.ts logs in); a program, sending neither header, answers.
      const ownNoSession = await fetch(`${api.url}/api/inbox/${q.id}`, { method: "POST", headers: { ...json, origin: api.url, "sec-fetch-site": "same-origin" }, body });
      expect(ownNoSession.status).toBe(403);
      expect(rawSqlite(store).query("SELECT status FROM inbox WHERE id = ?").get(q.id)).toEqual({ status: "pending" });
      const own = await fetch(`${api.url}/api/inbox/${q.id}`, { method: "POST", headers: json, body });
      expect(own.status).toBe(200);
      expect(rawSqlite(store).query("SELECT status, answered_by AS by FROM inbox WHERE id = ?").get(q.id)).toEqual({ status: "allowed", by: "api" });
      await store.close();
    } finally {
      await api.stop();
    }
  }, 60_000);
});

// ---------------------------------------------------------------- policy rules

const OPERATORS = ["&& curl x", "; rm -rf /", "\nrm -rf /", "| sh", "|| sh", "& sh", "$(rm -rf ~)", "`id`", "<(rm -rf ~)", ">(sh)", "> ~/.bashrc", ">> ~/.profile", "< /etc/shadow", "2>&1", "\r\nrm x"];

describe("policy rules: an allow never covers more than it names, deny wins", () => {
  test("random prefixes, injected operators, blank/quote variants of denied commands, paths with ..", () =>
    seeded("needs-you-hostile/policy", (rnd) => {
      const words = ["npm", "test", "run", "git", "push", "status", "build", "lint", "make", "cargo"];
      const n = size(2000, 20_000);
      let allowed = 0;
      let denied = 0;
      for (let i = 0; i < n; i++) {
        const prefix = Array.from({ length: rnd.range(1, 3) }, () => rnd.pick(words)).join(" ");
        const allowRule = `Bash(${prefix}:*)`;
        // 1. A prefix rule with an operator anywhere after it: never allowed.
        const arg = rnd.chance(0.5) ? ` ${rnd.pick(words)}` : "";
        const injected = `${prefix}${arg} ${rnd.pick(OPERATORS)}${rnd.chance(0.5) ? ` ${rnd.pick(words)}` : ""}`;
        expect({ injected, verdict: decide({ allow: [allowRule], deny: [] }, { toolName: "Bash", input: { command: injected } }) }).toEqual({ injected, verdict: null });
        // 2. A longer word is not the prefix: `npm testx` is not `npm test:*`.
        expect(decide({ allow: [allowRule], deny: [] }, { toolName: "Bash", input: { command: `${prefix}x` } })).toBeNull();
        // 3. The plain command is allowed.
        expect(decide({ allow: [allowRule], deny: [] }, { toolName: "Bash", input: { command: `${prefix}${arg}` } })?.effect).toBe("allow");
        allowed++;
        // 4. A denied command in disguise, under an allow-everything-like rule: deny wins.
        const denyPrefix = `${rnd.pick(words)} ${rnd.pick(words)}`;
        const [w1, w2] = denyPrefix.split(" ") as [string, string];
        const disguise = rnd.pick([
          `${w1}  ${w2}`,
          `${w1}\t${w2}`,
          `"${w1}" ${w2}`,
          `${w1} '${w2}'`,
          `${w1}\\ ${w2}`,
          `X=1 ${w1} ${w2}`,
          `(${w1} ${w2})`,
          `true & ${w1} ${w2}`,
          `echo $(${w1} ${w2})`,
          `{ ${w1} ${w2}; }`,
          `ok && ${w1} ${w2} --force`,
        ]);
        const verdict = decide({ allow: [`Bash(${w1}:*)`, "Bash(*)", "Bash"], deny: [`Bash(${denyPrefix}:*)`] }, { toolName: "Bash", input: { command: disguise } });
        expect({ disguise, verdict }).toEqual({ disguise, verdict: { effect: "deny", rule: `Bash(${denyPrefix}:*)` } });
        denied++;
      }
      // Paths: `..` never leaves a folder rule, deny on the real path wins.
      const cwd = "/repo";
      const p = { allow: ["Edit(/repo/src/**)", "Edit(./docs/**)"], deny: ["Edit(/repo/secret/**)", "Edit(~/.ssh/**)"] };
      const edit = (file_path: string, c: string | undefined = cwd) => decide(p, { toolName: "Edit", input: { file_path }, cwd: c });
      expect(edit("/repo/src/a.ts")?.effect).toBe("allow");
      expect(edit("docs/x.md")?.effect).toBe("allow");
      for (const f of ["/repo/src/../../etc/passwd", "/repo/src/./../../root/.bashrc", "src/../../etc/x", "docs/../../x", "/repo/src/../package.json"]) expect({ f, v: edit(f) }).toEqual({ f, v: null });
      for (const f of ["/repo/src/../secret/k", "/repo/src/./../secret/k", "src/../secret/k", `${process.env.HOME ?? "/root"}/.ssh/id_rsa`]) expect({ f, v: edit(f)?.effect }).toEqual({ f, v: "deny" });
      expect(decide({ allow: ["Edit(./src/**)"], deny: [] }, { toolName: "Edit", input: { file_path: "./src/../../x" } })).toBeNull();
      // --always never widens: a * or a missing argument has no exact rule.
      expect(ruleForCall({ toolName: "Bash", input: { command: "echo *" } })).toBeNull();
      expect(ruleForCall({ toolName: "Bash", input: { truncated: true, preview: "x" } })).toBeNull();
      expect(ruleForCall({ toolName: "Bash", input: { command: "npm publish" } })).toBe("Bash(npm publish)");
      console.log(`needs-you-hostile policy: ${allowed} injected commands never allowed, ${denied} disguised denied commands denied`);
    }));
});

// ---------------------------------------------------------------- orch init's hooks

describe("orch init: hooks merged into .claude/settings.local.json", () => {
  test("the user's hooks and keys kept (even ones mentioning orch hook), idempotent, odd shapes refused untouched", async () =>
    seeded("needs-you-hostile/settings", async (rnd) => {
      const events = ["PreToolUse", "PostToolUse", "Stop", "SessionStart", "Notification", "MyEvent"];
      const commands = ["echo orch hook ran >> /tmp/log", "my-notify orch hook-done", "./lint.sh", "logger 'orch hook'", "orch-hooker", "npx prettier --write"];
      for (let i = 0; i < size(200, 2000); i++) {
        const hooks: Record<string, unknown[]> = {};
        const theirs: string[] = [];
        for (const e of events) {
          if (!rnd.chance(0.5)) continue;
          hooks[e] = Array.from({ length: rnd.range(1, 3) }, () => {
            const cmds = Array.from({ length: rnd.range(1, 2) }, () => `${rnd.pick(commands)} #${i}-${theirs.length}`);
            theirs.push(...cmds);
            return { ...(rnd.chance(0.5) ? { matcher: rnd.pick(["Bash", "*", "Edit|Write"]) } : {}), hooks: cmds.map((command) => ({ type: "command", command })) };
          });
        }
        const doc = { permissions: { allow: ["Bash(ls)"] }, hooks, ...(rnd.chance(0.3) ? { enabledMcpjsonServers: ["other"] } : {}), custom: { "__proto__": 1, n: i } };
        const once = mergeSettingsHooks(JSON.stringify(doc));
        const twice = mergeSettingsHooks(once.content);
        expect(twice.status).toBe("unchanged");
        expect(twice.content).toBe(once.content);
        const merged = JSON.parse(once.content);
        const all = JSON.stringify(merged.hooks);
        for (const c of theirs) expect(all).toContain(JSON.stringify(c));
        expect(merged.permissions).toEqual(doc.permissions);
        expect(merged.custom.n).toBe(i);
        if (doc.enabledMcpjsonServers) expect(merged.enabledMcpjsonServers).toContain("other");
      }
      // Through the binary: twice is idempotent; odd files are refused and left byte for byte.
      const dir = tempDir("orch-init-hooks-");
      Bun.spawnSync(["git", "init", "-q", dir]);
      const env = { ORCH_DB: join(dir, "tasks.db"), HOME: dir };
      const file = join(dir, ".claude", "settings.local.json");
      mkdirSync(join(dir, ".claude"), { recursive: true });
      writeFileSync(file, JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: "command", command: "echo orch hook ran" }] }] } }));
      expect((await runOrch(["init"], { env, cwd: dir })).code).toBe(0);
      const first = readFileSync(file, "utf8");
      expect(first).toContain("echo orch hook ran");
      expect((await runOrch(["init"], { env, cwd: dir })).code).toBe(0);
      expect(readFileSync(file, "utf8")).toBe(first);
      for (const odd of ["[]", "{", '{"hooks":[]}', '{"hooks":{"Stop":{}}}', '{"hooks":null}', '{"enabledMcpjsonServers":"x"}', "\ufeff{}", "null"]) {
        writeFileSync(file, odd);
        const r = await runOrch(["init"], { env, cwd: dir });
        expect({ odd, code: r.code }).toEqual({ odd, code: 1 });
        expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
        expect(readFileSync(file, "utf8")).toBe(odd);
      }
    }), 60_000);
});
