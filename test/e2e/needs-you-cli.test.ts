/**
 * Needs you through the compiled binary: sessions reported by `orch hook` (stdin payloads as
 * Claude Code sends them), `orch agents`, `orch inbox`, `orch allow|deny` unblocking a waiting
 * PermissionRequest hook, `orch watch --once`, hostile text and bad input.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanEnv, orchBin, runOrch, tempDir } from "../helpers.ts";
import { freePort } from "../net.ts";
import { openStore } from "../../src/db/client.ts";
import { openTestStore } from "../backend.ts";
import { getQuestion, openQuestion } from "../../src/core/inbox.ts";

interface Project {
  dir: string;
  env: Record<string, string>;
}

async function project(): Promise<Project> {
  const dir = tempDir();
  // No API on the default port: `orch watch --once` reads the local database.
  const env = { ORCH_DB: join(dir, "tasks.db"), HTTP_API_PORT: String(freePort()) };
  await runOrch(["task", "create", "--id", "B1", "--title", "Button", "--stream", "Stream-B", "--phase", "parallel", "--agent", "me"], { env, cwd: dir });
  await runOrch(["task", "update", "B1", "--status", "in_progress"], { env, cwd: dir });
  await runOrch(["task", "create", "--id", "C1", "--title", "Card", "--stream", "Stream-C", "--phase", "parallel"], { env, cwd: dir });
  return { dir, env };
}

const payload = (p: Project, session: string, event: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ session_id: session, hook_event_name: event, cwd: p.dir, ...extra });

async function hook(p: Project, stream: string, body: string) {
  const r = await runOrch(["hook"], { env: { ...p.env, ORCH_STREAM_ID: stream }, cwd: p.dir, stdin: body });
  expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
}

/** A PermissionRequest hook, which waits for an answer: started in the background. */
function askInBackground(p: Project, stream: string, session: string, command: string) {
  const proc = Bun.spawn([orchBin(), "hook"], {
    cwd: p.dir,
    env: cleanEnv({ ...p.env, ORCH_STREAM_ID: stream }),
    stdin: new Blob([payload(p, session, "PermissionRequest", { tool_name: "Bash", tool_input: { command } })]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const stdout = new Response(proc.stdout).text();
  return { proc, stdout };
}

/** The hook's question once it is in the inbox (the hook process opens it on start-up). */
async function firstQuestion(p: Project): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const ids = await pendingIds(p);
    if (ids.length) return ids[0]!;
    if (performance.now() - t0 > 10_000) throw new Error("timed out waiting for the question");
    await Bun.sleep(30);
  }
}

const orch = (p: Project, args: string[]) => runOrch(args, { env: p.env, cwd: p.dir });

async function pendingIds(p: Project): Promise<number[]> {
  const r = await orch(p, ["inbox", "--json"]);
  return (JSON.parse(r.stdout) as { entries: { id: number }[] }).entries.map((e) => e.id);
}

describe("orch agents / inbox / allow / deny / watch (compiled binary)", () => {
  test("empty: clear lines, JSON shapes", async () => {
    const p = await project();
    expect(await orch(p, ["agents"])).toMatchObject({ code: 0, stdout: "No live agent sessions (--all shows ended ones).\n" });
    expect(JSON.parse((await orch(p, ["agents", "--json"])).stdout)).toEqual({ agents: [] });
    expect(await orch(p, ["inbox"])).toMatchObject({ code: 0, stdout: "Nothing waits for you.\n" });
    expect(JSON.parse((await orch(p, ["inbox", "--json"])).stdout)).toEqual({ entries: [], pending: 0 });
  });

  test("sessions from hooks: a table with status symbols, --stream, --all, JSON", async () => {
    const p = await project();
    await hook(p, "Stream-B", payload(p, "bbbbbbbb-1111-2222-3333", "SessionStart", { source: "startup" }));
    await hook(p, "Stream-B", payload(p, "bbbbbbbb-1111-2222-3333", "PreToolUse", { tool_name: "Edit", tool_input: { file_path: "src/a.ts" } }));
    await hook(p, "Stream-C", payload(p, "cccccccc-4444", "Stop", { last_assistant_message: "done" }));
    await hook(p, "Stream-C", payload(p, "dddddddd-5555", "SessionEnd", { reason: "exit" }));

    const table = await orch(p, ["agents"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^STREAM\s+SESSION\s+STATUS\s+LAUNCHER\s+PID\s+AGE\s+TOKENS\s+COST$/);
    expect(table.stdout).toContain("bbbbbbbb  ▶ working: Edit(src/a.ts)");
    expect(table.stdout).toContain("cccccccc  … idle");
    expect(table.stdout).not.toContain("dddddddd"); // ended: only with --all
    expect((await orch(p, ["agents", "--all"])).stdout).toContain("dddddddd  ■ exited");
    const onlyC = await orch(p, ["agents", "--stream", "Stream-C"]);
    expect(onlyC.stdout).not.toContain("Stream-B");

    const json = JSON.parse((await orch(p, ["agents", "--json"])).stdout) as { agents: Record<string, unknown>[] };
    expect(json.agents.map((a) => a.sessionId).sort()).toEqual(["bbbbbbbb-1111-2222-3333", "cccccccc-4444"]);
    expect(json.agents.find((a) => a.sessionId === "bbbbbbbb-1111-2222-3333")).toMatchObject({ streamId: "Stream-B", status: "working", tool: "Edit(src/a.ts)", stale: false });
    expect(json.agents[0]).not.toHaveProperty("transcriptPath");
  });

  test("a waiting PermissionRequest hook: inbox, agents and watch show it; orch allow --always unblocks it at once", async () => {
    const p = await project();
    await hook(p, "Stream-B", payload(p, "sess-b", "PreToolUse", { tool_name: "Bash", tool_input: { command: "npm publish" } }));
    const ask = askInBackground(p, "Stream-B", "sess-b", "npm publish");
    const id = await firstQuestion(p);
    const entry = id;

    const inbox = await orch(p, ["inbox"]);
    expect(inbox.stdout).toMatch(new RegExp(`^ID\\s+STREAM\\s+AGENT\\s+QUESTION\\s+AGE\\n${entry}\\s+Stream-B\\s+sess-b\\s+Bash\\(npm publish\\)\\s+\\d+s\\n`));
    expect(inbox.stdout).toContain(`orch allow ${entry} [--always] / orch deny ${entry} [--reason TEXT]`);
    expect((await orch(p, ["agents"])).stdout).toContain("⏸ waiting for permission: Bash(npm publish)");
    const frame = await orch(p, ["watch", "--once", "--no-color"]);
    expect(frame.code).toBe(0);
    expect(frame.stdout).toContain("└─ @agent-me ⏸ waiting for permission: Bash(npm publish)");
    expect(frame.stdout).toContain("INBOX  1 question waits for you");
    expect(frame.stdout).toContain(`#${entry} Stream-B Bash(npm publish)`);
    expect(frame.stdout).toContain(`orch allow ${entry} / orch deny ${entry}`);

    const t0 = performance.now();
    const allowed = await runOrch(["allow", String(entry), "--always", "--by", "ana"], { env: p.env, cwd: p.dir });
    expect(allowed).toEqual({ code: 0, stdout: `✓ ${entry} allowed: Bash(npm publish) (Stream-B); rule added: allow Bash(npm publish)\n`, stderr: "" });
    expect(await ask.proc.exited).toBe(0);
    // The hook notices within one poll; a generous bound for a loaded machine.
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(JSON.parse(await ask.stdout)).toEqual({ hookSpecificOutput: { hookEventName: "PermissionRequest", decision: { behavior: "allow" } } });

    expect(await orch(p, ["inbox"])).toMatchObject({ stdout: "Nothing waits for you.\n" });
    const all = await orch(p, ["inbox", "--all"]);
    expect(all.stdout).toMatch(new RegExp(`${entry}\\s+Stream-B\\s+sess-b\\s+Bash\\(npm publish\\)\\s+\\d+s\\s+allowed\\s+ana \\(person\\)\\s+\\d+s ago\\s+-`));
    expect((await orch(p, ["agents"])).stdout).toContain("▶ working");
    expect((await orch(p, ["watch", "--once", "--no-color"])).stdout).not.toContain("INBOX");

    // The rule answers the same call next time without a person (another stream's agent: the
    // same stream asking within seconds would be Claude Code's second ask about the first call).
    const again = askInBackground(p, "Stream-C", "sess-c", "npm publish");
    expect(await again.proc.exited).toBe(0);
    expect(JSON.parse(await again.stdout).hookSpecificOutput.decision).toEqual({ behavior: "allow" });
    expect((await orch(p, ["inbox", "--all"])).stdout).toContain("policy (policy)");
  }, 30_000);

  test("orch deny --reason: the agent is told; a second answer is refused and changes nothing", async () => {
    const p = await project();
    const ask = askInBackground(p, "Stream-C", "sess-c", "git push origin main");
    const id = await firstQuestion(p);
    const denied = await orch(p, ["deny", String(id), "--reason", "not on Fridays", "--json"]);
    expect(denied.code).toBe(0);
    expect(JSON.parse(denied.stdout)).toMatchObject({ entry: { id, status: "denied", answeredHow: "person", reason: "not on Fridays" }, rule: null });
    expect(await ask.proc.exited).toBe(0);
    const decision = JSON.parse(await ask.stdout).hookSpecificOutput.decision;
    expect(decision).toMatchObject({ behavior: "deny" });
    expect(decision.message).toContain("not on Fridays");

    const again = await orch(p, ["allow", String(id)]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("");
    expect(again.stderr).toMatch(new RegExp(`^orch: inbox entry ${id} was already answered: denied by \\S+ at \\S+\\n$`));
    const store = await openTestStore(p.env.ORCH_DB!);
    try {
      expect(await getQuestion(store, id)).toMatchObject({ status: "denied", reason: "not on Fridays" });
    } finally {
      await store.close();
    }
  }, 30_000);

  test("hostile text: escape sequences in a tool input are shown, never obeyed, on every face", async () => {
    const p = await project();
    const evil = "echo \x1b[2J\x1b]52;c;ZXZpbA==\x07 \x9b31m\nrm -rf ~";
    await hook(p, "Stream-B", payload(p, "sess-x", "PreToolUse", { tool_name: "Bash", tool_input: { command: evil } }));
    const ask = askInBackground(p, "Stream-B", "sess-x", evil);
    const id = await firstQuestion(p);
    const faces = [
      await orch(p, ["agents"]),
      await orch(p, ["inbox"]),
      await orch(p, ["watch", "--once", "--no-color"]),
      await orch(p, ["deny", String(id), "--reason", "no"]),
      await orch(p, ["inbox", "--all"]),
    ];
    for (const f of faces) {
      expect(f.code).toBe(0);
      expect(f.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
      expect(f.stdout).toContain("\\x1b[2J");
    }
    expect(faces[3]!.stdout).toBe(`✓ ${id} denied: Bash(echo \\x1b[2J\\x1b]52;c;ZXZpbA==\\x07 \\x9b31m rm -rf ~) (Stream-B)\n`);
    expect(await ask.proc.exited).toBe(0);
  }, 30_000);

  test("bad input: one line, the right exit code, nothing stored", async () => {
    const p = await project();
    const ask = askInBackground(p, "Stream-B", "sess-y", "npm publish");
    const id = await firstQuestion(p);
    const cases: [string[], number, string | RegExp][] = [
      [["allow", "x"], 2, 'orch: orch allow: ID must be an inbox entry number (orch inbox lists them), not "x"\n'],
      [["deny", "-1"], 2, /^orch: unknown flag "-1"/],
      [["allow", "1.5"], 2, /ID must be an inbox entry number/],
      [["allow", "0"], 2, /ID must be an inbox entry number/],
      [["allow", "99999999999999999999"], 2, /ID must be an inbox entry number/],
      [["allow"], 2, "orch: orch allow: missing ID\n"],
      [["allow", "1", "2"], 2, 'orch: orch allow: unexpected argument "2"\n'],
      [["allow", "9"], 1, "orch: inbox entry 9 not found\n"],
      [["deny", String(id), "--reason", " "], 2, "orch: flag --reason needs a text\n"],
      [["deny", String(id), "--reason", "a\x1b[2Jb"], 2, "orch: flag --reason must be one line of text (no control characters)\n"],
      [["allow", String(id), "--by", ""], 2, "orch: flag --by needs a name\n"],
      [["allow", String(id), "--by", "x".repeat(101)], 2, "orch: flag --by is longer than 100 characters\n"],
      [["allow", String(id), "--reason", "x"], 2, /^orch: unknown flag "--reason" for "orch allow"/],
      [["inbox", "--strem", "x"], 2, /^orch: unknown flag "--strem" for "orch inbox" \(did you mean "--stream"\?\)/],
      [["agents", "extra"], 2, 'orch: orch agents: unexpected argument "extra"\n'],
    ];
    for (const [args, code, stderr] of cases) {
      const r = await orch(p, args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code, stdout: "" });
      if (typeof stderr === "string") expect(r.stderr).toBe(stderr);
      else expect(r.stderr).toMatch(stderr);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
    // Still pending, untouched: the hook still waits.
    expect(await pendingIds(p)).toEqual([id]);
    expect((await orch(p, ["allow", String(id)])).code).toBe(0);
    expect(await ask.proc.exited).toBe(0);
  }, 30_000);

  test("an expired question and --always on a question that is no tool call: refused, one line, nothing stored", async () => {
    const p = await project();
    const store = await openTestStore(p.env.ORCH_DB!);
    let expired: number;
    let budget: number;
    try {
      const base = { source: "hook" as const, sessionId: null, streamId: "Stream-B" };
      expired = (await openQuestion(store, { ...base, kind: "permission", toolName: "Bash", toolInput: { command: "ls" }, question: "Bash(ls)", timeoutMs: 1 })).id;
      budget = (await openQuestion(store, { ...base, kind: "budget", source: "budget", question: "Stream-B reached its budget: raise it?", timeoutMs: 60_000 })).id;
    } finally {
      await store.close();
    }
    await Bun.sleep(5);
    const late = await orch(p, ["allow", String(expired)]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(new RegExp(`^orch: inbox entry ${expired} expired at \\S+; it was denied\n$`));
    const always = await orch(p, ["deny", String(budget), "--always"]);
    expect(always).toEqual({ code: 2, stdout: "", stderr: `orch: inbox entry ${budget} is not a tool call: --always has no rule to add\n` });
    // A budget question takes an amount: allow alone is refused and names the command that answers it.
    const allowBudget = await orch(p, ["allow", String(budget)]);
    expect(allowBudget).toEqual({ code: 1, stdout: "", stderr: `orch: inbox entry ${budget} asks for more budget: answer it with orch budget raise Stream-B USD (or deny it)\n` });
    const check = await openTestStore(p.env.ORCH_DB!);
    try {
      expect(await getQuestion(check, expired)).toMatchObject({ status: "expired", answeredHow: "timeout" });
      expect(await getQuestion(check, budget)).toMatchObject({ status: "pending", answeredBy: null });
    } finally {
      await check.close();
    }
    // Answered without --always it is an ordinary answer.
    expect((await orch(p, ["deny", String(budget), "--by", "ana"])).stdout).toBe(`✓ ${budget} denied: Stream-B reached its budget: raise it? (Stream-B)\n`);
  });

  test("orch watch --once through orch serve: the session line and the INBOX from /api/agents and /api/inbox", async () => {
    const p = await project();
    const ask = askInBackground(p, "Stream-B", "sess-api", "npm publish");
    const id = await firstQuestion(p);
    const port = freePort();
    const serve = Bun.spawn([orchBin(), "serve", "--port", String(port)], { cwd: p.dir, env: cleanEnv(p.env), stdout: "pipe", stderr: "pipe" });
    try {
      for await (const chunk of serve.stderr) if (new TextDecoder().decode(chunk).includes("listening")) break;
      const r = await orch(p, ["watch", "--once", "--no-color", "--api", `http://127.0.0.1:${port}`]);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain("[local DB]");
      expect(r.stdout).toContain("└─ @agent-me ⏸ waiting for permission: Bash(npm publish)");
      expect(r.stdout).toContain(`#${id} Stream-B Bash(npm publish)`);
    } finally {
      serve.kill();
      await serve.exited;
    }
    expect((await orch(p, ["allow", String(id)])).code).toBe(0);
    expect(await ask.proc.exited).toBe(0);
  }, 30_000);
});
