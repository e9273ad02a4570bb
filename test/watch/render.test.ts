import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { displayWidth } from "../../src/text/width.ts";
import { bar, pct, renderFrame, type MonitorSnapshot, type MonitorStream, type RenderOptions } from "../../src/watch/render.ts";

const NOW = Date.parse("2026-01-08T12:00:00.000Z");
const GOLDEN = join(import.meta.dir, "golden");

function stream(id: string, phase: string, done: number, total: number, extra: Partial<MonitorStream> = {}): MonitorStream {
  const inProgress = extra.inProgressTasks ?? 0;
  const blocked = extra.blockedTasks ?? 0;
  const status =
    total > 0 && done === total ? "completed" : blocked && !inProgress ? "blocked" : inProgress || done ? "in_progress" : "pending";
  return {
    streamId: id,
    streamName: id,
    streamPhase: phase,
    totalTasks: total,
    completedTasks: done,
    inProgressTasks: inProgress,
    blockedTasks: blocked,
    progressPercentage: total ? Math.floor((done * 1000) / total) / 10 : 0,
    status,
    dependencies: [],
    ...extra,
  };
}

const activity = (agentId: string, streamId: string, what: string, minutesAgo = 0, isActive = true) => ({
  agentId,
  streamId,
  taskId: `TASK-${streamId.slice(-1)}`,
  taskTitle: what,
  notes: null,
  isActive,
  lastHeartbeat: new Date(NOW - minutesAgo * 60_000).toISOString(),
});

/** The guide's Quick Start moment: A done, B and C under way, Z waiting. */
const quickStart: MonitorSnapshot = {
  streams: [
    stream("Stream-A", "foundation", 4, 4),
    stream("Stream-B", "parallel", 1, 2, { inProgressTasks: 1, dependencies: ["Stream-A"] }),
    stream("Stream-C", "parallel", 1, 3, { inProgressTasks: 1, dependencies: ["Stream-A"] }),
    stream("Stream-Z", "integration", 0, 5, { dependencies: ["Stream-B", "Stream-C"] }),
  ],
  activities: [activity("me", "Stream-B", "Implementing command handler"), activity("me", "Stream-C", "Updating agent templates")],
  blockedTasks: [],
  failedStreams: [],
};

const opts = (o: Partial<RenderOptions> = {}): RenderOptions => ({
  width: 68,
  color: false,
  refreshSeconds: 5,
  source: { kind: "api", url: "http://127.0.0.1:9090" },
  now: NOW,
  ...o,
});

/** Compare with test/watch/golden/<name>.txt; UPDATE_GOLDEN=1 rewrites the file. */
function golden(name: string, frame: string) {
  const file = join(GOLDEN, `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, frame);
  if (!existsSync(file)) throw new Error(`missing golden frame ${file}: run with UPDATE_GOLDEN=1 and review it`);
  expect(frame).toBe(readFileSync(file, "utf8"));
}

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

function assertBox(frame: string, width: number) {
  const box = stripAnsi(frame).split("\n").filter((l) => /^[╔║╠╚]/.test(l));
  expect(box.length).toBeGreaterThan(4);
  for (const l of box) expect(displayWidth(l)).toBe(width);
}

describe("renderFrame", () => {
  test("agents' cost per stream, and the latest permission denial as an alert", () => {
    const usage = (costUsd: number, denials = 0, lastDenial: string | null = null) => ({ sessions: 1, costUsd, denials, lastDenial });
    const frame = renderFrame(
      {
        ...quickStart,
        streams: [
          stream("Stream-A", "foundation", 4, 4, { usage: usage(0.4213) }),
          stream("Stream-B", "parallel", 1, 2, { inProgressTasks: 1, usage: usage(0.07, 1, "Bash: npm publish (allow it with Bash(npm publish:*))") }),
        ],
      },
      opts({ width: 100 }),
    );
    expect(frame).toContain("100.0% ✓ COMPLETE $0.42");
    expect(frame).toContain("50.0% (1/2 tasks) $0.07");
    expect(frame).toContain("⚠ Stream-B: Claude Code denied Bash: npm publish (allow it with Bash(npm publish:*))");
    assertBox(frame, 100);
  });

  test("the guide's Quick Start frame, line for line at 68 columns", () => {
    const frame = renderFrame(quickStart, opts());
    // These lines are copied from the guide's Quick Start display.
    for (const l of [
      "║  ORCHESTRATION STATUS               [Refresh: 5s]                ║",
      "║  Overall: ████████████░░░░░░░░ 60.0% (9/15 tasks)                ║".replace("60.0% (9/15", "42.8% (6/14").replace("████████████░░░░░░░░", "████████░░░░░░░░░░░░"),
      "║  Stream-A (foundation)  ████████████████████ 100.0% ✓ COMPLETE   ║",
      "║  Stream-B (parallel)    ██████████░░░░░░░░░░ 50.0% (1/2 tasks)   ║",
      "║    └─ @agent-me: Implementing command handler                    ║",
      "║  Stream-C (parallel)    ██████░░░░░░░░░░░░░░ 33.3% (1/3 tasks)   ║",
      "║    └─ @agent-me: Updating agent templates                        ║",
      "║  Stream-Z (integration) ░░░░░░░░░░░░░░░░░░░░  0.0% (0/5 tasks)   ║",
      "║    ⚠ Waiting on: Stream-B, Stream-C                              ║",
    ])
      expect(frame).toContain(l);
    expect(frame).toEndWith("\n\nPress Ctrl+C to exit\n");
    golden("quickstart-68", frame);
  });

  for (const width of [60, 80, 120]) {
    test(`fits ${width} columns, plain`, () => {
      const frame = renderFrame(quickStart, opts({ width }));
      assertBox(frame, width);
      golden(`quickstart-${width}`, frame);
    });
  }

  test("narrower than 60 still draws 60 columns", () => {
    assertBox(renderFrame(quickStart, opts({ width: 30 })), 60);
  });

  test("colours: green complete, yellow active, red blocked/failed; widths unchanged", () => {
    const snap: MonitorSnapshot = {
      ...quickStart,
      streams: [...quickStart.streams, stream("Stream-D", "parallel", 1, 4, { blockedTasks: 1 }), stream("Stream-E", "parallel", 0, 2)],
      blockedTasks: [{ id: "TASK-9", streamId: "Stream-D", blockedReason: "needs API key" }],
      failedStreams: ["Stream-E"],
    };
    const frame = renderFrame(snap, opts({ color: true, width: 80 }));
    expect(frame).toContain("\x1b[32m████████████████████\x1b[0m");
    expect(frame).toContain("\x1b[33m██████████░░░░░░░░░░\x1b[0m");
    expect(frame).toMatch(/Stream-D \(parallel\) +\x1b\[31m/);
    expect(frame).toMatch(/Stream-E \(parallel\) +\x1b\[31m/);
    assertBox(frame, 80);
    golden("colour-80", frame);
    expect(renderFrame(snap, opts({ color: false, width: 80 }))).not.toContain("\x1b[");
  });

  test("a stream paused at its budget: ⏸ PAUSED on its line and an alert naming the raise", () => {
    const snap: MonitorSnapshot = {
      streams: [stream("Stream-A", "foundation", 4, 4), stream("Stream-B", "parallel", 1, 3)],
      activities: [],
      blockedTasks: [],
      failedStreams: [],
      pausedStreams: ["Stream-B"],
    };
    const frame = renderFrame(snap, opts({ width: 100 }));
    expect(frame).toMatch(/Stream-B \(parallel\) +█+░+ 33.3% \(1\/3 tasks\) ⏸ PAUSED: budget/);
    expect(frame).toContain("⏸ Stream-B: paused at its budget — orch budget raise Stream-B USD");
    assertBox(frame, 100);
  });

  test("blocked stream, failed stream and stalled agent raise alerts", () => {
    const snap: MonitorSnapshot = {
      streams: [
        stream("Stream-A", "foundation", 1, 4, { blockedTasks: 1 }),
        stream("Stream-B", "parallel", 0, 2, { dependencies: ["Stream-A"] }),
        stream("Stream-C", "parallel", 0, 2, { inProgressTasks: 1 }),
      ],
      activities: [activity("qa", "Stream-C", "Testing", 12, false)],
      blockedTasks: [{ id: "TASK-002", streamId: "Stream-A", blockedReason: "waiting on design review" }],
      failedStreams: ["Stream-C"],
    };
    const frame = renderFrame(snap, opts({ width: 100 }));
    expect(frame).toContain("║  ALERTS");
    expect(frame).toContain("✖ Stream-A: blocked — TASK-002: waiting on design review");
    expect(frame).toContain("✖ Stream-C: failed");
    expect(frame).toContain("⚠ Stream-B: Waiting on dependencies");
    expect(frame).toContain("⚠ @agent-qa stalled on TASK-C (Stream-C): no heartbeat for 12m");
    expect(frame).not.toContain("└─ @agent-qa"); // idle agents get no activity line
    golden("alerts-100", frame);
  });

  test("all complete", () => {
    const snap: MonitorSnapshot = { ...quickStart, streams: quickStart.streams.map((s) => stream(s.streamId, s.streamPhase, s.totalTasks, s.totalTasks)), activities: [] };
    const frame = renderFrame(snap, opts());
    expect(frame).toContain("Overall: ████████████████████ 100.0% (14/14 tasks) ✓ COMPLETE");
    expect(frame).not.toContain("ALERTS");
    golden("complete-68", frame);
  });

  test("empty database", () => {
    const frame = renderFrame({ streams: [], activities: [], blockedTasks: [], failedStreams: [] }, opts());
    expect(frame).toContain("Overall: ░░░░░░░░░░░░░░░░░░░░  0.0% (0/0 tasks)");
    expect(frame).toContain("No streams yet");
    golden("empty-68", frame);
  });

  test("API down, and the local-DB header", () => {
    const down = renderFrame(quickStart, opts({ source: { kind: "down", url: "http://127.0.0.1:9090" } }));
    expect(down).toContain("Cannot connect to Task Copilot API at http://127.0.0.1:9090 —");
    expect(down).toContain("retrying");
    expect(down).not.toContain("Stream-A");
    golden("down-68", down);
    expect(renderFrame(quickStart, opts({ source: { kind: "db", path: "/x/tasks.db" } }))).toContain("[local DB] [Refresh: 5s]");
  });

  test("100 streams with long and wide names stay inside the box", () => {
    const streams = Array.from({ length: 100 }, (_, i) =>
      stream(i % 3 === 0 ? `Stream-${i}-with-a-really-long-descriptive-name` : i % 3 === 1 ? `流-${i}-表示幅` : `S${i}`, i < 2 ? "foundation" : "parallel", i % 7, 6 + (i % 5)),
    );
    const frame = renderFrame({ streams, activities: [], blockedTasks: [], failedStreams: [] }, opts({ width: 80 }));
    assertBox(frame, 80);
    expect(frame).toContain("…");
    golden("hundred-80", frame);
  });

  test("bar and percentage helpers", () => {
    expect(bar(0)).toBe("░".repeat(20));
    expect(bar(99.9)).toBe(`${"█".repeat(19)}░`);
    expect(bar(100)).toBe("█".repeat(20));
    expect(pct(0)).toBe(" 0.0%");
    expect(pct(66.6)).toBe("66.6%");
    expect(pct(100)).toBe("100.0%");
  });
});
