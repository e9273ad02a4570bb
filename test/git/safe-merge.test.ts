/**
 * The crash-safe merge (src/git/safe-merge.ts), window by window: a merge stopped after each of
 * its steps (as a kill there would leave it) is finished or undone by recoverInterruptedMerge,
 * never leaving MERGE_HEAD, a stale index.lock, half-written files or lost commits. The real
 * kill -9 of the binary at random instants is test/stress/crash-git.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { predictMerge } from "../../src/git/merge.ts";
import { commitMerge, mergeJournalPath, recoverInterruptedMerge, SimulatedCrash, type SafeMergeInput } from "../../src/git/safe-merge.ts";
import { commit, gitStatus, sh, tempRepo, write } from "./repo-helpers.ts";

/** main with a change of its own, and a feature branch that adds, changes and deletes files. */
function scenario() {
  const root = tempRepo();
  commit(root, { "keep.txt": "keep\n", "gone.txt": "bye\n", "edit.txt": "old\n" }, "base files");
  sh(root, "switch", "-q", "-c", "feature");
  write(root, "edit.txt", "new version of the file, a bit longer than the old one\n");
  write(root, "added/deep/new.txt", `${"x".repeat(5000)}\n`);
  sh(root, "rm", "-q", "gone.txt");
  sh(root, "add", "-A");
  sh(root, "commit", "-q", "-m", "feature work");
  const theirs = sh(root, "rev-parse", "HEAD").trim();
  sh(root, "switch", "-q", "main");
  commit(root, { "main-only.txt": "main\n" }, "main moves on");
  const ours = sh(root, "rev-parse", "HEAD").trim();
  const p = predictMerge(root, ours, theirs);
  if (!p.clean) throw new Error("scenario must merge cleanly");
  const input: SafeMergeInput = { branch: "main", ours, theirs, tree: p.tree, message: "Merge branch 'feature'", what: "Merge branch 'feature'" };
  return { root, ours, theirs, input, tree: p.tree };
}

const gitDir = (root: string) => join(root, ".git");
const crashAt = (root: string, input: SafeMergeInput, step: 1 | 2 | 3 | 4) =>
  expect(() => commitMerge(root, { ...input, crashAfterStep: step })).toThrow(SimulatedCrash);

function expectPristine(root: string, tip: string) {
  expect(sh(root, "rev-parse", "HEAD").trim()).toBe(tip);
  expect(gitStatus(root)).toBe("");
  expect(existsSync(join(gitDir(root), "MERGE_HEAD"))).toBe(false);
  expect(existsSync(join(gitDir(root), "index.lock"))).toBe(false);
  expect(existsSync(mergeJournalPath(root))).toBe(false);
  expect(sh(root, "ls-files", "-o", "--exclude-standard", "--directory", "--", ":!.claude")).toBe("");
}

describe("commitMerge", () => {
  test("merges like git merge --no-ff: two parents, the predicted tree, clean checkout, no MERGE_HEAD, reflog entry", () => {
    const { root, ours, theirs, input, tree } = scenario();
    const m = commitMerge(root, input);
    expect(sh(root, "rev-parse", `${m}^1`, `${m}^2`, `${m}^{tree}`).trim().split("\n")).toEqual([ours, theirs, tree]);
    expect(sh(root, "log", "-1", "--format=%s", m).trim()).toBe("Merge branch 'feature'");
    expect(sh(root, "reflog", "-1", "--format=%gs", "main").trim()).toBe("merge Merge branch 'feature': made by orch");
    expectPristine(root, m);
    expect(readFileSync(join(root, "edit.txt"), "utf8")).toStartWith("new version");
    expect(existsSync(join(root, "gone.txt"))).toBe(false);
    expect(readdirSync(gitDir(root)).filter((f) => f.startsWith("orch-merge"))).toEqual([]);
  });

  test("local changes in its way: refused by git before any file is written, nothing changed", () => {
    const { root, ours, input } = scenario();
    write(root, "edit.txt", "my unsaved work\n");
    expect(() => commitMerge(root, input)).toThrow("git stopped the merge: Entry 'edit.txt' not uptodate. Cannot merge.; nothing was merged");
    expect(readFileSync(join(root, "edit.txt"), "utf8")).toBe("my unsaved work\n");
    expect(sh(root, "rev-parse", "HEAD").trim()).toBe(ours);
    expect(gitStatus(root)).toBe(" M edit.txt\n");
    expect(existsSync(mergeJournalPath(root))).toBe(false);
  });

  test("another git's index.lock: refused, the files put back, that lock left alone", () => {
    const { root, ours, input } = scenario();
    writeFileSync(join(gitDir(root), "index.lock"), "someone else's");
    expect(() => commitMerge(root, input)).toThrow(/another git process is using the main worktree .*; nothing was merged/);
    expect(readFileSync(join(gitDir(root), "index.lock"), "utf8")).toBe("someone else's");
    rmSync(join(gitDir(root), "index.lock"));
    expectPristine(root, ours);
  });
});

describe("recoverInterruptedMerge", () => {
  test("nothing to do without a journal", () => {
    const { root } = scenario();
    expect(recoverInterruptedMerge(root)).toBeNull();
  });

  test("killed after the journal (step 1): nothing had changed; the next merge goes through", () => {
    const { root, ours, input } = scenario();
    crashAt(root, input, 1);
    expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "rolled_back", untouched: [] });
    expectPristine(root, ours);
    expectPristine(root, commitMerge(root, input));
  });

  test("files put back by a recovery (new stat data, same content) do not stop the next merge", () => {
    const { root, input } = scenario();
    crashAt(root, input, 2); // every file written: the recovery rewrites edit.txt and gone.txt
    expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "rolled_back" });
    const m = commitMerge(root, input);
    expectPristine(root, m);
  });

  test("killed while git wrote the files: the written and the half-written ones go back", () => {
    const { root, ours, input } = scenario();
    crashAt(root, input, 1);
    // What a killed `read-tree -u` leaves: some files new, one new file cut short, one deleted.
    write(root, "edit.txt", "new version of the file, a bit longer than the old one\n");
    write(root, "added/deep/new.txt", "x".repeat(1234));
    rmSync(join(root, "gone.txt"));
    expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "rolled_back", untouched: [] });
    expectPristine(root, ours);
    expect(readFileSync(join(root, "edit.txt"), "utf8")).toBe("old\n");
    expect(readFileSync(join(root, "gone.txt"), "utf8")).toBe("bye\n");
  });

  test("killed after the files (step 2), or holding the lock (step 3): rolled back, the lock released", () => {
    for (const step of [2, 3] as const) {
      const { root, ours, input } = scenario();
      crashAt(root, input, step);
      expect(existsSync(join(gitDir(root), "index.lock"))).toBe(step === 3);
      expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "rolled_back", untouched: [] });
      expectPristine(root, ours);
    }
  });

  test("killed after the branch moved (step 4): the merge is finished, the new index put in place", () => {
    const { root, input, theirs } = scenario();
    crashAt(root, input, 4);
    const tip = sh(root, "rev-parse", "main").trim();
    expect(sh(root, "rev-parse", `${tip}^2`).trim()).toBe(theirs);
    expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "finished", commit: tip });
    expectPristine(root, tip);
  });

  test("a file edited by hand after the crash is left as it is, and named", () => {
    const { root, input } = scenario();
    crashAt(root, input, 2);
    write(root, "edit.txt", "edited after the crash\n");
    const r = recoverInterruptedMerge(root)!;
    expect(r).toMatchObject({ outcome: "rolled_back", untouched: ["edit.txt"] });
    expect(readFileSync(join(root, "edit.txt"), "utf8")).toBe("edited after the crash\n");
    expect(existsSync(join(root, "added/deep/new.txt"))).toBe(false);
  });

  test("a branch moved on by hand since: abandoned, our lock released, nothing else touched", () => {
    const { root, input } = scenario();
    crashAt(root, input, 3);
    rmSync(join(gitDir(root), "index.lock"));
    sh(root, "reset", "-q", "--hard", "HEAD");
    const other = commit(root, { "later.txt": "later\n" }, "someone's later commit");
    expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "abandoned" });
    // The files are the user's business now: the merge's new file stays, untracked.
    expect(gitStatus(root)).toBe("?? added/deep/new.txt\n");
    rmSync(join(root, "added"), { recursive: true });
    expectPristine(root, other);
  });

  test("a merge still running in a live process is not touched", async () => {
    const { root, input } = scenario();
    crashAt(root, input, 3);
    const live = Bun.spawn(["sleep", "30"]);
    try {
      const journal = JSON.parse(readFileSync(mergeJournalPath(root), "utf8"));
      writeFileSync(mergeJournalPath(root), JSON.stringify({ ...journal, pid: live.pid, pidStart: null }));
      expect(() => recoverInterruptedMerge(root)).toThrow(`another orch is merging into main right now (pid ${live.pid}): wait for it to finish`);
      expect(existsSync(join(gitDir(root), "index.lock"))).toBe(true);
    } finally {
      live.kill();
      await live.exited;
    }
    expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "rolled_back" });
  });

  test("a stale index.lock that is not ours survives recovery", () => {
    const { root, ours, input } = scenario();
    crashAt(root, input, 2);
    writeFileSync(join(gitDir(root), "index.lock"), "foreign");
    expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "rolled_back" });
    expect(readFileSync(join(gitDir(root), "index.lock"), "utf8")).toBe("foreign");
    rmSync(join(gitDir(root), "index.lock"));
    expectPristine(root, ours);
  });

  test("our lock removed by hand after the commit: the index is still put in place", () => {
    const { root, input } = scenario();
    crashAt(root, input, 4);
    rmSync(join(gitDir(root), "index.lock"));
    expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "finished" });
    expectPristine(root, sh(root, "rev-parse", "main").trim());
  });

  test("a branch lock left by a killed update-ref is removed; one held by a live git is waited for", async () => {
    const { root, ours, input } = scenario();
    crashAt(root, input, 3);
    const refLock = join(gitDir(root), "refs", "heads", "main.lock");
    writeFileSync(refLock, `${ours}\n`);
    expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "rolled_back" });
    expect(existsSync(refLock)).toBe(false);
    expectPristine(root, ours);

    // A git still writing (only orch was killed): its lock is open in a live process.
    crashAt(root, input, 2);
    const workLock = join(gitDir(root), "orch-merge-work.index.lock");
    const holder = Bun.spawn(["bash", "-c", `exec 3>"$1"; sleep 0.4; rm -f "$1"`, "holder", workLock]);
    while (!existsSync(workLock)) await Bun.sleep(5);
    const t0 = performance.now();
    expect(recoverInterruptedMerge(root)).toMatchObject({ outcome: "rolled_back" });
    if (process.platform === "linux") expect(performance.now() - t0).toBeGreaterThan(200);
    await holder.exited;
    expectPristine(root, ours);
  });
});
