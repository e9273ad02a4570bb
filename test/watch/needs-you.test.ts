/** The monitor's "needs you" lines and the shared status wording: pure, no clock, no I/O. */
import { describe, expect, test } from "bun:test";
import { renderFrame, type MonitorAgent, type MonitorSnapshot, type RenderOptions } from "../../src/watch/render.ts";
import { agentNames, namedAgents } from "../../src/watch/source.ts";
import { ageText, compactCount, statusLine } from "../../src/watch/needs-you.ts";
import { displayWidth } from "../../src/text/width.ts";

const NOW = Date.parse("2026-01-08T12:00:00.000Z");
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();

const stream = (id: string, phase = "parallel") => ({
  streamId: id,
  streamName: id,
  streamPhase: phase,
  totalTasks: 2,
  completedTasks: 0,
  inProgressTasks: 1,
  blockedTasks: 0,
  progressPercentage: 0,
  status: "in_progress",
  dependencies: [],
});

const agent = (o: Partial<MonitorAgent> & { sessionId: string }): MonitorAgent => ({
  streamId: null,
  status: "working",
  tool: null,
  pendingQuestion: null,
  updatedAt: at(0),
  ...o,
});

const opts: RenderOptions = { width: 80, color: false, refreshSeconds: 5, source: { kind: "api", url: "http://127.0.0.1:9090" }, now: NOW };

const base: MonitorSnapshot = { streams: [stream("Stream-B"), stream("Stream-C")], activities: [], blockedTasks: [], failedStreams: [] };

describe("status wording", () => {
  test("a symbol and words for each status; stale said", () => {
    expect(statusLine(agent({ sessionId: "s", status: "waiting_permission", tool: "Bash(npm publish)" }))).toBe("⏸ waiting for permission: Bash(npm publish)");
    expect(statusLine(agent({ sessionId: "s", status: "waiting_permission", pendingQuestion: "Claude needs your permission" }))).toBe("⏸ waiting for permission: Claude needs your permission");
    expect(statusLine(agent({ sessionId: "s", status: "waiting_input", pendingQuestion: "Which one?" }))).toBe("⏸ waiting for input: Which one?");
    expect(statusLine(agent({ sessionId: "s", tool: "Edit(src/a.ts)" }))).toBe("▶ working: Edit(src/a.ts)");
    expect(statusLine(agent({ sessionId: "s", tool: "Edit(src/a.ts)", stale: true }))).toBe("▶ working: Edit(src/a.ts) (stale)");
    expect(statusLine(agent({ sessionId: "s", status: "idle" }))).toBe("… idle");
    expect(statusLine(agent({ sessionId: "s", status: "error", lastMessage: "rate limited" }))).toBe("✖ error: rate limited");
    expect(statusLine(agent({ sessionId: "s", status: "exited" }))).toBe("■ exited");
    expect(statusLine(agent({ sessionId: "s", status: "starting" }))).toBe("◌ starting");
  });

  test("ages and counts", () => {
    expect(ageText(at(0), NOW)).toBe("0s");
    expect(ageText(new Date(NOW - 42_000).toISOString(), NOW)).toBe("42s");
    expect(ageText(at(4), NOW)).toBe("4m");
    expect(ageText(at(65), NOW)).toBe("1h05m");
    expect(ageText(at(60 * 72), NOW)).toBe("3d");
    expect(ageText(at(-5), NOW)).toBe("0s"); // a clock a little ahead is not a negative age
    expect(ageText("not a date", NOW)).toBe("?");
    expect([compactCount(999), compactCount(1234), compactCount(45_600), compactCount(2_500_000)]).toEqual(["999", "1.2k", "46k", "2.5M"]);
  });
});

describe("the monitor: sessions under their streams, the inbox", () => {
  test("the newest live session under each stream, named after its agent or its session", () => {
    const frame = renderFrame(
      {
        ...base,
        agents: [
          agent({ sessionId: "older-session", streamId: "Stream-B", tool: "Read(x)", updatedAt: at(3) }),
          agent({ sessionId: "3f2a9c1b-1111-2222", streamId: "Stream-B", name: "me", status: "waiting_permission", tool: "Bash(npm publish)", updatedAt: at(1) }),
          agent({ sessionId: "c0ffee12-3333", streamId: "Stream-C", tool: "Edit(src/a.ts)" }),
          agent({ sessionId: "gone-0000", streamId: "Stream-C", status: "exited", updatedAt: at(-1) }),
          agent({ sessionId: "main-checkout", streamId: null }),
        ],
      },
      opts,
    );
    const lines = frame.split("\n");
    const b = lines.findIndex((l) => l.includes("Stream-B (parallel)"));
    expect(lines[b + 1]).toContain("  └─ @agent-me ⏸ waiting for permission: Bash(npm publish)");
    expect(lines[b + 2]).toContain("Stream-C (parallel)");
    expect(lines[b + 3]).toContain("  └─ @agent-c0ffee12 ▶ working: Edit(src/a.ts)");
    expect(frame).not.toContain("older-se");
    expect(frame).not.toContain("exited");
    expect(frame).not.toContain("main-che");
    for (const l of lines.filter((l) => l.startsWith("║"))) expect(displayWidth(l)).toBe(80);
  });

  test("INBOX: the count, the oldest question, the commands to answer it", () => {
    const frame = renderFrame({ ...base, inbox: { pending: 3, oldest: { id: 7, streamId: "Stream-B", question: "Bash(npm publish)", createdAt: at(4) } } }, opts);
    expect(frame).toContain("INBOX  3 questions wait for you");
    expect(frame).toContain("oldest: #7 Stream-B Bash(npm publish) (4m)");
    expect(frame).toContain("orch allow 7 / orch deny 7");
    const one = renderFrame({ ...base, inbox: { pending: 1, oldest: { id: 2, streamId: null, question: "Bash(ls)", createdAt: at(0) } } }, opts);
    expect(one).toContain("INBOX  1 question waits for you");
    expect(one).toContain("#2 Bash(ls) (0s)");
  });

  test("nothing pending, or an API without the routes: no INBOX section, the frame as before", () => {
    const plain = renderFrame(base, opts);
    expect(renderFrame({ ...base, agents: [], inbox: { pending: 0, oldest: null } }, opts)).toBe(plain);
    expect(plain).not.toContain("INBOX");
  });

  test("hostile agent text is shown, never obeyed: escapes neutralised, one line, the box intact", () => {
    const evil = "Bash(echo \x1b[2J\x1b]52;c;ZXZpbA==\x07\nrm -rf /)";
    const frame = renderFrame(
      {
        ...base,
        agents: [agent({ sessionId: "s1", streamId: "Stream-B", name: "x\x1b[31m", status: "waiting_permission", tool: evil })],
        inbox: { pending: 1, oldest: { id: 1, streamId: "Stream-B", question: evil, createdAt: at(0) } },
      },
      opts,
    );
    expect(frame).not.toContain("\x1b");
    expect(frame).not.toContain("\x07");
    expect(frame).toContain("\\x1b[2J");
    for (const l of frame.split("\n").filter((l) => l.startsWith("║"))) expect(displayWidth(l)).toBe(80);
  });

  test("colour: waiting is yellow, an error red", () => {
    const frame = renderFrame(
      {
        ...base,
        agents: [
          agent({ sessionId: "s1", streamId: "Stream-B", status: "waiting_input", pendingQuestion: "Which?" }),
          agent({ sessionId: "s2", streamId: "Stream-C", status: "error", lastMessage: "boom" }),
        ],
      },
      { ...opts, color: true },
    );
    expect(frame).toContain("\x1b[33m⏸ waiting for input: Which?\x1b[0m");
    expect(frame).toContain("\x1b[31m✖ error: boom\x1b[0m");
  });
});

describe("source helpers", () => {
  test("a stream's agent name comes from its in-progress task's assigned agent", () => {
    const names = agentNames([
      { assignedAgent: null, metadata: { streamId: "Stream-B" } },
      { assignedAgent: "me", metadata: { streamId: "Stream-B" } },
      { assignedAgent: "you", metadata: { streamId: "Stream-B" } },
      { assignedAgent: "x", metadata: {} },
    ]);
    expect([...names]).toEqual([["Stream-B", "me"]]);
    const named = namedAgents([agent({ sessionId: "a", streamId: "Stream-B" }), agent({ sessionId: "b", streamId: "Stream-C" }), agent({ sessionId: "c" })], names);
    expect(named.map((a) => a.name)).toEqual(["me", null, null]);
  });
});

describe("apiSource", () => {
  test("an orch serve without /api/agents and /api/inbox (older): the frame without them, not 'API down'", async () => {
    const { apiSource } = await import("../../src/watch/source.ts");
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === "/api/streams") return Response.json({ streams: [stream("Stream-B")] });
        if (path === "/api/activity") return Response.json({ activities: [] });
        if (path === "/api/tasks") return Response.json({ tasks: [] });
        return Response.json({ error: "Not found" }, { status: 404 });
      },
    });
    try {
      const snap = await apiSource(`http://127.0.0.1:${server.port}`).snapshot();
      expect(snap.streams.map((s) => s.streamId)).toEqual(["Stream-B"]);
      expect(snap.agents).toBeUndefined();
      expect(snap.inbox).toBeUndefined();
    } finally {
      server.stop(true);
    }
  });
});
