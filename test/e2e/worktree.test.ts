/** `orch worktree`, `orch continue` and `orch stream conflicts` from the compiled binary, on real repositories. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dirname } from "node:path";
import { fingerprint } from "../git/fingerprint.ts";
import { commit, gitStatus, sh, tempRepo, write } from "../git/repo-helpers.ts";
import { cleanEnv, orchBin, runOrch, tempDir } from "../helpers.ts";

async function project() {
  const root = tempRepo();
  const env = { ORCH_DB: join(tempDir(), "tasks.db") };
  const orch = (args: string[], cwd = root) => runOrch(args, { env, cwd });
  const task = (id: string, stream: string, phase: string, depends = "", files = "") =>
    orch(["task", "create", "--title", `work ${id}`, "--id", id, "--stream", stream, "--phase", phase, ...(depends ? ["--depends", depends] : []), ...(files ? ["--files", files] : [])]);
  return { root, env, orch, task };
}

const head = (cwd: string) => sh(cwd, "rev-parse", "HEAD").trim();

describe("orch worktree (compiled binary)", () => {
  test("create, re-create, list --json; path with spaces; main stays clean", async () => {
    const { root, orch, task } = await project();
    await task("T1", "Stream-B", "parallel");
    const c = await orch(["worktree", "create", "Stream-B"]);
    expect(c).toEqual({ code: 0, stderr: "", stdout: "✓ Worktree created: .claude/worktrees/Stream-B\n✓ Branch created: stream-b (from main)\n" });
    const again = await orch(["worktree", "create", "Stream-B", "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ reused: true, created: false, worktreePath: join(root, ".claude/worktrees/Stream-B"), branchName: "stream-b" });
    expect(gitStatus(root)).toBe("");

    const l = await orch(["worktree", "list", "--json"]);
    expect(l.code).toBe(0);
    const listed = JSON.parse(l.stdout);
    expect(listed).toMatchObject({ totalWorktrees: 1, worktrees: [{ streamId: "Stream-B", state: "ok", branchName: "stream-b", baseBranch: "main", dirty: false, ahead: 0, behind: 0 }] });
    const table = await orch(["worktree", "list"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^STREAM\s+STATE\s+BRANCH\s+BASE\s+AHEAD\s+BEHIND\s+DIRTY\s+PATH$/);
    expect(table.stdout).toContain(".claude/worktrees/Stream-B");
    const stream = JSON.parse((await orch(["stream", "get", "Stream-B", "--json"])).stdout);
    expect(stream).toMatchObject({ worktreePath: join(root, ".claude/worktrees/Stream-B"), branchName: "stream-b" });
  });

  test("--setup failure: exit 1, one clear line, output shown, nothing left behind", async () => {
    const { root, orch, task } = await project();
    await task("T1", "Stream-B", "parallel");
    const r = await orch(["worktree", "create", "Stream-B", "--setup", '["sh","-c","echo resolving; echo E404 no such package >&2; exit 7"]']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("resolving\n");
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe(
      'orch: setup command "sh -c echo resolving; echo E404 no such package >&2; exit 7" failed (exit 7): E404 no such package; the new worktree was removed',
    );
    expect(existsSync(join(root, ".claude/worktrees/Stream-B"))).toBe(false);
    expect(sh(root, "branch", "--list", "stream-b")).toBe("");
    const ok = await orch(["worktree", "create", "Stream-B", "--setup", "touch setup done.txt", "--json"]);
    expect(JSON.parse(ok.stdout).setup).toMatchObject({ command: ["touch", "setup", "done.txt"], exitCode: 0 });
    expect(existsSync(join(root, ".claude/worktrees/Stream-B/done.txt"))).toBe(true);
  });

  test("killed during its setup: the next create finishes the setup in the same worktree, once", async () => {
    const { root, env, task } = await project();
    await task("T1", "Stream-B", "parallel");
    const dir = tempDir();
    const mark = join(dir, "first-attempt");
    // The first attempt hangs in setup (until killed); later ones finish it.
    const script = join(dir, "setup.sh");
    writeFileSync(script, `if [ -e "${mark}" ]; then echo ran > .setup-ran; exit 0; fi\ntouch "${mark}"; echo started >&2; exec sleep 60\n`);
    const args = ["worktree", "create", "Stream-B", "--setup", JSON.stringify(["sh", script])];
    const first = Bun.spawn([orchBin(), ...args], { cwd: root, env: cleanEnv(env), stdout: "pipe", stderr: "pipe", detached: true });
    let seen = "";
    for await (const chunk of first.stderr) if ((seen += new TextDecoder().decode(chunk)).includes("started")) break;
    process.kill(-first.pid, "SIGKILL"); // orch and its setup command
    await first.exited;
    const wt = join(root, ".claude/worktrees/Stream-B");
    expect(existsSync(wt)).toBe(true);
    expect(existsSync(join(wt, ".setup-ran"))).toBe(false);

    const again = await runOrch([...args, "--json"], { env, cwd: root });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ reused: true, setup: { command: ["sh", script], exitCode: 0 } });
    expect(readFileSync(join(wt, ".setup-ran"), "utf8")).toBe("ran\n");
    const third = await runOrch([...args, "--json"], { env, cwd: root });
    expect(JSON.parse(third.stdout)).toMatchObject({ reused: true, setup: null });
    expect(gitStatus(root)).toBe("");
  });

  test("traversal ids refused with exit 2 before any path is built; not a repository; unknown stream", async () => {
    const { root, orch } = await project();
    for (const [args, id] of [
      [["worktree", "create", "../../etc"], "../../etc"],
      [["worktree", "remove", "../x", "--force"], "../x"],
      [["worktree", "merge", ".."], ".."],
      [["continue", "../../etc"], "../../etc"],
    ] as const) {
      const r = await orch([...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toStartWith(`orch: invalid stream id "${id}": id must start with a letter or digit`);
    }
    expect(existsSync(join(root, ".claude"))).toBe(false);
    expect(await orch(["worktree", "create", "Stream-X"])).toMatchObject({ code: 1, stderr: "orch: Stream not found: Stream-X\n" });
    const outside = await orch(["worktree", "list"], tempDir());
    expect(outside.code).toBe(1);
    expect(outside.stderr).toStartWith("orch: not a git repository: ");
  });

  test("merge: a conflict exits 1, lists the files, leaves main exactly as before; a clean one merges --no-ff", async () => {
    const { root, orch, task } = await project();
    await task("T1", "Stream-B", "parallel");
    await orch(["worktree", "create", "Stream-B"]);
    const wt = join(root, ".claude/worktrees/Stream-B");
    commit(wt, { "src/shared.ts": "export const a = 'B';\n", "src/b.ts": "b\n" }, "B work");
    commit(root, { "src/shared.ts": "export const a = 'main';\n" }, "main work");
    const before = head(root);

    const r = await orch(["worktree", "merge", "Stream-B"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      "Merging stream-b into main would conflict in:\n  src/shared.ts\nNothing was changed. Resolve it on stream-b (e.g. merge main into it in its worktree), then merge again.\n",
    );
    expect(r.stderr).toBe("orch: merge of stream-b into main would conflict (1 files); nothing was changed\n");
    expect(head(root)).toBe(before);
    expect(existsSync(join(root, ".git/MERGE_HEAD"))).toBe(false);
    expect(gitStatus(root)).toBe("");
    expect(readFileSync(join(root, "src/shared.ts"), "utf8")).toBe("export const a = 'main';\n");
    const j = await orch(["worktree", "merge", "Stream-B", "--json"]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ status: "conflict", merged: false, conflictingFiles: ["src/shared.ts"] });
    const listed = JSON.parse((await orch(["worktree", "list", "--json"])).stdout);
    expect(listed.worktrees[0].mergeConflict).toMatchObject({ into: "main", files: ["src/shared.ts"] });

    sh(wt, "merge", "-q", "-X", "theirs", "main", "-m", "resolve with main");
    const m = await orch(["worktree", "merge", "Stream-B"]);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/^✓ Merged stream-b into main \([0-9a-f]{12}\): 1 files changed\n$/);
    expect(sh(root, "rev-list", "--parents", "-n", "1", "HEAD").trim().split(" ")).toHaveLength(3);
    expect(readFileSync(join(root, "src/b.ts"), "utf8")).toBe("b\n");
    expect(gitStatus(root)).toBe("");
    expect((await orch(["worktree", "merge", "Stream-B"])).stdout).toBe("stream-b is already merged into main: nothing to do\n");
    expect(await orch(["worktree", "remove", "Stream-B"])).toMatchObject({ code: 0, stdout: `✓ Removed worktree ${wt}\n✓ Branch deleted: stream-b\n` });
  });

  test("merge refuses when the main worktree is on another branch, and switches nothing", async () => {
    const { root, orch, task } = await project();
    await task("T1", "Stream-B", "parallel");
    await orch(["worktree", "create", "Stream-B"]);
    commit(join(root, ".claude/worktrees/Stream-B"), { "b.ts": "b" }, "b");
    sh(root, "switch", "-q", "-c", "feature-x");
    const r = await orch(["worktree", "merge", "Stream-B"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `orch: the main worktree (${root}) is on feature-x, not main: orch will not switch it for you; run "git switch main" there first, or merge into feature-x with --into feature-x\n`,
    );
    expect(sh(root, "symbolic-ref", "--short", "HEAD").trim()).toBe("feature-x");
    expect(gitStatus(root)).toBe("");
  });

  test("remove refuses dirty work; --force saves it to a ref and prints how to get it back; prune", async () => {
    const { root, orch, task } = await project();
    await task("T1", "Stream-B", "parallel");
    await task("T2", "Stream-C", "parallel");
    await orch(["worktree", "create", "Stream-B"]);
    await orch(["worktree", "create", "Stream-C"]);
    const wt = join(root, ".claude/worktrees/Stream-B");
    write(wt, "notes/todo list.md", "- finish it\n");
    const refused = await orch(["worktree", "remove", "Stream-B"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "orch: refusing to remove the worktree of Stream-B: it has 1 uncommitted change (notes/todo list.md); merge first (orch worktree merge Stream-B) or pass --force to save it to refs/orch/saved/stream-b/… and remove\n",
    );
    expect(existsSync(join(wt, "notes/todo list.md"))).toBe(true);

    const forced = await orch(["worktree", "remove", "Stream-B", "--force"]);
    expect(forced.code).toBe(0);
    const ref = forced.stdout.match(/^Saved everything to (refs\/orch\/saved\/stream-b\/\S+) \(including uncommitted changes\):$/m)?.[1];
    expect(ref).toBeDefined();
    expect(forced.stdout).toContain(
      `  - 1 uncommitted change (notes/todo list.md)\n  to get it back, run in ${root}:\n    git branch stream-b ${ref}\n    orch worktree create Stream-B\n    git -C .claude/worktrees/Stream-B reset -q HEAD~1\n`,
    );
    expect(sh(root, "show", `${ref}:notes/todo list.md`)).toBe("- finish it\n");
    expect(existsSync(wt)).toBe(false);

    rmSync(join(root, ".claude/worktrees/Stream-C"), { recursive: true, force: true });
    const missing = JSON.parse((await orch(["worktree", "list", "--json"])).stdout);
    expect(missing.worktrees.map((w: { streamId: string; state: string }) => [w.streamId, w.state])).toEqual([["Stream-C", "missing"]]);
    const p = await orch(["worktree", "prune"]);
    expect(p).toMatchObject({ code: 0, stdout: `✓ Pruned ${join(root, ".claude/worktrees/Stream-C")}\n✓ Cleared the worktree of Stream-C\n` });
    expect((await orch(["worktree", "prune"])).stdout).toBe("Nothing to prune.\n");
    expect((await orch(["worktree", "list"])).stdout).toBe("No stream worktrees.\n");
    expect(gitStatus(root)).toBe("");
  });

  test("remove --force: work git status does not show is saved, and the printed steps, run for real, bring it back byte for byte", async () => {
    const { root, env, orch, task } = await project();
    await task("T1", "Stream-B", "parallel");
    commit(root, { ".gitignore": "*.local\n.env\nnode_modules/\n", "conf/sw.conf": "base\n", "conf/au.conf": "base\n" }, "setup");
    writeFileSync(join(root, ".env"), "SECRET=main\n");
    await orch(["worktree", "create", "Stream-B", "--copy", ".env"]);
    const wt = join(root, ".claude/worktrees/Stream-B");
    commit(wt, { "on-branch.ts": "unmerged\n" }, "on the branch");
    sh(root, "tag", "stream-b", "main"); // shadows the branch for `main..stream-b`
    sh(wt, "switch", "-q", "--detach");
    commit(wt, { "detached.ts": "detached\n" }, "on a detached HEAD");
    sh(wt, "update-index", "--skip-worktree", "conf/sw.conf");
    sh(wt, "update-index", "--assume-unchanged", "conf/au.conf");
    write(wt, "conf/sw.conf", "skip-worktree edit\n");
    write(wt, "conf/au.conf", "assume-unchanged edit\n");
    write(wt, ".env", "SECRET=edited in the worktree\n");
    write(wt, "my settings.local", "local\n");
    write(wt, "staged.ts", "staged\n");
    sh(wt, "add", "staged.ts");
    write(wt, "staged.ts", "staged, then edited\n");
    write(wt, "node_modules/pkg/index.js", "build output\n");
    const nested = join(wt, "vendor/lib");
    write(nested, "lib.ts", "v1\n");
    sh(nested, "init", "-q", "-b", "main");
    commit(nested, { "lib.ts": "v2\n" }, "nested commit");
    write(nested, "dirty.ts", "uncommitted in the nested repository\n");
    const skip = (p: string) => p === "node_modules";
    const before = fingerprint(wt, skip);

    const refused = await orch(["worktree", "remove", "Stream-B"]);
    expect(refused.code).toBe(1);
    for (const part of ["3 uncommitted changes (staged.ts, conf/au.conf, conf/sw.conf)", "ignored files whose content is only there (.env, my settings.local)", "1 nested git repository (vendor/lib)", "1 commit not merged into main", "1 commit on its detached HEAD"])
      expect(refused.stderr).toContain(part);
    expect(fingerprint(wt, skip)).toEqual(before);

    const forced = await orch(["worktree", "remove", "Stream-B", "--force"]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('Not saved (deleted with the worktree):\n  - node_modules/: ignored build output: "node_modules" (git config orch.neverSave)\n');
    expect(existsSync(wt)).toBe(false);
    const lines = forced.stdout.split("\n");
    const at = lines.findIndex((l) => l.startsWith("  to get it back, run in "));
    expect(lines[at]).toBe(`  to get it back, run in ${root}:`);
    const steps = lines.slice(at + 1).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith("    "))).map((l) => l.slice(4));
    expect(steps[0]).toMatch(/^git branch stream-b refs\/orch\/saved\/stream-b\/\S+-branch$/);
    const shellEnv = cleanEnv({ ...env, PATH: `${dirname(orchBin())}:${process.env.PATH}` });
    for (const step of steps) {
      const r = Bun.spawnSync(["sh", "-c", step], { cwd: root, env: shellEnv, stdout: "pipe", stderr: "pipe" });
      expect({ step, code: r.exitCode, stderr: r.stderr.toString() }).toEqual({ step, code: 0, stderr: "" });
    }
    expect(fingerprint(wt, skip)).toEqual(before);
    expect(sh(root, "log", "-1", "--format=%s", "refs/heads/stream-b").trim()).toBe("on the branch");
  });

  test("orch continue: refuses until dependencies are complete, then creates the worktree and prints the context", async () => {
    const { root, orch, task } = await project();
    await task("T1", "Stream-A", "foundation", "", "src/types.ts");
    await task("T2", "Stream-A", "foundation");
    await task("T3", "Stream-B", "parallel", "Stream-A", "src/button.ts");
    await orch(["task", "update", "T1", "--status", "completed"]);
    const refused = await orch(["continue", "Stream-B"]);
    expect(refused).toEqual({ code: 1, stdout: "", stderr: "orch: Stream cannot start - dependencies incomplete: Stream-A (50.0%)\n" });
    expect(await orch(["continue", "Stream-X"])).toEqual({ code: 1, stdout: "", stderr: "orch: Stream not found: Stream-X\n" });

    await orch(["task", "update", "T2", "--status", "completed"]);
    const r = await orch(["continue", "Stream-B"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "Creating worktree for Stream-B...",
        "✓ Worktree created: .claude/worktrees/Stream-B",
        "✓ Branch created: stream-b (from main)",
        "",
        "Resuming Stream-B: Stream-B",
        "Current focus: work T3",
        "Next task: T3",
        "Progress: 0.0% (0/1 tasks)",
        "",
        "Loading files:",
        "  - src/button.ts",
        "",
        "Dependencies:",
        "  ✓ Stream-A: Stream-A (100.0%)",
        "",
        `Working directory: ${join(root, ".claude/worktrees/Stream-B")}`,
        "",
      ].join("\n"),
    );
    // From inside the worktree (where the agent works), --json, reused.
    const j = await orch(["continue", "Stream-B", "--json"], join(root, ".claude/worktrees/Stream-B"));
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ streamId: "Stream-B", nextTask: { id: "T3" }, worktree: { reused: true }, workingDirectory: join(root, ".claude/worktrees/Stream-B") });
    expect(gitStatus(root)).toBe("");
  });

  test("orch stream conflicts: finds a conflict between two live branches, beside declared overlap", async () => {
    const { root, orch, task } = await project();
    await task("T1", "Stream-B", "parallel", "", "src/shared.ts");
    await task("T2", "Stream-C", "parallel", "", "src/shared.ts,src/c.ts");
    await task("T3", "Stream-D", "parallel", "", "src/d.ts");
    for (const s of ["Stream-B", "Stream-C", "Stream-D"]) await orch(["worktree", "create", s]);
    commit(join(root, ".claude/worktrees/Stream-B"), { "src/shared.ts": "B\n" }, "B");
    commit(join(root, ".claude/worktrees/Stream-C"), { "src/shared.ts": "C\n" }, "C");
    commit(join(root, ".claude/worktrees/Stream-D"), { "src/d.ts": "D\n" }, "D");

    const j = await orch(["stream", "conflicts", "--json"]);
    expect(j.code).toBe(0);
    const r = JSON.parse(j.stdout);
    expect(r).toMatchObject({ totalPairs: 3, conflictingPairs: 1, hasConflicts: true });
    expect(r.pairs[0]).toEqual({
      streams: ["Stream-B", "Stream-C"],
      branches: ["stream-b", "stream-c"],
      gitChecked: true,
      conflictingFiles: ["src/shared.ts"],
      declaredOverlap: ["src/shared.ts"],
      error: null,
    });
    const t = await orch(["stream", "conflicts"]);
    expect(t.stdout).toMatch(/^STREAMS\s+WOULD CONFLICT\s+DECLARED OVERLAP\nStream-B ↔ Stream-C\s+src\/shared.ts\s+src\/shared.ts\n\n3 pairs checked: 1 would conflict, 1 declare the same files.\n$/);
    expect(gitStatus(root)).toBe("");
  });
});
