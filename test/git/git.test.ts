import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { git } from "../../src/git/git.ts";
import { changedPaths, mergeNoFf, predictMerge } from "../../src/git/merge.ts";
import {
  aheadBehind,
  commitsNotIn,
  currentBranch,
  ensureExcluded,
  operationInProgress,
  repoInfo,
  resolveCommit,
  statusEntries,
} from "../../src/git/repo.ts";
import { addWorktree, listWorktrees, parseWorktreeList, pruneWorktrees } from "../../src/git/worktrees.ts";
import { commit, gitStatus, sh, tempRepo, write } from "./repo-helpers.ts";

describe("git layer", () => {
  test("repoInfo finds the main worktree from inside a linked worktree", () => {
    const root = tempRepo();
    const wt = join(root, ".claude", "worktrees", "Stream B");
    addWorktree(root, wt, "stream-b", "main");
    expect(repoInfo(wt).root).toBe(root);
    expect(repoInfo(root).commonDir).toBe(join(root, ".git"));
    expect(currentBranch(wt)).toBe("stream-b");
    expect(() => repoInfo(join(root, "..", ".."))).toThrow(/not a git repository/);
  });

  test("worktree list parses porcelain -z, including paths with spaces and prunable entries", () => {
    const out = "worktree /r\0HEAD abc\0branch refs/heads/main\0\0worktree /r/.claude/worktrees/A B\0HEAD def\0detached\0locked because\0prunable gone\0\0";
    expect(parseWorktreeList(out)).toEqual([
      { path: "/r", head: "abc", branch: "main", bare: false, detached: false, locked: false, lockReason: null, prunable: false, present: false },
      { path: "/r/.claude/worktrees/A B", head: "def", branch: null, bare: false, detached: true, locked: true, lockReason: "because", prunable: true, present: false },
    ]);
    const root = tempRepo();
    const wt = join(root, ".claude", "worktrees", "A B");
    addWorktree(root, wt, "a-b", "main");
    rmSync(wt, { recursive: true, force: true });
    const stale = listWorktrees(root).find((w) => w.branch === "a-b")!;
    expect(stale).toMatchObject({ path: wt, prunable: true, present: false });
    expect(pruneWorktrees(root)).toEqual([wt]);
    expect(listWorktrees(root).map((w) => w.path)).toEqual([root]);
  });

  test("predictMerge: clean → tree, conflict → files, unknown name → error (not a fake conflict)", () => {
    const root = tempRepo();
    sh(root, "branch", "one");
    sh(root, "branch", "two");
    sh(root, "switch", "-q", "one");
    const a = commit(root, { "src/shared.ts": "export const a = 10;\nexport const b = 2;\nexport const c = 3;\n", "one.txt": "1" }, "one");
    sh(root, "switch", "-q", "two");
    const b = commit(root, { "src/shared.ts": "export const a = 20;\nexport const b = 2;\nexport const c = 3;\n" }, "two");
    sh(root, "switch", "-q", "main");
    const main = resolveCommit(root, "main")!;
    const clean = predictMerge(root, main, a);
    expect(clean.clean).toBe(true);
    expect(changedPaths(root, main, clean.tree).sort()).toEqual(["one.txt", "src/shared.ts"]);
    expect(predictMerge(root, a, b)).toMatchObject({ clean: false, conflicts: ["src/shared.ts"] });
    expect(() => predictMerge(root, main, "no-such-branch")).toThrow(/cannot predict/);
    expect(gitStatus(root)).toBe("");
    expect(operationInProgress(root)).toBeNull();
  });

  test("mergeNoFf makes a merge commit; aheadBehind and commitsNotIn count", () => {
    const root = tempRepo();
    sh(root, "branch", "feat");
    sh(root, "switch", "-q", "feat");
    commit(root, { "f.txt": "f" }, "add f");
    sh(root, "switch", "-q", "main");
    commit(root, { "m.txt": "m" }, "add m");
    expect(aheadBehind(root, "main", "feat")).toEqual({ ahead: 1, behind: 1 });
    expect(commitsNotIn(root, "feat", "main").map((c) => c.subject)).toEqual(["add f"]);
    const merged = mergeNoFf(root, resolveCommit(root, "feat")!, "Merge feat");
    expect(sh(root, "rev-list", "--parents", "-n", "1", merged).trim().split(" ")).toHaveLength(3);
    expect(commitsNotIn(root, "feat", "main")).toEqual([]);
  });

  test("ensureExcluded appends once to .git/info/exclude", () => {
    const root = tempRepo();
    const info = repoInfo(root);
    expect(ensureExcluded(info, ["/.claude/worktrees/"])).toEqual(["/.claude/worktrees/"]);
    expect(ensureExcluded(info, ["/.claude/worktrees/"])).toEqual([]);
    const text = readFileSync(join(root, ".git", "info", "exclude"), "utf8");
    expect(text.split("\n").filter((l) => l === "/.claude/worktrees/")).toHaveLength(1);
    write(root, ".claude/worktrees/x/file", "x");
    expect(gitStatus(root)).toBe("");
    expect(statusEntries(root, { untracked: true })).toEqual([]);
    expect(existsSync(join(root, ".claude"))).toBe(true);
  });

  test("git runs in its own session: a kill of orch's process group cannot stop it holding a lock", () => {
    const root = tempRepo();
    const session = (stat: string) => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
    const r = git(root, ["-c", "alias.stat=!cat /proc/$$/stat", "stat"]);
    expect(r.code).toBe(0);
    const gitSession = session(r.stdout);
    expect(gitSession).toBeGreaterThan(0);
    expect(gitSession).not.toBe(session(readFileSync("/proc/self/stat", "utf8")));
  });
});
