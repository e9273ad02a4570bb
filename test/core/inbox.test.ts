/** The inbox in the core: one question per tool call, answered once, closed when its asker is gone. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openStore } from "../../src/db/client.ts";
import { openTestStore } from "../backend.ts";
import { recordAgentChange } from "../../src/core/agents.ts";
import { answerQuestion, askPermission, listInbox, openQuestion, waitForAnswer } from "../../src/core/inbox.ts";
import { isOrchError } from "../../src/errors.ts";
import { tempDir } from "../helpers.ts";

const call = { toolName: "Bash", input: { command: "npm publish" } };
const ask = (source: "hook" | "prompt_tool") => ({ kind: "permission" as const, source, sessionId: null, streamId: "Stream-B", toolName: "Bash", toolInput: call.input, question: "Bash(npm publish)", timeoutMs: 60_000 });

describe("inbox", () => {
  test("the permission tool and the hook asking about one call share one question and its answer", async () => {
    const store = await openTestStore(":memory:");
    const first = await openQuestion(store, ask("prompt_tool"));
    expect((await openQuestion(store, ask("hook"))).id).toBe(first.id);
    await answerQuestion(store, first.id, { decision: "allow", by: "ana", how: "person" });
    // The hook that comes right after the answer gets it; the same channel asking again is new.
    expect(await openQuestion(store, ask("hook"))).toMatchObject({ id: first.id, status: "allowed" });
    expect((await openQuestion(store, ask("prompt_tool"))).id).not.toBe(first.id);
    await store.close();
  });

  test("answered once: a second answer is refused and changes nothing", async () => {
    const store = await openTestStore(":memory:");
    const q = await openQuestion(store, ask("hook"));
    await answerQuestion(store, q.id, { decision: "deny", by: "ana", how: "person", reason: "no" });
    let err: unknown;
    try {
      await answerQuestion(store, q.id, { decision: "allow", by: "bo", how: "person" });
    } catch (e) {
      err = e;
    }
    expect(isOrchError(err) && err.kind).toBe("conflict");
    expect((await listInbox(store, { all: true }))[0]).toMatchObject({ status: "denied", answeredBy: "ana", reason: "no" });
    await store.close();
  });

  test("a question whose session has ended is closed as gone, not left waiting", async () => {
    const store = await openTestStore(":memory:");
    const ctx = { sessionId: "s1", streamId: "Stream-B", cwd: null, transcriptPath: null, pid: null, launcher: null };
    await recordAgentChange(store, ctx, { status: "working" });
    await openQuestion(store, { ...ask("hook"), sessionId: "s1" });
    expect(await listInbox(store)).toHaveLength(1);
    await recordAgentChange(store, ctx, { status: "exited", ended: true });
    expect(await listInbox(store)).toHaveLength(0);
    expect((await listInbox(store, { all: true }))[0]).toMatchObject({ status: "expired", answeredHow: "gone" });
    await store.close();
  });

  test("a waiting asker sees an answer from another process within a poll, and a policy answers without waiting", async () => {
    const path = join(tempDir(), "tasks.db");
    const asker = await openTestStore(path);
    const person = await openTestStore(path);
    const pending = askPermission(asker, { call, source: "hook", sessionId: null, streamId: "Stream-B", policy: { allow: [], deny: [] }, timeoutMs: 60_000 });
    let q;
    while (!(q = (await listInbox(person))[0])) await Bun.sleep(2);
    const t0 = performance.now();
    await answerQuestion(person, q.id, { decision: "deny", by: "ana", how: "person", reason: "not today" });
    const answer = await pending;
    expect(performance.now() - t0).toBeLessThan(100);
    expect(answer).toMatchObject({ behavior: "deny" });
    expect(answer.message).toContain("not today");
    const byPolicy = await askPermission(asker, { call: { toolName: "Bash", input: { command: "git push" } }, source: "hook", sessionId: null, streamId: "Stream-B", policy: { allow: [], deny: ["Bash(git push:*)"] }, timeoutMs: 60_000 });
    expect(byPolicy).toMatchObject({ behavior: "deny", entry: { answeredHow: "policy" } });
    await asker.close();
    await person.close();
  });

  test("an unanswered question expires to a deny the agent is told about", async () => {
    const store = await openTestStore(":memory:");
    const q = await openQuestion(store, { ...ask("hook"), timeoutMs: 50 });
    expect(await waitForAnswer(store, q.id, 10)).toMatchObject({ status: "expired", answeredHow: "timeout" });
    await store.close();
  });
});

test("the generated schema version a hook checks is the newest embedded migration", async () => {
  const { LATEST_SCHEMA_VERSION } = await import("../../src/db/migrations/latest.ts");
  const { latestSchemaVersion } = await import("../../src/db/migrate.ts");
  expect(LATEST_SCHEMA_VERSION).toBe(latestSchemaVersion());
});
