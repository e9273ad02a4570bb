/**
 * Issue 16: worktree removal (and every git operation orch performs) never loses work it cannot
 * see. Each case found from outside is a test here on a real repository: removal without --force
 * refuses naming the work; with --force it is saved where the restore steps bring it back (those
 * steps, run for real, are in test/e2e/worktree.test.ts and test/stress/worktree-loss.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTask } from "../../src/core/index.ts";
import type { Store } from "../../src/db/client.ts";
import { createStreamWorktree } from "../../src/workspace/create.ts";
import { mergeStream } from "../../src/workspace/merge.ts";
import { pruneStreamWorktrees, removeStreamWorktree } from "../../src/workspace/remove.ts";
import { commit, gitStatus, sh, tempRepo, write } from "../git/repo-helpers.ts";
import { rejects, tempStore } from "../helpers.ts";

async function setup(copy: string[] = []) {
  const root = tempRepo();
  const store = await tempStore();
  await createTask(store, { id: "T-B", title: "b", metadata: { streamId: "Stream-B", streamPhase: "parallel" } });
  const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root, setup: { copy, setup: null } })).worktreePath;
  return { root, store, wt };
}

const head = (cwd: string) => sh(cwd, "rev-parse", "HEAD").trim();
const remove = (store: Store, root: string, o: { force?: boolean; keepBranch?: boolean } = {}) => removeStreamWorktree(store, { streamId: "Stream-B", cwd: root, ...o });
const refused = async (store: Store, root: string, o: { force?: boolean } = {}) => (await rejects(() => remove(store, root, o))).message;

describe("remove without --force refuses, naming work git status does not show", () => {
  test("commits on a detached HEAD that no branch points at", async () => {
    const { root, store, wt } = await setup();
    sh(wt, "switch", "-q", "--detach");
    const sha = commit(wt, { "detached.ts": "work\n" }, "Detached work");
    const msg = await refused(store, root);
    expect(msg).toContain(`1 commit on its detached HEAD that no branch or tag holds (${sha.slice(0, 7)} Detached work)`);
    expect(head(wt)).toBe(sha);
    // Once a branch holds it, nothing is lost: the removal goes through.
    sh(root, "branch", "keep-it", sha);
    expect(await remove(store, root)).toMatchObject({ removed: true, saved: null });
  });

  test("a stream branch shadowed by a tag of the same name", async () => {
    const { root, store, wt } = await setup();
    const sha = commit(wt, { "b.ts": "b\n" }, "Unmerged on the branch");
    sh(root, "tag", "stream-b", "main"); // `git log main..stream-b` now reads the tag: nothing
    expect(sh(root, "log", "--format=%s", "main..stream-b").trim()).toBe("");
    expect(await refused(store, root)).toContain(`1 commit not merged into main (${sha.slice(0, 7)} Unmerged on the branch)`);
    expect(sh(root, "rev-parse", "refs/heads/stream-b").trim()).toBe(sha);
  });

  test("an edited skip-worktree file and an edited assume-unchanged file", async () => {
    const { root, store, wt } = await setup();
    commit(wt, { "sw.conf": "a\n", "au.conf": "a\n" }, "config");
    await mergeStream(store, { streamId: "Stream-B", cwd: root });
    sh(wt, "update-index", "--skip-worktree", "sw.conf");
    sh(wt, "update-index", "--assume-unchanged", "au.conf");
    write(wt, "sw.conf", "mine\n");
    write(wt, "au.conf", "mine too\n");
    expect(gitStatus(wt)).toBe("");
    expect(await refused(store, root)).toContain("it has 2 uncommitted changes (au.conf, sw.conf)");
  });

  test("ignored files with content only in the worktree: an edited copy of .env, a *.local", async () => {
    const root0 = tempRepo();
    commit(root0, { ".gitignore": ".env\n*.local\n" }, "ignore");
    writeFileSync(join(root0, ".env"), "SECRET=main\n");
    const store = await tempStore();
    await createTask(store, { id: "T-B", title: "b", metadata: { streamId: "Stream-B", streamPhase: "parallel" } });
    const wt = (await createStreamWorktree(store, { streamId: "Stream-B", cwd: root0, setup: { copy: [".env"], setup: null } })).worktreePath;
    // The copy as made is not work: removal goes through.
    expect(await remove(store, root0, { keepBranch: true })).toMatchObject({ removed: true, saved: null, skipped: [] });
    await createStreamWorktree(store, { streamId: "Stream-B", cwd: root0, setup: { copy: [".env"], setup: null } });
    write(wt, ".env", "SECRET=edited in the worktree\n");
    write(wt, "dev.local", "local settings\n");
    expect(await refused(store, root0)).toContain("it has 2 ignored files whose content is only there (.env, dev.local)");
  });

  test("a nested git repository, with commits and uncommitted files of its own", async () => {
    const { root, store, wt } = await setup();
    const nested = join(wt, "vendor", "lib");
    write(nested, "lib.ts", "v1\n");
    sh(nested, "init", "-q", "-b", "main");
    commit(nested, { "lib.ts": "v2\n" }, "nested commit");
    write(nested, "dirty.ts", "uncommitted in the nested repository\n");
    expect(await refused(store, root)).toContain("1 nested git repository (vendor/lib)");
    expect(existsSync(join(nested, ".git"))).toBe(true);
  });

  test("ignored build output is not work: removed, and named with the rule that skips it", async () => {
    const { root, store, wt } = await setup();
    commit(wt, { ".gitignore": "node_modules/\ndist/\n" }, "ignore build output");
    await mergeStream(store, { streamId: "Stream-B", cwd: root });
    write(wt, "node_modules/pkg/index.js", "module.exports = 1;\n");
    write(wt, "dist/app.js", "built\n");
    const r = await remove(store, root);
    expect(r).toMatchObject({ removed: true, branchDeleted: true, saved: null });
    expect(r.skipped).toEqual([
      { path: "dist/", why: 'ignored build output: "dist" (git config orch.neverSave)' },
      { path: "node_modules/", why: 'ignored build output: "node_modules" (git config orch.neverSave)' },
    ]);
  });

  test("an ignored file over the size limit: refused without --force; with it, skipped and named", async () => {
    const { root, store, wt } = await setup();
    commit(wt, { ".gitignore": "*.db\n" }, "ignore databases");
    await mergeStream(store, { streamId: "Stream-B", cwd: root });
    sh(root, "config", "orch.maxSaveSize", "1k");
    write(wt, "dev.db", "x".repeat(2000));
    write(wt, "small.db", "y");
    expect(await refused(store, root)).toContain("dev.db (ignored, 2.0 KiB: over the 1.0 KiB limit (git config orch.maxSaveSize))");
    const r = await remove(store, root, { force: true });
    expect(r.skipped).toEqual([{ path: "dev.db", why: "ignored, 2.0 KiB: over the 1.0 KiB limit (git config orch.maxSaveSize)" }]);
    expect(sh(root, "show", `${r.saved!.ref}:small.db`)).toBe("y");
  });
});

describe("remove --force saves what it can, refuses what it cannot", () => {
  test("everything at once: detached commits, the shadowed branch's commits, hidden edits, ignored files, a nested repository", async () => {
    const { root, store, wt } = await setup();
    commit(wt, { ".gitignore": "*.local\n", "sw.conf": "a\n" }, "base");
    const onBranch = commit(wt, { "b.ts": "b\n" }, "on the branch");
    sh(root, "tag", "stream-b", "main");
    sh(wt, "switch", "-q", "--detach");
    const detached = commit(wt, { "d.ts": "d\n" }, "detached");
    sh(wt, "update-index", "--skip-worktree", "sw.conf");
    write(wt, "sw.conf", "mine\n");
    write(wt, "x.local", "local\n");
    const nested = join(wt, "vendor", "lib");
    write(nested, "lib.ts", "v1\n");
    sh(nested, "init", "-q", "-b", "main");
    commit(nested, { "lib.ts": "v2\n" }, "nested commit");
    write(nested, "dirty.ts", "dirty\n");

    const r = await remove(store, root, { force: true });
    expect(r).toMatchObject({ removed: true, branchDeleted: true, skipped: [] });
    const saved = r.saved!;
    expect(saved.refs.map((x) => x.holds)).toEqual(["worktree", "branch"]);
    expect(sh(root, "rev-parse", `${saved.ref}-branch`).trim()).toBe(onBranch);
    expect(sh(root, "show", `${saved.ref}:sw.conf`)).toBe("mine\n");
    expect(sh(root, "show", `${saved.ref}:x.local`)).toBe("local\n");
    expect(sh(root, "rev-parse", `${saved.ref}~1`).trim()).toBe(detached);
    expect(saved.moved).toHaveLength(1);
    const movedTo = saved.moved[0]!.to;
    expect(readFileSync(join(movedTo, "dirty.ts"), "utf8")).toBe("dirty\n");
    expect(sh(movedTo, "log", "--format=%s", "-1").trim()).toBe("nested commit");
    expect(saved.restore).toEqual([
      `git branch stream-b ${saved.ref}-branch`,
      "orch worktree create Stream-B",
      `git -C .claude/worktrees/Stream-B checkout -q -f --detach ${saved.ref}`,
      "git -C .claude/worktrees/Stream-B reset -q HEAD~1",
      `mkdir -p .claude/worktrees/Stream-B/vendor && mv ${saved.moved[0]!.to.slice(root.length + 1)} .claude/worktrees/Stream-B/vendor/lib`,
    ]);
    expect(existsSync(wt)).toBe(false);
  });

  test("a nested checkout whose repository lives elsewhere, and a file name that is not UTF-8: refused even with --force, nothing changed", async () => {
    const { root, store, wt } = await setup();
    const other = tempRepo();
    sh(other, "worktree", "add", "-q", "-b", "inside", join(wt, "linked"));
    const msg = await refused(store, root, { force: true });
    expect(msg).toStartWith("refusing to remove the worktree of Stream-B even with --force: it has 1 nested checkout whose repository lives elsewhere (linked: its .git is a file");
    expect(msg).toEndWith("which orch cannot save; move it out of the worktree (or commit it) first; nothing was changed");
    expect(existsSync(join(wt, "linked", ".git"))).toBe(true);
    sh(other, "worktree", "remove", "--force", join(wt, "linked"));

    const bad = Buffer.concat([Buffer.from(`${wt}/`), Buffer.from([0x66, 0xff, 0x2e, 0x74, 0x78, 0x74])]);
    writeFileSync(bad, "latin-1 name\n");
    expect(await refused(store, root, { force: true })).toContain("1 file whose name is not valid UTF-8");
    expect(readFileSync(bad, "utf8")).toBe("latin-1 name\n");
  });

  test("an operation in progress: its files and commits saved, its state named as not saved", async () => {
    const { root, store, wt } = await setup();
    commit(wt, { "README.md": "stream\n" }, "stream edit");
    commit(root, { "README.md": "main\n" }, "main edit");
    expect(Bun.spawnSync(["git", "merge", "main"], { cwd: wt }).exitCode).toBe(1);
    expect(await refused(store, root)).toContain("a merge in progress");
    const r = await remove(store, root, { force: true });
    expect(r.skipped.map((s) => s.path)).toEqual(["(a merge)", "(the index)"]);
    expect(sh(root, "show", `${r.saved!.ref}:README.md`)).toContain("<<<<<<<");
  });
});

describe("prune and a missing worktree", () => {
  test("a registration whose folder was deleted: its detached commits and staged changes are saved before git forgets it", async () => {
    const { root, store, wt } = await setup();
    sh(wt, "switch", "-q", "--detach");
    const sha = commit(wt, { "lost.ts": "would be lost\n" }, "Only in the deleted worktree");
    write(wt, "staged.ts", "staged\n");
    sh(wt, "add", "staged.ts");
    rmSync(wt, { recursive: true, force: true });
    const p = await pruneStreamWorktrees(store, { cwd: root });
    expect(p.pruned).toEqual([wt]);
    expect(p.saved).toHaveLength(1);
    const s = p.saved[0]!;
    expect(s.items).toEqual(["1 commit on its detached HEAD that no branch or tag holds", "its staged changes"]);
    expect(sh(root, "rev-parse", `${s.ref}~1`).trim()).toBe(sha);
    expect(s.restore).toEqual([`git worktree add --detach -- .claude/worktrees/Stream-B ${s.ref}`, "git -C .claude/worktrees/Stream-B reset -q --soft HEAD~1"]);
    // The steps, run for real.
    for (const c of s.restore) expect(Bun.spawnSync(["sh", "-c", c], { cwd: root }).exitCode).toBe(0);
    expect(head(wt)).toBe(sha);
    expect(gitStatus(wt)).toBe("A  staged.ts\n");
  });

  test("remove of a stream whose folder was deleted prunes the same safe way", async () => {
    const { root, store, wt } = await setup();
    sh(wt, "switch", "-q", "--detach");
    commit(wt, { "lost.ts": "x\n" }, "Only here");
    rmSync(wt, { recursive: true, force: true });
    const r = await remove(store, root);
    expect(r).toMatchObject({ removed: true, branchDeleted: true });
    expect(r.pruneSaved).toHaveLength(1);
    expect(sh(root, "log", "-1", "--format=%s", r.pruneSaved[0]!.ref).trim()).toBe("Only here");
  });
  test("a folder git no longer recognises (its .git file deleted) is not deleted: remove refuses, prune only forgets it", async () => {
    const { root, store, wt } = await setup();
    write(wt, "precious.txt", "work\n");
    rmSync(join(wt, ".git"));
    const msg = (await rejects(() => remove(store, root, { force: true }))).message;
    expect(msg).toStartWith(".claude/worktrees/Stream-B is registered as a worktree but git cannot use it (its .git file is missing or points nowhere): orch will not delete it");
    expect(readFileSync(join(wt, "precious.txt"), "utf8")).toBe("work\n");
    await pruneStreamWorktrees(store, { cwd: root });
    expect(readFileSync(join(wt, "precious.txt"), "utf8")).toBe("work\n");
  });
});

describe("merge never overwrites the user's main checkout", () => {
  test("an ignored file where the merge writes one, and an edited assume-unchanged file it changes, stop the merge", async () => {
    const { root, store, wt } = await setup();
    commit(root, { ".gitignore": ".env\n", "conf.txt": "v1\n" }, "main");
    sh(wt, "merge", "-q", "main");
    write(wt, ".env", "FROM_STREAM=1\n");
    sh(wt, "add", "-f", ".env");
    sh(wt, "commit", "-q", "-m", "stream commits .env");
    writeFileSync(join(root, ".env"), "MY_SECRET=1\n");
    const e = await rejects(() => mergeStream(store, { streamId: "Stream-B", cwd: root }));
    expect(e.message).toBe("the merge would overwrite untracked or ignored files in the main worktree (.env): move them away first");
    expect(readFileSync(join(root, ".env"), "utf8")).toBe("MY_SECRET=1\n");
    rmSync(join(root, ".env"));

    commit(wt, { "conf.txt": "v2 from the stream\n" }, "stream edits conf");
    sh(root, "update-index", "--assume-unchanged", "conf.txt");
    write(root, "conf.txt", "my local edit\n");
    expect((await rejects(() => mergeStream(store, { streamId: "Stream-B", cwd: root }))).message).toBe(
      "the main worktree has uncommitted changes (conf.txt): commit or stash them first",
    );
    expect(readFileSync(join(root, "conf.txt"), "utf8")).toBe("my local edit\n");
  });

  test("merge waits for another orch's merge lock, and takes over one whose owner is gone", async () => {
    const { root, store, wt } = await setup();
    commit(wt, { "b.ts": "b\n" }, "b");
    const lock = join(root, ".git", "orch", "locks", "merge.lock");
    write(root, ".git/orch/locks/merge.lock", "999999999");
    expect((await mergeStream(store, { streamId: "Stream-B", cwd: root })).status).toBe("merged");
    expect(existsSync(lock)).toBe(false);

    commit(wt, { "c.ts": "c\n" }, "c");
    // Held by a live process that is not ours to reap (a child would linger as a zombie).
    const holder = Bun.spawnSync(["sh", "-c", "sleep 0.4 >/dev/null 2>&1 & echo $!"]).stdout.toString().trim();
    write(root, ".git/orch/locks/merge.lock", holder);
    const t0 = performance.now();
    expect((await mergeStream(store, { streamId: "Stream-B", cwd: root })).status).toBe("merged");
    expect(performance.now() - t0).toBeGreaterThan(300);
    rmSync(lock, { force: true });
  });
});
