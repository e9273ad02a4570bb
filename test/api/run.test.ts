/** GET /api/run on a real repository: the orch start run's state, without pids, commands or paths. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { createApp } from "../../src/api/app.ts";
import * as shapes from "../../src/api/shapes.ts";
import { newRunState, newStreamRun, saveState, STATE_FILE } from "../../src/orchestrate/state.ts";
import { tempStore } from "../helpers.ts";
import { tempRepo } from "../git/repo-helpers.ts";
import { guideData } from "./fixture.ts";

async function setup() {
  const root = tempRepo();
  const store = await tempStore();
  await guideData(store);
  const app = await createApp(store, { mainBranch: "main", cwd: root });
  const get = async (path: string) => {
    const res = await app.request(path);
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as any };
  };
  return { root, get };
}

test("no orch start yet → {run: null}; then its outcome and each stream's status, paused, restarts, exit code; a failed one; nothing machine-private", async () => {
  const { root, get } = await setup();
  const none = await get("/api/run");
  expect(none.status).toBe(200);
  expect(shapes.runShape.parse(none.body)).toEqual({ run: null });

  const s = newRunState({ initiativeId: null, launcher: "headless", maxParallelStreams: 3, restartLimit: 2, now: "2026-01-08T12:00:00.000Z" });
  s.streams["Stream-A"] = { ...newStreamRun(), status: "merged", launches: 1, pid: 31337, argv: ["claude", "-p", "/continue Stream-A"], cwd: root, log: join(root, ".claude/orchestration/logs/Stream-A.log"), mergeCommit: "abc" };
  s.streams["Stream-B"] = { ...newStreamRun(), status: "failed", launches: 3, restarts: 2, lastExitCode: 1 };
  s.pausedStreams = ["Stream-C"];
  s.streams["Stream-C"] = { ...newStreamRun(), status: "pending" };
  saveState(root, s, "2026-01-08T12:05:00.000Z");
  const r = await get("/api/run");
  const run = shapes.runShape.parse(r.body).run!;
  expect(run).toEqual({
    outcome: "running",
    launcher: "headless",
    startedAt: "2026-01-08T12:00:00.000Z",
    lastUpdate: "2026-01-08T12:05:00.000Z",
    finishedAt: null,
    live: true, // this test process wrote it and still runs
    streams: {
      "Stream-A": { status: "merged", paused: false, restarts: 0, lastExitCode: null },
      "Stream-B": { status: "failed", paused: false, restarts: 2, lastExitCode: 1 },
      "Stream-C": { status: "pending", paused: true, restarts: 0, lastExitCode: null },
    },
    conflict: null,
  });
  for (const secret of ["31337", "/continue", root, String(process.pid), "abc"]) expect(r.text).not.toContain(secret);
});

test("a state file orch cannot read → 200 {run: null, error}; in /openapi.json", async () => {
  const { root, get } = await setup();
  saveState(root, newRunState({ initiativeId: null, launcher: "tmux", maxParallelStreams: 1, restartLimit: 0, now: "2026-01-08T12:00:00.000Z" }));
  writeFileSync(join(root, STATE_FILE), "{ half a file");
  const r = await get("/api/run");
  expect(r.status).toBe(200);
  expect(shapes.runShape.parse(r.body).run).toBeNull();
  expect(r.body.error).toContain("orchestration-state.json is not valid JSON");
  expect(r.text).not.toContain(root);

  const doc = (await get("/openapi.json")).body;
  expect(doc.paths["/api/run"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Run" });
  expect(doc.components.schemas.Run.additionalProperties).toBe(false);
});
