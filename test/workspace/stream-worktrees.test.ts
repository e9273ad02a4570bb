import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTask, getStream, getTask, lastMergeState } from "../../src/core/index.ts";
import type { Store } from "../../src/db/client.ts";
import {
  createStreamWorktree,
  listStreamWorktrees,
  mergeStream,
  pruneStreamWorktrees,
  removeStreamWorktree,
  streamWorktreePath,
} from "../../src/workspace/stream-worktrees.ts";
import { streamConflicts } from "../../src/workspace/stream-conflicts.ts";
import { resolveWorktreeSetup } from "../../src/workspace/config.ts";
import { commit, gitStatus, sh, tempRepo, write } from "../git/repo-helpers.ts";
import { rejects, tempStore } from "../helpers.ts";

type SeedStream = { id: string; phase?: "foundation" | "parallel" | "integration"; deps?: string[]; files?: string[] };

async function seed(store: Store, streams: SeedStream[]) {
  for (const s of streams)
    await createTask(store, {
      id: `T-${s.id}`,
      title: `work on ${s.id}`,
      metadata: { streamId: s.id, streamPhase: s.phase ?? "parallel", dependencies: s.deps ?? [], files: s.files ?? [] },
    });
}

async function setup(streams: SeedStream[] = [{ id: "Stream-B" }]) {
  const root = tempRepo();
  const store = await tempStore();
  await seed(store, streams);
  return { root, store };
}

const head = (cwd: string) => sh(cwd, "rev-parse", "HEAD").trim();

describe("create", () => {
  test("creates .claude/worktrees/<Stream> on <stream> from main, records it, keeps main clean; re-create reuses", async () => {
    const { root, store } = await setup();
    const r = await createStreamWorktree(store, { streamId: "Stream-B", cwd: root });
    const path = join(root, ".claude", "worktrees", "Stream-B");
    expect(r).toMatchObject({
      worktreePath: path,
      relativePath: ".claude/worktrees/Stream-B",
      branchName: "stream-b",
      baseBranch: "main",
      created: true,
      reused: false,
      branchCreated: true,
    });
    expect(sh(path, "symbolic-ref", "--short", "HEAD").trim()).toBe("stream-b");
    expect(head(path)).toBe(head(root));
    expect(gitStatus(root)).toBe("");
    expect(readFileSync(join(root, ".git", "info", "exclude"), "utf8")).toContain("/.claude/worktrees/");
    const s = await getStream(store, "Stream-B");
    expect(s).toMatchObject({ worktreePath: path, branchName: "stream-b" });
    expect((await getTask(store, "T-Stream-B")).metadata).toMatchObject({ worktreePath: path, branchName: "stream-b" });

    write(path, "work in progress.txt", "mine");
    const again = await createStreamWorktree(store, { streamId: "Stream-B", cwd: root });
    expect(again).toMatchObject({ created: false, reused: true, worktreePath: path, branchName: "stream-b", excludeAdded: [] });
    expect(readFileSync(join(path, "work in progress.txt"), "utf8")).toBe("mine");
    expect(sh(root, "worktree", "list", "--porcelain").match(/^worktree /gm)).toHaveLength(2);
  });

  test("concurrent creates of one stream: one creates, the others wait and reuse; a dead owner's lock is taken over", async () => {
    const { root, store } = await setup();
    const slow = { copy: [], setup: ["sleep", "0.2"] };
    const results = await Promise.all([1, 2, 3].map(() => createStreamWorktree(store, { streamId: "Stream-B", cwd: root, setup: slow })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.filter((r) => r.reused)).toHaveLength(2);
    expect(existsSync(join(root, ".git", "orch", "locks", "worktree-stream-b.lock"))).toBe(false);

    await createTask(store, { id: "T-C", title: "c", metadata: { streamId: "Stream-C", streamPhase: "parallel" } });
    write(root, ".git/orch/locks/worktree-stream-c.lock", "999999999");
    expect(await createStreamWorktree(store, { streamId: "Stream-C", cwd: root })).toMatchObject({ created: true });
  });

  test("--base starts from another local branch, which then is the merge target", async () => {
    const { root, store } = await setup();
    sh(root, "branch", "develop");
    sh(root, "switch", "-q", "develop");
    const dev = commit(root, { "dev.txt": "d" }, "on develop");
    sh(root, "switch", "-q", "main");
    const bad = await rejects(createStreamWorktree(store, { streamId: "Stream-B", cwd: root, base: "nope" }));
    expect([bad.exitCode, bad.message]).toEqual([2, "base branch not found: nope"]);
    const r = await createStreamWorktree(store, { streamId: "Stream-B", cwd: root, base: "develop" });
    expect(r).toMatchObject({ baseBranch: "develop", created: true });
    expect(head(r.worktreePath)).toBe(dev);
    commit(r.worktreePath, { "b.txt": "b" }, "b");
    expect((await rejects(() => mergeStream(store, { streamId: "Stream-B", cwd: root }))).message).toContain("is on main, not develop");
    expect((await listStreamWorktrees(store, { cwd: root })).worktrees[0]).toMatchObject({ baseBranch: "develop", ahead: 1, behind: 0 });
  });

  test("from inside the stream's own worktree it still targets the main repository", async () => {
    const { root, store } = await setup();
    const first = await createStreamWorktree(store, { streamId: "Stream-B", cwd: root });
    const again = await createStreamWorktree(store, { streamId: "Stream-B", cwd: first.worktreePath });
    expect(again).toMatchObject({ reused: true, worktreePath: first.worktreePath });
  });

  test("copies .mcp.json and the configured files git does not carry, and runs the setup command", async () => {
    const { root, store } = await setup();
    commit(root, { ".gitignore": ".env\n.mcp.json\nsetup-ran.txt\n" }, "ignore");
    writeFileSync(join(root, ".mcp.json"), '{"mcpServers":{}}');
    writeFileSync(join(root, ".env"), "SECRET=1\n");
    const r = await createStreamWorktree(store, {
      streamId: "Stream-B",
      cwd: root,
      setup: { copy: [".mcp.json", ".env", "missing.txt"], setup: ["sh", "-c", 'printf "%s" "$ORCH_STREAM_ID" > setup-ran.txt'] },
    });
    expect(r.copied).toEqual([".mcp.json", ".env"]);
    expect(r.setup).toMatchObject({ command: ["sh", "-c", expect.any(String)], exitCode: 0 });
    expect(readFileSync(join(r.worktreePath, ".env"), "utf8")).toBe("SECRET=1\n");
    expect(readFileSync(join(r.worktreePath, "setup-ran.txt"), "utf8")).toBe("Stream-B");
    expect(gitStatus(root)).toBe("");
    expect(gitStatus(r.worktreePath)).toBe("");
  });

  test("orch's hooks arriving after the worktree was made (orch init run later): copied in when it is reused, never over a file there", async () => {
    const { root, store } = await setup();
    const first = await createStreamWorktree(store, { streamId: "Stream-B", cwd: root, setup: resolveWorktreeSetup(root) });
    expect(existsSync(join(first.worktreePath, ".claude/settings.local.json"))).toBe(false);
    mkdirSync(join(root, ".claude"), { recursive: true });
    writeFileSync(join(root, ".claude/settings.local.json"), '{"hooks":{}}\n');
    writeFileSync(join(root, ".env"), "SECRET=1\n");
    const again = await createStreamWorktree(store, { streamId: "Stream-B", cwd: root, setup: { ...resolveWorktreeSetup(root), copy: [...resolveWorktreeSetup(root).copy, ".env"] } });
    // Only how an agent reaches orch is completed on reuse; the project's own copies were its first setup's.
    expect(again).toMatchObject({ reused: true, copied: [".claude/settings.local.json"] });
    expect(readFileSync(join(first.worktreePath, ".claude/settings.local.json"), "utf8")).toBe('{"hooks":{}}\n');
    expect(gitStatus(first.worktreePath)).toBe("");
    writeFileSync(join(first.worktreePath, ".claude/settings.local.json"), '{"mine":true}\n');
    writeFileSync(join(root, ".claude/settings.local.json"), '{"hooks":{"x":[]}}\n');
    expect((await createStreamWorktree(store, { streamId: "Stream-B", cwd: root, setup: resolveWorktreeSetup(root) })).copied).toEqual([]);
    expect(readFileSync(join(first.worktreePath, ".claude/settings.local.json"), "utf8")).toBe('{"mine":true}\n');
  });

  test("a failing setup command fails clearly and leaves no half-made worktree or branch", async () => {
    const { root, store } = await setup();
    const lines: string[] = [];
    const err = await rejects(
      createStreamWorktree(store, {
        streamId: "Stream-B",
        cwd: root,
        setup: { copy: [], setup: ["sh", "-c", "echo installing; echo 'lockfile is broken' >&2; exit 3"] },
        onOutput: (c) => lines.push(c),
      }),
    );
    expect(err.message).toBe(
      `setup command "sh -c echo installing; echo 'lockfile is broken' >&2; exit 3" failed (exit 3): lockfile is broken; the new worktree was removed`,
    );
    expect(err.exitCode).toBe(1);
    expect(lines.join("")).toContain("installing");
    expect(existsSync(streamWorktreePath(root, "Stream-B"))).toBe(false);
    expect(sh(root, "branch", "--list", "stream-b")).toBe("");
    expect((await getStream(store, "Stream-B")).worktreePath).toBeNull();

    const missing = await rejects(
      createStreamWorktree(store, { streamId: "Stream-B", cwd: root, setup: { copy: [], setup: ["orch-no-such-command-xyz", "install"] } }),
    );
    expect(missing.message).toBe('setup command "orch-no-such-command-xyz install" could not start: orch-no-such-command-xyz not found; the new worktree was removed');
    expect(existsSync(streamWorktreePath(root, "Stream-B"))).toBe(false);
  });

  test("refuses a folder that is not a worktree instead of deleting it; unknown stream; repo without commits", async () => {
    const { root, store } = await setup();
    write(root, ".claude/worktrees/Stream-B/notes.txt", "precious");
    const err = await rejects(createStreamWorktree(store, { streamId: "Stream-B", cwd: root }));
    expect(err.message).toBe(".claude/worktrees/Stream-B exists but is not a git worktree: move it away (orch will not delete it)");
    expect(readFileSync(join(root, ".claude/worktrees/Stream-B/notes.txt"), "utf8")).toBe("precious");
    expect((await rejects(createStreamWorktree(store, { streamId: "Stream-X", cwd: root }))).message).toBe("Stream not found: Stream-X");
  });

  test("traversal and malformed ids are refused (exit 2) before any path is built", async () => {
    const { root, store } = await setup();
    for (const id of ["../../etc", "..", "a/b", "-rf", ".hidden", "x y", ""]) {
      const e = await rejects(createStreamWorktree(store, { streamId: id, cwd: root }));
      expect(e.exitCode).toBe(2);
      expect(e.message).toStartWith(`invalid stream id ${JSON.stringify(id)}`);
      expect((await rejects(() => removeStreamWorktree(store, { streamId: id, cwd: root, force: true }))).exitCode).toBe(2);
      expect((await rejects(() => mergeStream(store, { streamId: id, cwd: root }))).exitCode).toBe(2);
    }
    expect(existsSync(join(root, ".claude"))).toBe(false);
    expect(existsSync(join(root, "..", "..", "etc", "stream-b"))).toBe(false);
  });
});

describe("merge", () => {
  test("a commit in the worktree merges cleanly with --no-ff; then remove deletes the merged branch", async () => {
    const { root, store } = await setup();
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    const tip = commit(wt, { "src/button.ts": "export const Button = 1;\n" }, "Add button");
    commit(root, { "docs.md": "main moved on\n" }, "docs on main");
    const mainBefore = head(root);

    const r = await mergeStream(store, { streamId: "Stream-B", cwd: root });
    expect(r).toMatchObject({ status: "merged", merged: true, into: "main", branchName: "stream-b", sourceCommit: tip, targetCommit: mainBefore, filesChanged: ["src/button.ts"] });
    expect(head(root)).toBe(r.commit!);
    expect(sh(root, "rev-list", "--parents", "-n", "1", "HEAD").trim().split(" ")).toEqual([r.commit!, mainBefore, tip]);
    expect(sh(root, "log", "-1", "--format=%s").trim()).toBe("Merge branch 'stream-b' (Stream-B)");
    expect(readFileSync(join(root, "src/button.ts"), "utf8")).toBe("export const Button = 1;\n");
    expect(gitStatus(root)).toBe("");
    expect(await lastMergeState(store, "Stream-B")).toMatchObject({ mergeConflict: null, merged: { into: "main", commit: r.commit } });
    expect((await mergeStream(store, { streamId: "Stream-B", cwd: root })).status).toBe("up_to_date");

    const rm = await removeStreamWorktree(store, { streamId: "Stream-B", cwd: root });
    expect(rm).toMatchObject({ removed: true, branchDeleted: true, saved: null });
    expect(existsSync(wt)).toBe(false);
    expect(sh(root, "branch", "--list", "stream-b")).toBe("");
    expect(await getStream(store, "Stream-B")).toMatchObject({ worktreePath: null, branchName: null });
    expect(gitStatus(root)).toBe("");
  });

  test("a real conflict: exit-1 result, files listed, main untouched (no MERGE_HEAD, clean status), recorded on the stream", async () => {
    const { root, store } = await setup();
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    commit(wt, { "src/shared.ts": "export const a = 'stream';\nexport const b = 2;\nexport const c = 3;\n", "src/ok.ts": "x" }, "stream edit");
    commit(root, { "src/shared.ts": "export const a = 'main';\nexport const b = 2;\nexport const c = 3;\n" }, "main edit");
    const before = { head: head(root), file: readFileSync(join(root, "src/shared.ts"), "utf8"), index: sh(root, "ls-files", "-s") };

    const r = await mergeStream(store, { streamId: "Stream-B", cwd: root });
    expect(r).toMatchObject({ status: "conflict", merged: false, commit: null, conflictingFiles: ["src/shared.ts"], into: "main" });
    expect(head(root)).toBe(before.head);
    expect(existsSync(join(root, ".git", "MERGE_HEAD"))).toBe(false);
    expect(gitStatus(root)).toBe("");
    expect(readFileSync(join(root, "src/shared.ts"), "utf8")).toBe(before.file);
    expect(sh(root, "ls-files", "-s")).toBe(before.index);
    expect(existsSync(join(root, "src/ok.ts"))).toBe(false);
    expect((await lastMergeState(store, "Stream-B"))?.mergeConflict).toMatchObject({ into: "main", branch: "stream-b", files: ["src/shared.ts"] });
    expect((await listStreamWorktrees(store, { cwd: root })).worktrees[0]!.mergeConflict?.files).toEqual(["src/shared.ts"]);

    // Resolved on the stream branch, the next merge goes through and clears the record.
    sh(wt, "merge", "-q", "-X", "ours", "main", "-m", "take stream side");
    expect((await mergeStream(store, { streamId: "Stream-B", cwd: root })).status).toBe("merged");
    expect((await lastMergeState(store, "Stream-B"))?.mergeConflict).toBeNull();
  });

  test("worktree list drops a recorded conflict once it is resolved outside orch (merged by hand)", async () => {
    const { root, store } = await setup();
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    commit(wt, { "src/shared.ts": "branch\n" }, "branch");
    commit(root, { "src/shared.ts": "main\n" }, "main");
    expect((await mergeStream(store, { streamId: "Stream-B", cwd: root })).status).toBe("conflict");
    expect((await listStreamWorktrees(store, { cwd: root })).worktrees[0]!.mergeConflict?.files).toEqual(["src/shared.ts"]);
    sh(root, "merge", "-q", "-X", "ours", "stream-b", "-m", "merged by hand");
    expect((await listStreamWorktrees(store, { cwd: root })).worktrees[0]!.mergeConflict).toBeNull();
  });

  test("never switches the main worktree: another branch, a dirty checkout, untracked files in the way", async () => {
    const { root, store } = await setup();
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    commit(wt, { "new.ts": "from stream\n" }, "stream work");
    sh(root, "switch", "-q", "-c", "other");
    const e = await rejects(() => mergeStream(store, { streamId: "Stream-B", cwd: root }));
    expect(e.message).toBe(
      `the main worktree (${root}) is on other, not main: orch will not switch it for you; run "git switch main" there first, or merge into other with --into other`,
    );
    expect(sh(root, "symbolic-ref", "--short", "HEAD").trim()).toBe("other");
    expect(gitStatus(root)).toBe("");
    sh(root, "switch", "-q", "main");

    write(root, "README.md", "edited, not committed\n");
    expect((await rejects(() => mergeStream(store, { streamId: "Stream-B", cwd: root }))).message).toBe(
      "the main worktree has uncommitted changes (README.md): commit or stash them first",
    );
    sh(root, "checkout", "--", "README.md");

    write(root, "new.ts", "mine, untracked\n");
    expect((await rejects(() => mergeStream(store, { streamId: "Stream-B", cwd: root }))).message).toBe(
      "the merge would overwrite untracked or ignored files in the main worktree (new.ts): move them away first",
    );
    expect(readFileSync(join(root, "new.ts"), "utf8")).toBe("mine, untracked\n");
    rmSync(join(root, "new.ts"));
    expect((await mergeStream(store, { streamId: "Stream-B", cwd: root })).status).toBe("merged");
  });

  test("--into names another branch: it must be the one checked out in the main worktree", async () => {
    const { root, store } = await setup();
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    commit(wt, { "b.ts": "b" }, "b");
    sh(root, "switch", "-q", "-c", "release");
    const r = await mergeStream(store, { streamId: "Stream-B", into: "release", cwd: root });
    expect(r).toMatchObject({ status: "merged", into: "release" });
    expect(sh(root, "rev-parse", "main").trim()).not.toBe(r.commit);
  });
});

describe("remove and prune", () => {
  test("uncommitted or unmerged work refuses removal, naming it", async () => {
    const { root, store } = await setup();
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    write(wt, "draft.ts", "not committed");
    let e = await rejects(() => removeStreamWorktree(store, { streamId: "Stream-B", cwd: root }));
    expect(e.message).toStartWith("refusing to remove the worktree of Stream-B: it has 1 uncommitted change (draft.ts); merge first");
    expect(e.exitCode).toBe(1);
    expect(existsSync(join(wt, "draft.ts"))).toBe(true);

    const sha = commit(wt, { "draft.ts": "committed" }, "Draft it");
    e = await rejects(() => removeStreamWorktree(store, { streamId: "Stream-B", cwd: root }));
    expect(e.message).toContain(`it has 1 commit not merged into main (${sha.slice(0, 7)}`);
    expect(e.message).toContain("Draft it");
    expect(e.message).toContain("pass --force to save it to refs/orch/saved/stream-b/… and remove");
    expect(existsSync(wt)).toBe(true);
    expect(sh(root, "branch", "--list", "stream-b")).toContain("stream-b");
  });

  test("--keep-branch: committed work stays on the branch, so only uncommitted changes hold removal back", async () => {
    const { root, store } = await setup();
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    const sha = commit(wt, { "b.ts": "b" }, "unmerged but committed");
    write(wt, "scratch.ts", "x");
    const e = await rejects(() => removeStreamWorktree(store, { streamId: "Stream-B", cwd: root, keepBranch: true }));
    expect(e.message).toStartWith("refusing to remove the worktree of Stream-B: it has 1 uncommitted change (scratch.ts); merge first");
    rmSync(join(wt, "scratch.ts"));
    expect(await removeStreamWorktree(store, { streamId: "Stream-B", cwd: root, keepBranch: true })).toMatchObject({ removed: true, branchDeleted: false, saved: null });
    expect(sh(root, "rev-parse", "stream-b").trim()).toBe(sha);
    expect(await getStream(store, "Stream-B")).toMatchObject({ worktreePath: null, branchName: "stream-b" });
    // With no worktree left, remove now only deletes the branch, and still guards its commits.
    const again = await rejects(() => removeStreamWorktree(store, { streamId: "Stream-B", cwd: root }));
    expect(again.message).toStartWith("refusing to remove branch stream-b of Stream-B: it has 1 commit not merged into main");
    expect((await rejects(() => removeStreamWorktree(store, { streamId: "Stream-B", cwd: root, keepBranch: true }))).message).toBe("Stream Stream-B has no worktree");
  });

  test("--force saves everything to refs/orch/saved/<branch>/<ts> — including the uncommitted change — and it comes back", async () => {
    const { root, store } = await setup();
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    commit(wt, { "done.ts": "committed work\n" }, "Committed work");
    write(wt, "wip.ts", "uncommitted work\n");
    write(wt, "README.md", "edited readme\n");

    const r = await removeStreamWorktree(store, { streamId: "Stream-B", cwd: root, force: true });
    expect(r.saved?.ref).toMatch(/^refs\/orch\/saved\/stream-b\/\d{8}T\d{9}Z$/);
    expect(r).toMatchObject({ removed: true, branchDeleted: true, saved: { includesUncommitted: true } });
    expect(existsSync(wt)).toBe(false);
    const ref = r.saved!.ref;
    expect(sh(root, "show", `${ref}:wip.ts`)).toBe("uncommitted work\n");
    expect(sh(root, "show", `${ref}:README.md`)).toBe("edited readme\n");
    expect(sh(root, "show", `${ref}~1:done.ts`)).toBe("committed work\n");
    expect(r.saved!.restore[0]).toBe(`git branch stream-b ${ref}`);

    // The printed recipe works: branch back, worktree back, everything there.
    sh(root, "branch", "stream-b", ref);
    const back = await createStreamWorktree(store, { streamId: "Stream-B", cwd: root });
    expect(back).toMatchObject({ created: true, branchCreated: false });
    expect(readFileSync(join(back.worktreePath, "wip.ts"), "utf8")).toBe("uncommitted work\n");
    expect(readFileSync(join(back.worktreePath, "done.ts"), "utf8")).toBe("committed work\n");
    expect(gitStatus(root)).toBe("");
  });

  test("an untracked copy identical to the main checkout's (.mcp.json) is not work at risk", async () => {
    const { root, store } = await setup();
    writeFileSync(join(root, ".mcp.json"), "{}\n");
    const r = await createStreamWorktree(store, { streamId: "Stream-B", cwd: root, setup: { copy: [".mcp.json"], setup: null } });
    expect(r.copied).toEqual([".mcp.json"]);
    expect((await listStreamWorktrees(store, { cwd: root })).worktrees[0]).toMatchObject({ dirty: false, uncommittedFiles: [] });
    writeFileSync(join(r.worktreePath, ".mcp.json"), '{"changed":true}\n');
    expect((await listStreamWorktrees(store, { cwd: root })).worktrees[0]).toMatchObject({ dirty: true, uncommittedFiles: [".mcp.json"] });
    writeFileSync(join(r.worktreePath, ".mcp.json"), "{}\n");
    expect(await removeStreamWorktree(store, { streamId: "Stream-B", cwd: root })).toMatchObject({ removed: true, saved: null });
  });

  test("prune after the folder was deleted by hand; list shows missing and orphaned", async () => {
    const { root, store } = await setup();
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    const sha = commit(wt, { "kept.ts": "on the branch\n" }, "kept");
    sh(root, "worktree", "add", "-q", "-b", "by-hand", join(root, ".claude", "worktrees", "By Hand"), "main");
    rmSync(wt, { recursive: true, force: true });

    const listed = (await listStreamWorktrees(store, { cwd: root })).worktrees;
    expect(listed.map((w) => [w.streamId, w.state, w.branchName])).toEqual([
      ["Stream-B", "missing", "stream-b"],
      [null, "orphaned", "by-hand"],
    ]);
    expect(listed[0]).toMatchObject({ dirty: null, ahead: 1, behind: 0 });

    const p = await pruneStreamWorktrees(store, { cwd: root });
    expect(p).toEqual({ pruned: [wt], streamsCleared: ["Stream-B"], saved: [] });
    expect(await getStream(store, "Stream-B")).toMatchObject({ worktreePath: null, branchName: "stream-b" });
    expect(sh(root, "rev-parse", "stream-b").trim()).toBe(sha);

    const again = await createStreamWorktree(store, { streamId: "Stream-B", cwd: root });
    expect(again).toMatchObject({ created: true, branchCreated: false });
    expect(readFileSync(join(again.worktreePath, "kept.ts"), "utf8")).toBe("on the branch\n");
  });

  test("create repairs a stale registration by itself", async () => {
    const { root, store } = await setup();
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    rmSync(wt, { recursive: true, force: true });
    expect(await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).toMatchObject({ created: true, repaired: true, branchCreated: false });
    expect(existsSync(join(wt, "README.md"))).toBe(true);
  });
});

describe("stream conflicts", () => {
  test("finds a conflict between two live branches, beside declared overlap; touches nothing", async () => {
    const { root, store } = await setup([
      { id: "Stream-A", phase: "foundation", files: ["src/types.ts"] },
      { id: "Stream-B", deps: ["Stream-A"], files: ["src/shared.ts", "src/button.ts"] },
      { id: "Stream-C", deps: ["Stream-A"], files: ["src/shared.ts"] },
      { id: "Stream-D", deps: ["Stream-A"], files: ["src/d.ts"] },
    ]);
    const b = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root })).worktreePath;
    const c = (await createStreamWorktree(store, { streamId: "Stream-C", cwd: root })).worktreePath;
    const d = (await createStreamWorktree(store, { streamId: "Stream-D", cwd: root })).worktreePath;
    commit(b, { "src/shared.ts": "export const a = 'B';\nexport const b = 2;\nexport const c = 3;\n" }, "B edits a");
    commit(c, { "src/shared.ts": "export const a = 'C';\nexport const b = 2;\nexport const c = 3;\n" }, "C edits a");
    commit(d, { "src/shared.ts": "export const a = 1;\nexport const b = 2;\nexport const c = 'D';\n" }, "D edits c");
    const statuses = [root, b, c, d].map(gitStatus);

    const r = await streamConflicts(store, { cwd: root });
    const pair = (x: string, y: string) => r.pairs.find((p) => p.streams[0] === x && p.streams[1] === y)!;
    expect(pair("Stream-B", "Stream-C")).toEqual({
      streams: ["Stream-B", "Stream-C"],
      branches: ["stream-b", "stream-c"],
      gitChecked: true,
      conflictingFiles: ["src/shared.ts"],
      declaredOverlap: ["src/shared.ts"],
      error: null,
    });
    expect(pair("Stream-B", "Stream-D")).toMatchObject({ gitChecked: true, conflictingFiles: [], declaredOverlap: [] });
    expect(pair("Stream-C", "Stream-D")).toMatchObject({ conflictingFiles: [] });
    expect(pair("Stream-A", "Stream-B")).toMatchObject({ gitChecked: false, branches: [null, "stream-b"] });
    expect(r).toMatchObject({ totalPairs: 6, conflictingPairs: 1, overlappingPairs: 1, hasConflicts: true });
    expect([root, b, c, d].map(gitStatus)).toEqual(statuses);
    expect(existsSync(join(root, ".git", "MERGE_HEAD"))).toBe(false);
  });
});
