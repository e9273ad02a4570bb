/** The git layer's view beyond `git status`, and snapshots that `git reset` undoes, on real repositories. */
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hiddenEdits, notRoundTripping, untrackedAll } from "../../src/git/files.ts";
import { commitsOnlyFrom, refTips } from "../../src/git/reach.ts";
import { deleteBranchAt, resolveCommit } from "../../src/git/repo.ts";
import { snapshotWorktree } from "../../src/git/snapshot.ts";
import { commit, gitStatus, sh, tempRepo, write } from "./repo-helpers.ts";

const head = (cwd: string) => sh(cwd, "rev-parse", "HEAD").trim();

/** Every file and link under `root` (not .git), with its bytes or link target. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of require("node:fs").readdirSync(join(root, dir)) as string[]) {
      const rel = dir ? `${dir}/${name}` : name;
      if (rel === ".git") continue;
      const st = lstatSync(join(root, rel));
      if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(join(root, rel))}`;
      else if (st.isDirectory()) walk(rel);
      else out[rel] = readFileSync(join(root, rel)).toString("base64") + ((st.mode & 0o111) !== 0 ? " +x" : "");
    }
  };
  walk("");
  return out;
}

describe("what git status does not show", () => {
  test("hiddenEdits: an edited assume-unchanged or skip-worktree file, a deleted assume-unchanged one; not a sparse absence", () => {
    const root = tempRepo();
    commit(root, { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "d.txt": "d\n" }, "four");
    sh(root, "update-index", "--assume-unchanged", "a.txt", "c.txt");
    sh(root, "update-index", "--skip-worktree", "b.txt", "d.txt");
    write(root, "a.txt", "edited a\n");
    write(root, "b.txt", "edited b\n");
    rmSync(join(root, "c.txt"));
    rmSync(join(root, "d.txt"));
    expect(gitStatus(root)).toBe("");
    expect(hiddenEdits(root)).toEqual([
      { code: " M", path: "a.txt" },
      { code: " M", path: "b.txt" },
      { code: " D", path: "c.txt" },
    ]);
  });

  test("untrackedAll lists ignored files too, and a nested repository or an untracked folder as one entry", () => {
    const root = tempRepo();
    commit(root, { ".gitignore": ".env\nnode_modules/\n" }, "ignore");
    write(root, ".env", "SECRET=1\n");
    write(root, "node_modules/x/index.js", "x");
    write(root, "nested/inner.txt", "i");
    sh(join(root, "nested"), "init", "-q");
    write(root, "loose.txt", "l");
    expect(untrackedAll(root).sort()).toEqual([".env", "loose.txt", "nested/", "node_modules/"]);
  });

  test("refTips names every ref in full, so a tag never stands in for a branch; commitsOnlyFrom", () => {
    const root = tempRepo();
    sh(root, "switch", "-q", "-c", "stream-b");
    const work = commit(root, { "w.txt": "w" }, "work");
    sh(root, "switch", "-q", "main");
    sh(root, "tag", "stream-b", "main"); // shadows the branch for `git log main..stream-b`
    expect(sh(root, "log", "--format=%s", "main..stream-b").trim()).toBe("");
    const tips = refTips(root);
    expect(tips.find((t) => t.ref === "refs/heads/stream-b")?.commit).toBe(work);
    expect(tips.find((t) => t.ref === "refs/tags/stream-b")?.commit).toBe(head(root));
    const others = tips.filter((t) => t.ref !== "refs/heads/stream-b").map((t) => t.commit);
    expect(commitsOnlyFrom(root, [work], others)).toEqual({ total: 1, commits: [{ sha: work.slice(0, 7), subject: "work" }] });
    expect(commitsOnlyFrom(root, [work], [...others, work]).total).toBe(0);
  });

  test("deleteBranchAt deletes only while the branch is where it was read", () => {
    const root = tempRepo();
    sh(root, "branch", "b");
    const at = head(root);
    sh(root, "switch", "-q", "b");
    const moved = commit(root, { "x": "x" }, "moved");
    sh(root, "switch", "-q", "main");
    expect(deleteBranchAt(root, "b", at)).toBe(false);
    expect(resolveCommit(root, "refs/heads/b")).toBe(moved);
    expect(deleteBranchAt(root, "b", moved)).toBe(true);
    expect(resolveCommit(root, "refs/heads/b")).toBeNull();
  });
});

describe("snapshotWorktree", () => {
  /** Check out the snapshot elsewhere and undo it as the printed steps do: the checkout must be the same. */
  function restoredIn(root: string, snap: ReturnType<typeof snapshotWorktree>): string {
    const wt = join(root, "..", `restored-${Math.random().toString(36).slice(2)}`);
    sh(root, "worktree", "add", "-q", "--detach", wt, snap.tip);
    if (snap.work) sh(wt, "reset", "-q", "HEAD~1");
    if (snap.index) sh(wt, "reset", "-q", "--soft", "HEAD~1");
    return wt;
  }

  test("staged, partly staged, unstaged, untracked, deleted, ignored, links, odd names: back byte for byte, status and all", () => {
    const root = tempRepo();
    commit(root, { ".gitignore": ".env\n*.local\n", "gone.txt": "bye\n", "tool.sh": "#!/bin/sh\n" }, "more");
    write(root, "staged.txt", "staged\n");
    sh(root, "add", "staged.txt");
    write(root, "README.md", "staged version\n");
    sh(root, "add", "README.md");
    write(root, "README.md", "worktree version\n"); // partly staged: index and file differ
    write(root, "src/shared.ts", "unstaged\n");
    rmSync(join(root, "gone.txt"));
    chmodSync(join(root, "tool.sh"), 0o755);
    write(root, "new dir/it's \"odd\" $HOME *.txt", "odd name\n");
    write(root, "-leading dash", "dash\n");
    write(root, "tab\tand\nnewline", "control characters in the name\n");
    write(root, ".env", "SECRET=edited\n");
    write(root, "my.local", "local\n");
    symlinkSync("src/shared.ts", join(root, "link-to-shared"));
    symlinkSync("/nowhere/at/all", join(root, "dangling"));
    const statusBefore = gitStatus(root);
    const indexBefore = sh(root, "ls-files", "-s");
    const before = tree(root);

    const snap = snapshotWorktree({ path: root, head: head(root), ignored: [".env", "my.local"], exclude: [], message: "test" });
    expect(snap.index).not.toBeNull();
    expect(snap.work).not.toBeNull();
    expect(snap.inexact).toEqual([]);
    // Nothing in the checkout changed.
    expect(gitStatus(root)).toBe(statusBefore);
    expect(sh(root, "ls-files", "-s")).toBe(indexBefore);

    const wt = restoredIn(root, snap);
    expect(tree(wt)).toEqual({ ...before, ".git": undefined as unknown as string });
    expect(gitStatus(wt)).toBe(statusBefore);
    expect(sh(wt, "ls-files", "-s")).toBe(indexBefore);
  });

  test("hidden edits (assume-unchanged, skip-worktree) are saved; a sparse absence is not a deletion", () => {
    const root = tempRepo();
    commit(root, { "au.txt": "a\n", "sw.txt": "s\n", "sparse.txt": "kept\n" }, "three");
    sh(root, "update-index", "--assume-unchanged", "au.txt");
    sh(root, "update-index", "--skip-worktree", "sw.txt", "sparse.txt");
    write(root, "au.txt", "edited a\n");
    write(root, "sw.txt", "edited s\n");
    rmSync(join(root, "sparse.txt"));
    const snap = snapshotWorktree({ path: root, head: head(root), ignored: [], exclude: [], message: "test" });
    expect(sh(root, "show", `${snap.tip}:au.txt`)).toBe("edited a\n");
    expect(sh(root, "show", `${snap.tip}:sw.txt`)).toBe("edited s\n");
    expect(sh(root, "show", `${snap.tip}:sparse.txt`)).toBe("kept\n");
    expect(snap.index).toBeNull();
  });

  test("a file git's filters would change (CRLF under text=auto) is stored raw and comes back exactly", () => {
    const root = tempRepo();
    commit(root, { ".gitattributes": "* text=auto\n" }, "attributes");
    writeFileSync(join(root, "windows.txt"), "one\r\ntwo\r\n");
    const snap = snapshotWorktree({ path: root, head: head(root), ignored: [], exclude: [], message: "test" });
    expect(snap.raw).toEqual(["windows.txt"]);
    expect(snap.inexact).toEqual([]);
    const wt = restoredIn(root, snap);
    expect(readFileSync(join(wt, "windows.txt"), "latin1")).toBe("one\r\ntwo\r\n");
    expect(notRoundTripping(root, [{ path: "windows.txt", mode: "100644", blob: sh(root, "rev-parse", `${snap.tip}:windows.txt`).trim() }])).toEqual([]);
  });

  test("unresolved conflicts: the files are saved as they are, and the index is said not to be", () => {
    const root = tempRepo();
    sh(root, "switch", "-q", "-c", "other");
    commit(root, { "README.md": "other\n" }, "other");
    sh(root, "switch", "-q", "main");
    commit(root, { "README.md": "main\n" }, "main");
    expect(Bun.spawnSync(["git", "merge", "other"], { cwd: root }).exitCode).toBe(1);
    const snap = snapshotWorktree({ path: root, head: head(root), ignored: [], exclude: [], message: "test" });
    expect(snap.indexUnsaved).toContain("unresolved conflicts");
    expect(sh(root, "show", `${snap.tip}:README.md`)).toContain("<<<<<<<");
    expect(existsSync(join(root, ".git", "MERGE_HEAD"))).toBe(true);
  });
});
