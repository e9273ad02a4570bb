/**
 * A merge conflict resolved by hand stops being shown (issue #16: after a person merged the
 * stream's branch themselves, `orch worktree list` and `orch stream conflicts` still showed the
 * conflict orch had recorded).
 *
 * Real repositories, streams whose branches edit the same lines as main and each other, merged by
 * orch (a conflict is recorded, or the merge is made), then people doing what people do, at
 * random: merge the branch into main themselves (taking either side, or writing a resolution),
 * merge main into the branch in its worktree, commit more conflicting or harmless work on either
 * side, delete the branch. After every step the truth is asked of git directly — is the branch in
 * main, would merging it conflict, in which files — and a recorded conflict must be listed by
 * `orch stream conflicts` exactly while it holds (with today's files), dropped for good once it
 * does not; pairs whose branches are both in main never conflict.
 *
 * Quick: 8 repositories × 10 steps (a third through the binary). STRESS=full: 40 × 14.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTask, lastMergeState } from "../../src/core/index.ts";
import type { Store } from "../../src/db/client.ts";
import { createStreamWorktree, listStreamWorktrees, mergeStream } from "../../src/workspace/stream-worktrees.ts";
import { streamConflicts } from "../../src/workspace/stream-conflicts.ts";
import { commit, sh, tempRepo } from "../git/repo-helpers.ts";
import { tempStore } from "../helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { cleanEnv, orchBin } from "./harness/orch.ts";
import { Random, seeded } from "./harness/prng.ts";

const REPOS = size(8, 40);
const STEPS = size(10, 14);
const FILES = ["src/shared.ts", "src/other.ts", "README.md"];

interface Repo {
  root: string;
  store: Store;
  db: string;
  streams: string[];
}

const gitOk = (cwd: string, ...args: string[]) => Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
const tip = (root: string, branch: string) => {
  const r = gitOk(root, "rev-parse", "--verify", "-q", `refs/heads/${branch}`);
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
};

/** What git says, asked directly: the files merging the branch into main would conflict in, or why there is nothing to merge. */
function truth(root: string, branch: string): { files: string[] } | "merged" | "gone" {
  const source = tip(root, branch);
  const main = tip(root, "main")!;
  if (!source) return "gone";
  if (gitOk(root, "merge-base", "--is-ancestor", source, main).exitCode === 0) return "merged";
  const r = gitOk(root, "merge-tree", "--write-tree", "--name-only", "--no-messages", main, source);
  const files = r.exitCode === 1 ? [...new Set(r.stdout.toString().trim().split("\n").slice(1).filter(Boolean))].sort() : [];
  return { files };
}

function edit(rnd: Random, tag: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of FILES) if (rnd.chance(0.5)) files[f] = `export const a = "${tag}";\nexport const b = 2;\nexport const c = ${rnd.int(3)};\n`;
  if (!Object.keys(files).length) files[rnd.pick(FILES)] = `${tag}\n`;
  return files;
}

/** Resolve a merge left conflicted in `cwd`: one side, or a new text, then commit. */
function resolve(rnd: Random, cwd: string, why: string) {
  const how = rnd.pick(["--ours", "--theirs", "write"]);
  const conflicted = gitOk(cwd, "diff", "--name-only", "--diff-filter=U").stdout.toString().trim().split("\n").filter(Boolean);
  for (const f of conflicted) {
    if (how === "write") commitless(cwd, f, `resolved by hand ${rnd.int(1000)}\n`);
    else sh(cwd, "checkout", how, "--", f);
    sh(cwd, "add", "--", f);
  }
  sh(cwd, "commit", "-q", "--no-edit", "-m", why);
}

/** Write and commit (an edit may happen to leave a file as it was: the commit is made anyway). */
function work(cwd: string, files: Record<string, string>, message: string) {
  for (const [rel, content] of Object.entries(files)) commitless(cwd, rel, content);
  sh(cwd, "add", "-A", "--", ...Object.keys(files));
  sh(cwd, "commit", "-q", "--allow-empty", "-m", message);
}

function commitless(cwd: string, rel: string, content: string) {
  writeFileSync(join(cwd, rel), content);
}

async function newRepo(rnd: Random, n: number): Promise<Repo> {
  const root = tempRepo();
  const store = await tempStore();
  const streams = Array.from({ length: rnd.range(2, 4) }, (_, k) => `Stream-${String.fromCharCode(66 + k)}`);
  for (const id of streams) await createTask(store, { id: `T-${n}-${id}`, title: id, metadata: { streamId: id, streamPhase: "parallel", dependencies: [], files: ["src/shared.ts"] } });
  for (const id of streams) {
    const wt = (await createStreamWorktree(store, { streamId: id, cwd: root })).worktreePath;
    commit(wt, edit(rnd, `${id}-1`), `${id} work`);
  }
  commit(root, edit(rnd, "main-1"), "main moves on");
  return { root, store, db: store.path, streams };
}

/** One thing a person (or orch) does. Returns what it was, for the failure message. */
async function step(rnd: Random, repo: Repo, k: number): Promise<string> {
  const { root, store } = repo;
  // Mostly a stream with a recorded conflict, when there is one: that is what people resolve.
  const conflicted: string[] = [];
  for (const s of repo.streams) if ((await lastMergeState(store, s))?.mergeConflict) conflicted.push(s);
  const id = conflicted.length && rnd.chance(0.6) ? rnd.pick(conflicted) : rnd.pick(repo.streams);
  const branch = id.toLowerCase();
  const wt = join(root, ".claude", "worktrees", id);
  if (!tip(root, branch)) return `${id}: gone already`;
  switch (rnd.int(8)) {
    case 0:
    case 1: {
      const r = await mergeStream(store, { streamId: id, cwd: root });
      return `orch worktree merge ${id}: ${r.status}`;
    }
    case 2:
    case 6: {
      const m = gitOk(root, "merge", "--no-ff", "-q", "-m", `merge ${branch} by hand`, branch);
      if (m.exitCode !== 0) resolve(rnd, root, `merge ${branch} by hand, resolved`);
      return `git merge ${branch} into main by hand`;
    }
    case 3: {
      const m = gitOk(wt, "merge", "--no-ff", "-q", "-m", "merge main into the branch", "main");
      if (m.exitCode !== 0) resolve(rnd, wt, "merge main into the branch, resolved");
      return `git merge main into ${branch}`;
    }
    case 4:
      work(wt, edit(rnd, `${id}-step${k}`), "more work on the branch");
      return `commit on ${branch}`;
    case 5:
      work(root, edit(rnd, `main-step${k}`), "more work on main");
      return "commit on main";
    default:
      if (!rnd.chance(0.3)) return "nothing";
      sh(root, "worktree", "remove", "--force", wt);
      sh(root, "branch", "-D", branch);
      return `${branch} deleted`;
  }
}

describe("stress: merge conflicts resolved outside orch", () => {
  test(
    `${REPOS} repositories × ${STEPS} steps: a recorded conflict is shown exactly while git says it holds`,
    () =>
      seeded("conflict-resolved", async (rnd) => {
        const problems: string[] = [];
        const tally = { checks: 0, held: 0, dropped: 0, binary: 0, settledPairs: 0 };
        for (let n = 0; n < REPOS && problems.length < 5; n++) {
          const repo = await newRepo(rnd, n);
          const history: string[] = [];
          for (let k = 0; k < STEPS; k++) {
            history.push(await step(rnd, repo, k));
            const recorded: string[] = [];
            for (const id of repo.streams) if ((await lastMergeState(repo.store, id))?.mergeConflict) recorded.push(id);
            tally.checks += recorded.length;
            const viaBinary = rnd.chance(1 / 3);
            const r = viaBinary ? await binaryConflicts(repo) : await streamConflicts(repo.store, { cwd: repo.root });
            if (viaBinary) tally.binary++;
            const shown = new Map(r.mergeConflicts.map((c) => [c.streamId, c.files]));
            for (const id of recorded) {
              const t = truth(repo.root, id.toLowerCase());
              const want = typeof t === "object" && t.files.length ? t.files : null;
              const got = shown.get(id) ?? null;
              if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`repo ${n}, ${id}: shown ${JSON.stringify(got)}, git says ${JSON.stringify(t)} after ${history.join("; ")}`);
              if (want) tally.held++;
              else tally.dropped++;
              // Dropped for good: the record itself now says so, for every other reader.
              if (!want && (await lastMergeState(repo.store, id))?.mergeConflict) problems.push(`repo ${n}, ${id}: dropped from the listing but still recorded`);
            }
            for (const id of shown.keys()) if (!recorded.includes(id)) problems.push(`repo ${n}: ${id} shown but never recorded`);
            for (const p of r.pairs) {
              const [a, b] = p.streams.map((s) => truth(repo.root, s.toLowerCase()));
              if (a === "merged" && b === "merged") {
                tally.settledPairs++;
                if (p.conflictingFiles.length) problems.push(`repo ${n}: ${p.streams.join(" ↔ ")} are both in main, yet shown conflicting in ${p.conflictingFiles.join(", ")}`);
              }
            }
          }
        }
        console.error(
          `conflict-resolved: ${REPOS} repositories × ${STEPS} steps: ${tally.checks} checks of a recorded conflict against git — ${tally.held} still holding (listed with today's files), ${tally.dropped} resolved, merged by hand or gone (dropped for good); ${tally.settledPairs} pairs both in main, none shown conflicting; ${tally.binary} listings through the binary${FULL ? " [full]" : ""}`,
        );
        expect(problems).toEqual([]);
      }),
    size(240_000, 1_800_000),
  );

  // `orch worktree list` asks currentMergeConflict with git's facts too.
  test("orch worktree list drops a conflict merged by hand", async () => {
    const rnd = new Random(1);
    const repo = await newRepo(rnd, 0);
    const id = repo.streams[0]!;
    commit(join(repo.root, ".claude", "worktrees", id), { "src/shared.ts": "branch\n" }, "branch");
    commit(repo.root, { "src/shared.ts": "main\n" }, "main");
    expect((await mergeStream(repo.store, { streamId: id, cwd: repo.root })).status).toBe("conflict");
    if (gitOk(repo.root, "merge", "-q", "--no-edit", id.toLowerCase()).exitCode !== 0) resolve(rnd, repo.root, "by hand");
    const row = (await listStreamWorktrees(repo.store, { cwd: repo.root })).worktrees.find((w) => w.streamId === id)!;
    expect(row.mergeConflict).toBeNull();
  });
});

/** `orch stream conflicts --json` from the compiled binary, on the repository's database. */
function binaryConflicts(repo: Repo): ReturnType<typeof streamConflicts> {
  const p = Bun.spawnSync([orchBin(), "stream", "conflicts", "--json", "--db", repo.db], { cwd: repo.root, env: cleanEnv({ HOME: repo.root }), stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`orch stream conflicts: exit ${p.exitCode}: ${p.stderr.toString()}`);
  return JSON.parse(p.stdout.toString());
}
