/** An interactive session's spend from its Claude Code transcript (JSONL). */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_LINE, priceFor, readTranscriptUsage, TranscriptUnreadable, transcriptUsage } from "../../src/core/transcript.ts";
import { tempDir } from "../helpers.ts";

const assistant = (id: string, usage: Record<string, number>, model = "claude-sonnet-4-5-20250929", extra = "") =>
  JSON.stringify({ type: "assistant", uuid: `u-${id}-${Math.random()}`, message: { id, model, role: "assistant", content: [{ type: "text", text: `hi${extra}` }], usage } });

const U = { input_tokens: 1000, output_tokens: 200, cache_read_input_tokens: 10_000, cache_creation_input_tokens: 2000 };

describe("transcript usage", () => {
  test("one API message written as several entries counts once; other lines pass by", () => {
    const text = [
      JSON.stringify({ type: "user", message: { role: "user", content: "do it" } }),
      assistant("msg_1", { ...U, output_tokens: 5 }),
      assistant("msg_1", U),
      JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", content: "usage: none" }] } }),
      assistant("msg_2", { input_tokens: 10, output_tokens: 10 }),
      "not json {\"usage\"",
      "",
    ].join("\n");
    const u = transcriptUsage(text);
    expect(u).toMatchObject({ inputTokens: 1010, outputTokens: 210, cacheReadTokens: 10_000, cacheCreationTokens: 2000, messages: 2, skippedLines: 0 });
    // Sonnet: $3 in, $15 out, $0.30 cache reads, $3.75 cache writes per million.
    expect(u.costUsd).toBeCloseTo((1010 * 3 + 210 * 15 + 10_000 * 0.3 + 2000 * 3.75) / 1e6, 9);
  });

  test("prices by model family; a model not listed is estimated at Sonnet's", () => {
    expect(priceFor("claude-opus-4-1-20250805").output).toBe(75);
    expect(priceFor("claude-opus-4-5-20251101").output).toBe(25);
    expect(priceFor("claude-haiku-4-5").input).toBe(1);
    expect(priceFor("claude-3-5-haiku-20241022").input).toBe(0.8);
    expect(priceFor("something-new").input).toBe(3);
    expect(priceFor(null).input).toBe(3);
  });

  test("read from a file in chunks: the same figures; an over-long line is skipped, not buffered", () => {
    const dir = tempDir();
    const file = join(dir, "t.jsonl");
    const huge = assistant("msg_big", U, "claude-sonnet-4-5", "x".repeat(MAX_LINE + 10));
    const lines = [assistant("msg_1", U), huge, ...Array.from({ length: 3000 }, (_, i) => assistant(`msg_n${i}`, { input_tokens: 1, output_tokens: 1 }))];
    writeFileSync(file, `${lines.join("\n")}\n`);
    const u = readTranscriptUsage(file);
    expect(u).toMatchObject({ inputTokens: 1000 + 3000, outputTokens: 200 + 3000, messages: 3001, skippedLines: 1, truncated: false });
    // No trailing newline: the last line still counts.
    writeFileSync(file, assistant("msg_1", U));
    expect(readTranscriptUsage(file).inputTokens).toBe(1000);
  });

  test("bounded: past the cap nothing more is read, and it says so", () => {
    const file = join(tempDir(), "t.jsonl");
    const lines = Array.from({ length: 100 }, (_, i) => assistant(`msg_${100 + i}`, U));
    writeFileSync(file, lines.join("\n"));
    const u = readTranscriptUsage(file, lines.slice(0, 10).join("\n").length + 5);
    expect(u.truncated).toBe(true);
    expect(u.messages).toBe(10);
  });

  test("only a regular file is read: a missing path or a FIFO is refused at once", () => {
    const dir = tempDir();
    expect(() => readTranscriptUsage(join(dir, "missing.jsonl"))).toThrow(TranscriptUnreadable);
    expect(() => readTranscriptUsage(dir)).toThrow(TranscriptUnreadable);
    const fifo = join(dir, "pipe.jsonl");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const t0 = performance.now();
    expect(() => readTranscriptUsage(fifo)).toThrow("not a regular file");
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe("orch hook: Stop and SessionEnd record an interactive session's spend", () => {
  async function hookEnv() {
    const { databaseFor, ON_POSTGRES, openTestStore } = await import("../backend.ts");
    const dir = tempDir();
    const db = join(dir, "tasks.db");
    await (await openTestStore(db)).close();
    return { dir, db, env: { ORCH_DB: ON_POSTGRES ? databaseFor(db) : db } as Record<string, string> };
  }
  const payload = (event: string, transcript: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ session_id: "sess-1", hook_event_name: event, cwd: "/", transcript_path: transcript, ...extra });

  test("tokens and the estimate stored on the session; a headless launch's are left to its result", async () => {
    const { handleHook } = await import("../../src/agents/hook.ts");
    const { getAgent } = await import("../../src/core/agents.ts");
    const { openTestStore } = await import("../backend.ts");
    const { dir, db, env } = await hookEnv();
    const transcript = join(dir, "t.jsonl");
    writeFileSync(transcript, [assistant("msg_1", U), assistant("msg_1", U)].join("\n"));
    expect(await handleHook(payload("Stop", transcript), { ...env, ORCH_STREAM_ID: "Stream-B" })).toMatchObject({ stdout: "" });
    const store = await openTestStore(db);
    expect(await getAgent(store, "sess-1")).toMatchObject({ streamId: "Stream-B", inputTokens: 1000, outputTokens: 200, cacheReadTokens: 10_000, cacheCreationTokens: 2000 });
    expect((await getAgent(store, "sess-1"))!.costUsd).toBeCloseTo(0.0165, 6);
    writeFileSync(transcript, [assistant("msg_1", U), assistant("msg_2", U)].join("\n"));
    await handleHook(payload("SessionEnd", transcript), { ...env, ORCH_LAUNCHER: "headless" });
    expect((await getAgent(store, "sess-1"))!.inputTokens).toBe(1000);
    await handleHook(payload("SessionEnd", transcript), env);
    expect((await getAgent(store, "sess-1"))!.inputTokens).toBe(2000);
    await store.close();
  });

  test("an unreadable transcript is a line for the hook log, never a failure", async () => {
    const { handleHook } = await import("../../src/agents/hook.ts");
    const { dir, env } = await hookEnv();
    const r = await handleHook(payload("Stop", join(dir, "nope.jsonl")), env);
    expect(r.stdout).toBe("");
    expect(r.problem).toBe(`spend of sess-1 not read: transcript ${join(dir, "nope.jsonl")}: ENOENT`);
    expect((await handleHook(payload("Stop", dir), env)).problem).toContain("not a regular file");
  });
});
