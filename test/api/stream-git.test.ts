/**
 * GET /api/streams/:streamId/worktree and /conflicts on a real git repository: the worktree's
 * branch, ahead/behind its base and uncommitted files (bounded); the conflicts predicted between
 * its branch and another live stream's.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { z } from "zod";
import { createApp } from "../../src/api/app.ts";
import * as shapes from "../../src/api/shapes.ts";
import { createTask } from "../../src/core/index.ts";
import { createStreamWorktree } from "../../src/workspace/create.ts";
import { DIRTY_LIMIT } from "../../src/workspace/stream-git.ts";
import { tempDir, tempStore } from "../helpers.ts";
import { commit, sh, tempRepo, write } from "../git/repo-helpers.ts";
import { guideData } from "./fixture.ts";

async function setup(cwd: string) {
  const store = await tempStore();
  await guideData(store);
  const app = await createApp(store, { mainBranch: "main", cwd });
  const get = async (path: string) => {
    const res = await app.request(path);
    return { status: res.status, body: (await res.json()) as any };
  };
  return { store, get };
}

const shape = <S extends z.ZodType>(s: S, v: unknown): z.output<S> => s.parse(v);

describe("GET /api/streams/:streamId/worktree", () => {
  test("branch, base, ahead/behind and the dirty files of a real worktree; exists:false without one; 404 for an unknown stream", async () => {
    const root = tempRepo();
    const { store, get } = await setup(root);
    const wt = await createStreamWorktree(store, { streamId: "Stream-B", cwd: root });
    const path = wt.worktreePath;
    commit(path, { "src/cmd.ts": "export const cmd = 1;\n" }, "cmd");
    commit(path, { "src/cmd2.ts": "export const cmd = 2;\n" }, "cmd2");
    commit(root, { "README.md": "# project, moved on\n" }, "main moves");
    write(path, "src/shared.ts", "edited\n");
    write(path, "notes.txt", "new\n");

    const r = await get("/api/streams/Stream-B/worktree");
    expect(r.status).toBe(200);
    const w = shape(shapes.streamWorktreeShape, r.body);
    expect(w).toMatchObject({ streamId: "Stream-B", branch: "stream-b", baseBranch: "main", exists: true, ahead: 2, behind: 1, totalDirty: 2 });
    expect(w.path).toBe(path);
    expect(w.dirty.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { code: "??", path: "notes.txt" },
      { code: " M", path: "src/shared.ts" },
    ]);

    // Bounded: the first DIRTY_LIMIT files, and the total.
    for (let i = 0; i < DIRTY_LIMIT + 5; i++) write(path, `many/f${i}.txt`, "x\n");
    const many = shape(shapes.streamWorktreeShape, (await get("/api/streams/Stream-B/worktree")).body);
    expect(many.dirty.length).toBe(DIRTY_LIMIT);
    expect(many.totalDirty).toBe(DIRTY_LIMIT + 7);

    // Stream-A has no worktree (nor branch): it works in the main checkout.
    const a = shape(shapes.streamWorktreeShape, (await get("/api/streams/Stream-A/worktree")).body);
    expect(a).toMatchObject({ streamId: "Stream-A", exists: false, path: null, dirty: [], totalDirty: 0, ahead: null, behind: null });

    const missing = await get("/api/streams/Stream-Z/worktree");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "Stream not found", streamId: "Stream-Z" });
    expect((await get("/api/streams/bad%20id/worktree")).status).toBe(400);
  });

  test("outside a git repository: exists:false", async () => {
    const { get } = await setup(tempDir());
    const r = await get("/api/streams/Stream-B/worktree");
    expect(r.status).toBe(200);
    expect(shape(shapes.streamWorktreeShape, r.body)).toMatchObject({ exists: false, dirty: [], ahead: null });
  });
});

describe("GET /api/streams/:streamId/conflicts", () => {
  test("the files its branch would conflict in with another live stream's, both ways; none for a stream that conflicts with nothing; 404", async () => {
    const root = tempRepo();
    const { store, get } = await setup(root);
    await createTask(store, { id: "TASK-020", title: "Other", metadata: { streamId: "Stream-C", streamPhase: "parallel", files: ["src/cmd.ts"] } });
    sh(root, "branch", "stream-b");
    sh(root, "branch", "stream-c");
    sh(root, "checkout", "-q", "stream-b");
    commit(root, { "src/shared.ts": "export const a = 10;\n" }, "b edits shared");
    sh(root, "checkout", "-q", "stream-c");
    commit(root, { "src/shared.ts": "export const a = 20;\n" }, "c edits shared");
    sh(root, "checkout", "-q", "main");

    const b = shape(shapes.streamConflictsShape, (await get("/api/streams/Stream-B/conflicts")).body);
    expect(b.streamId).toBe("Stream-B");
    expect(b.totalConflicts).toBe(1);
    expect(b.conflicts[0]).toEqual({
      otherStream: "Stream-C",
      branch: "stream-b",
      otherBranch: "stream-c",
      gitChecked: true,
      files: ["src/shared.ts"],
      totalFiles: 1,
      declaredOverlap: ["src/cmd.ts"],
      error: null,
    });
    const c = shape(shapes.streamConflictsShape, (await get("/api/streams/Stream-C/conflicts")).body);
    expect(c.conflicts.map((x) => [x.otherStream, x.files])).toEqual([["Stream-B", ["src/shared.ts"]]]);
    const a = shape(shapes.streamConflictsShape, (await get("/api/streams/Stream-A/conflicts")).body);
    expect(a).toEqual({ streamId: "Stream-A", conflicts: [], totalConflicts: 0 });
    expect((await get("/api/streams/Stream-Z/conflicts")).status).toBe(404);
  });
});

test("both are in /openapi.json with their shapes", async () => {
  const { get } = await setup(tempDir());
  const doc = (await get("/openapi.json")).body;
  expect(doc.paths["/api/streams/{streamId}/worktree"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/StreamWorktree" });
  expect(doc.paths["/api/streams/{streamId}/conflicts"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/StreamConflicts" });
  expect(doc.components.schemas.StreamWorktree.additionalProperties).toBe(false);
});
