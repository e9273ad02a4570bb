/**
 * GET /api/streams/:streamId/log on a real repository: the transcript its latest agent session
 * reported (only under the Claude config folder's projects/, judged on real paths), else the
 * headless launcher's log; the last lines only, read from the end of the file, never raw content.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "../../src/api/app.ts";
import * as shapes from "../../src/api/shapes.ts";
import { recordAgentChange } from "../../src/core/agents.ts";
import { LOG_WINDOW_BYTES, streamLogTail } from "../../src/orchestrate/stream-log.ts";
import { tempDir, tempStore } from "../helpers.ts";
import { tempRepo } from "../git/repo-helpers.ts";
import { archiveStream } from "../../src/core/streams.ts";
import { guideData } from "./fixture.ts";

const jsonl = (...objs: unknown[]) => objs.map((o) => `${JSON.stringify(o)}\n`).join("");
const said = (text: string, extra: Record<string, unknown> = {}) => ({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text }] }, ...extra });
const ran = (command: string) => ({ type: "assistant", message: { role: "assistant", content: [{ type: "tool_use", id: `t-${command}`, name: "Bash", input: { command } }] } });

let configDir: string;
let savedConfig: string | undefined;
beforeAll(() => {
  savedConfig = process.env.CLAUDE_CONFIG_DIR;
  configDir = tempDir("orch-claude-config-");
  mkdirSync(join(configDir, "projects", "-repo"), { recursive: true });
  process.env.CLAUDE_CONFIG_DIR = configDir;
});
afterAll(() => {
  if (savedConfig === undefined) delete process.env.CLAUDE_CONFIG_DIR;
  else process.env.CLAUDE_CONFIG_DIR = savedConfig;
});

async function setup() {
  const root = tempRepo();
  const store = await tempStore();
  await guideData(store);
  const app = await createApp(store, { mainBranch: "main", cwd: root });
  const get = async (path: string) => {
    const res = await app.request(path);
    return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as any };
  };
  const logDir = join(root, ".claude/orchestration/logs");
  mkdirSync(logDir, { recursive: true });
  const headless = (streamId: string, text: string) => writeFileSync(join(logDir, `${streamId}.log`), text);
  /** An agent session of `streamId` whose hooks reported `transcriptPath`. */
  const session = (sessionId: string, streamId: string, transcriptPath: string) =>
    recordAgentChange(store, { sessionId, streamId, cwd: root, transcriptPath, pid: null, launcher: "tmux" }, { status: "working" });
  return { root, store, get, headless, session, logDir };
}

describe("GET /api/streams/:streamId/log", () => {
  test("no log yet: source null, no lines; then the headless launcher's log, as one-line texts", async () => {
    const { get, headless } = await setup();
    const none = await get("/api/streams/Stream-B/log");
    expect(none.status).toBe(200);
    expect(shapes.streamLogShape.parse(none.body)).toEqual({ streamId: "Stream-B", source: null, lines: [], truncated: false });

    headless("Stream-B", jsonl({ type: "system", subtype: "init", session_id: "s1" }, said("Looking at TASK-005."), ran("npm test"), { type: "result", subtype: "success", num_turns: 3, total_cost_usd: 0.42 }));
    const r = await get("/api/streams/Stream-B/log");
    expect(r.type).toContain("application/json");
    expect(shapes.streamLogShape.parse(r.body)).toEqual({
      streamId: "Stream-B",
      source: "headless-log",
      lines: [
        { at: null, kind: "text", text: "Looking at TASK-005." },
        { at: null, kind: "tool", text: "Bash: npm test" },
        { at: null, kind: "result", text: "Finished · 3 turns · $0.42" },
      ],
      truncated: false,
    });
    // Another stream's log is its own.
    expect((await get("/api/streams/Stream-A/log")).body.source).toBeNull();
  });

  test("the transcript of the stream's latest session, when it lies under the config folder's projects/", async () => {
    const { get, headless, session } = await setup();
    headless("Stream-B", jsonl(said("from the headless log")));
    const older = join(configDir, "projects", "-repo", "older.jsonl");
    const newer = join(configDir, "projects", "-repo", "newer.jsonl");
    writeFileSync(older, jsonl(said("older session")));
    writeFileSync(newer, jsonl(said("newer session", { timestamp: "2026-01-08T12:00:00.000Z" })));
    await session("s-old", "Stream-B", older);
    await Bun.sleep(5);
    await session("s-new", "Stream-B", newer);
    const r = await get("/api/streams/Stream-B/log");
    expect(r.body).toEqual({ streamId: "Stream-B", source: "transcript", lines: [{ at: "2026-01-08T12:00:00.000Z", kind: "text", text: "newer session" }], truncated: false });
  });

  test("a transcript path that leads elsewhere is never read: outside projects/, not .jsonl, a symlink out, a FIFO; the headless log is read instead", async () => {
    const { get, headless, session } = await setup();
    headless("Stream-B", jsonl(said("the headless log")));
    const outside = join(tempDir(), "secret.jsonl");
    writeFileSync(outside, jsonl(said("SECRET outside")));
    const notJsonl = join(configDir, "projects", "-repo", "notes.txt");
    writeFileSync(notJsonl, jsonl(said("SECRET not jsonl")));
    const link = join(configDir, "projects", "-repo", "link.jsonl");
    symlinkSync(outside, link);
    const dirLink = join(configDir, "projects", "escape");
    symlinkSync(join(outside, ".."), dirLink);
    const fifo = join(configDir, "projects", "-repo", "pipe.jsonl");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const traversal = join(configDir, "projects", "..", "..", outside);
    for (const path of [outside, notJsonl, link, join(dirLink, "secret.jsonl"), traversal, fifo, "relative/x.jsonl", `${configDir}/projects/-repo/\0.jsonl`]) {
      await session(`s-${path.length}-${Math.random()}`, "Stream-B", path);
      const r = await get("/api/streams/Stream-B/log");
      expect(r.status).toBe(200);
      expect(JSON.stringify(r.body)).not.toContain("SECRET");
      expect(r.body.source).toBe("headless-log");
      expect(r.body.lines.map((l: { text: string }) => l.text)).toEqual(["the headless log"]);
    }
  });

  test("a headless log that is a symlink is not followed", async () => {
    const { get, logDir } = await setup();
    const outside = join(tempDir(), "other.log");
    writeFileSync(outside, jsonl(said("SECRET via symlink")));
    symlinkSync(outside, join(logDir, "Stream-B.log"));
    const r = await get("/api/streams/Stream-B/log");
    expect(r.body).toEqual({ streamId: "Stream-B", source: null, lines: [], truncated: false });
  });

  test(`bounded: only the last ${LOG_WINDOW_BYTES / 1024} KiB of a large log are read, the last N lines answered; lines=1..500`, async () => {
    const { get, headless, store, root } = await setup();
    const big: unknown[] = [];
    for (let i = 0; i < 40_000; i++) big.push(said(`step ${i} ${"x".repeat(40)}`));
    headless("Stream-B", jsonl(...big)); // ≈3.5 MB
    const r = await get("/api/streams/Stream-B/log");
    expect(r.body.source).toBe("headless-log");
    expect(r.body.truncated).toBe(true);
    expect(r.body.lines.length).toBe(100);
    expect(r.body.lines.at(-1).text).toStartWith("step 39999 ");
    expect(r.body.lines[0].text).toStartWith("step 39900 ");
    const few = await get("/api/streams/Stream-B/log?lines=3");
    expect(few.body.lines.map((l: { text: string }) => l.text.split(" ")[1])).toEqual(["39997", "39998", "39999"]);
    const max = await get("/api/streams/Stream-B/log?lines=500");
    expect(max.body.lines.length).toBe(500);
    // What a window of the file holds, no more: a small window sees only the last few lines.
    const small = await streamLogTail(store, "Stream-B", { cwd: root, lines: 500, windowBytes: 1000 });
    expect(small.lines.length).toBeLessThan(15);
    expect(small.truncated).toBe(true);

    for (const bad of ["0", "501", "abc", "-1", "1.5"]) {
      const b = await get(`/api/streams/Stream-B/log?lines=${bad}`);
      expect(b.status).toBe(400);
      expect(b.body.error).toContain("lines must be an integer from 1 to 500");
    }
  });

  test("unknown stream → 404 as the other stream routes; a bad id → 400; archived streams answer", async () => {
    const { get, store, headless } = await setup();
    headless("Stream-B", jsonl(said("archived, still readable")));
    await archiveStream(store, "Stream-B");
    expect((await get("/api/streams/Stream-B/log")).body.lines).toEqual([{ at: null, kind: "text", text: "archived, still readable" }]);
    const missing = await get("/api/streams/Stream-Z/log");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "Stream not found", streamId: "Stream-Z" });
    expect((await get("/api/streams/bad%20id/log")).status).toBe(400);
  });
});

test("in /openapi.json with its shape and the lines parameter", async () => {
  const app = await createApp(await tempStore(), { cwd: tempDir() });
  const doc = (await (await app.request("/openapi.json")).json()) as any;
  const op = doc.paths["/api/streams/{streamId}/log"].get;
  expect(op.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/StreamLog" });
  expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(["lines", "streamId"]);
  expect(doc.components.schemas.StreamLog.additionalProperties).toBe(false);
});
