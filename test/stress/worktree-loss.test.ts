/**
 * Worktree removal never loses work (issue 16), adversarially: random worktree states built on
 * real repositories — commits on the branch, on a detached HEAD, on another branch; a tag
 * shadowing the stream's branch; staged, partly staged, unstaged, deleted and untracked files with
 * odd names; edits hidden by skip-worktree and assume-unchanged; ignored files with content (an
 * edited copy of .env, *.local, a folder of them), over the size limit, and build output; nested
 * repositories with commits and dirty files; symbolic links; executable bits; CRLF files under
 * text=auto; a nested checkout whose repository lives elsewhere, a file name that is not UTF-8; a
 * merge left in progress; a second orch removing at the same moment — each judged by a model of
 * what the generator made, independent of orch's own census. For each state, with the compiled
 * binary:
 *   - `orch worktree remove` without --force either refuses, naming every kind of work there and
 *     touching nothing, or removes only when there was no work;
 *   - `orch worktree remove --force` refuses what it cannot save (naming it, touching nothing), or
 *     saves, names what it skipped (build output, files over the limit) and the printed restore
 *     steps, run for real in a shell, bring back every other file, link, the index, HEAD, the
 *     branch and each nested repository byte for byte;
 *   - the main checkout is untouched throughout.
 *
 * Quick: 9 states and 2 races. STRESS=full: 80 states and 12 races.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createTask } from "../../src/core/index.ts";
import { openStore } from "../../src/db/client.ts";
import { fingerprint, type Fingerprint } from "../git/fingerprint.ts";
import { tempDir } from "../helpers.ts";
import { size, timeout } from "./harness/mode.ts";
import { cleanEnv, orchBin } from "./harness/orch.ts";
import { type Random, seeded } from "./harness/prng.ts";

const STATES = size(9, 80);
const RACES = size(2, 12);
const MAX_SAVE = 4096;
const BUILD_DIRS = new Set(["node_modules", "dist"]);

function git(cwd: string, ...args: string[]): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

function ok(cwd: string, ...args: string[]): string {
  const r = git(cwd, ...args);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} in ${cwd}: ${r.err}`);
  return r.out;
}

function put(root: string, rel: string, content: string | Buffer): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), content);
}

const ODD = [
  "plain.txt",
  "with space.txt",
  "it's \"quoted\".txt",
  "$HOME and `cmd`.txt",
  "-leading-dash.txt",
  "glob*?[x].txt",
  "back\\slash.txt",
  "tab\there.txt",
  "new\nline.txt",
  "ünïcödé ✓.txt",
  "日本語.md",
  "#hash;semi&amp.txt",
  "deep/er/still/deeper.txt",
];

/** What kind of work a state holds, by the words orch must use for it. */
type Kind = "uncommitted" | "ignored" | "nested" | "branch" | "detached" | "operation" | "too-large" | "linked" | "bad-name";
const WORDS: Record<Kind, RegExp> = {
  uncommitted: /uncommitted change/,
  ignored: /ignored files? whose content is only there/,
  nested: /nested git repositor(y|ies)/,
  branch: /commits? (not merged into main|on no other branch)/,
  detached: /commits? on its detached HEAD/,
  operation: /a merge in progress/,
  "too-large": /over the 4\.0 KiB limit/,
  linked: /nested checkouts? whose repository lives elsewhere/,
  "bad-name": /not valid UTF-8/,
};

interface State {
  /** The case's temporary folder (removed when the case ends: a full run makes ~100). */
  dir: string;
  root: string;
  wt: string;
  env: Record<string, string>;
  kinds: Set<Kind>;
  /** Paths left out of comparisons: build output, files over the limit. */
  skipped: Set<string>;
  head: "branch" | "detached" | "other";
  /** What --force cannot save, and how the test takes it away again. */
  unsavable: { kind: Kind; clear: () => void }[];
  log: string[];
}

let counter = 0;

async function newProject(rnd: Random): Promise<{ dir: string; root: string; env: Record<string, string> }> {
  const dir = tempDir("orch-loss-");
  const root = join(dir, "the project");
  mkdirSync(root);
  ok(root, "init", "-q", "-b", "main");
  ok(root, "config", "user.email", "stress@orch.invalid");
  ok(root, "config", "user.name", "orch stress");
  ok(root, "config", "commit.gpgsign", "false");
  ok(root, "config", "orch.maxSaveSize", String(MAX_SAVE));
  put(root, ".gitignore", ".env\n*.local\nnode_modules/\ndist/\nign/\n*.log\n");
  if (rnd.chance(0.3)) put(root, ".gitattributes", "*.txt text=auto\n");
  for (const n of rnd.chance(0.5) ? ODD : ODD.slice(0, 4)) put(root, `tracked/${n}`, `tracked ${n}\n`);
  put(root, "conf/a.conf", "a\n");
  put(root, "conf/b.conf", "b\n");
  put(root, "README.md", "# project\n");
  put(root, "tool.sh", "#!/bin/sh\necho hi\n");
  ok(root, "add", "-A");
  ok(root, "commit", "-q", "-m", "initial");
  put(root, ".env", "SECRET=main\n");
  // Copied into every worktree by orch (and again by the restore's `orch worktree create`).
  put(root, ".claude/orchestration/orchestration-config.json", '{"worktree":{"copy":[".env"]}}\n');
  if (rnd.chance(0.5)) put(root, ".mcp.json", '{"mcpServers":{}}\n');
  const db = join(dir, "tasks.db");
  const store = await openStore(db);
  await createTask(store, { id: "T1", title: "work", metadata: { streamId: "Stream-B", streamPhase: "parallel" } });
  await store.close();
  return { dir, root, env: { ORCH_DB: db } };
}

function orch(s: { root: string; env: Record<string, string> }, ...args: string[]) {
  const p = Bun.spawnSync([orchBin(), ...args], { cwd: s.root, env: cleanEnv(s.env), stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

function commitIn(s: State, rnd: Random, what: string): void {
  const name = `${what}-${counter++}-${rnd.pick(ODD).replace(/\//g, "_")}`;
  put(s.wt, `work/${name}`, `${what} ${rnd.int(1e9)}\n`);
  ok(s.wt, "add", "-A", "--", "work");
  ok(s.wt, "commit", "-q", "-m", `${what} ${name}`, "--", "work"); // only this: what else is staged stays staged
  // On another branch a ref keeps it; on the stream's branch or a detached HEAD only the worktree does.
  if (s.head === "branch") s.kinds.add("branch");
  if (s.head === "detached") s.kinds.add("detached");
}

/** The menu of things a worktree can hold. Each records the kind of work it made, if any. */
/** A merge left in progress: no commit, no switch until it is finished. */
const merging = (s: State) => s.kinds.has("operation");

const OPS: [string, number, (s: State, rnd: Random) => void][] = [
  ["commit", 3, (s, rnd) => !merging(s) && commitIn(s, rnd, "commit")],
  ["detach", 1, (s) => {
    if (s.head === "detached" || merging(s)) return;
    ok(s.wt, "switch", "-q", "--detach");
    s.head = "detached";
  }],
  ["other branch", 1, (s) => {
    if (s.head !== "branch" || merging(s)) return;
    ok(s.wt, "switch", "-q", "-c", `other-${counter++}`);
    s.head = "other";
    s.kinds.delete("branch"); // the new branch holds every commit made so far
  }],
  ["tag shadows the branch", 1, (s) => {
    if (git(s.root, "rev-parse", "-q", "--verify", "refs/tags/stream-b").code !== 0) ok(s.root, "tag", "stream-b", "main");
  }],
  ["staged new file", 2, (s, rnd) => {
    put(s.wt, `staged/${rnd.pick(ODD)}`, `staged ${rnd.int(1e9)}\n`);
    ok(s.wt, "add", "-A", "--", "staged");
    s.kinds.add("uncommitted");
  }],
  ["partly staged", 1, (s, rnd) => {
    put(s.wt, "README.md", `staged ${rnd.int(1e9)}\n`);
    ok(s.wt, "add", "README.md");
    put(s.wt, "README.md", `then edited ${rnd.int(1e9)}\n`);
    s.kinds.add("uncommitted");
  }],
  ["unstaged edit", 2, (s, rnd) => {
    const files = ok(s.wt, "ls-files", "-z", "tracked").split("\0").filter(Boolean);
    put(s.wt, rnd.pick(files), `edited ${rnd.int(1e9)}\r\n${rnd.chance(0.5) ? "crlf\r\n" : "lf\n"}`);
    s.kinds.add("uncommitted");
  }],
  ["deleted tracked file", 1, (s) => {
    rmSync(join(s.wt, "conf/b.conf"), { force: true });
    s.kinds.add("uncommitted");
  }],
  ["untracked odd names", 2, (s, rnd) => {
    for (let i = rnd.range(1, 3); i > 0; i--) put(s.wt, `new/${rnd.pick(ODD)}`, `untracked ${rnd.int(1e9)}\n`);
    s.kinds.add("uncommitted");
  }],
  ["skip-worktree edit", 1, (s, rnd) => {
    ok(s.wt, "update-index", "--skip-worktree", "conf/a.conf");
    put(s.wt, "conf/a.conf", `hidden edit ${rnd.int(1e9)}\n`);
    s.kinds.add("uncommitted");
  }],
  ["assume-unchanged edit", 1, (s, rnd) => {
    ok(s.wt, "update-index", "--assume-unchanged", "tool.sh");
    put(s.wt, "tool.sh", `#!/bin/sh\necho ${rnd.int(1e9)}\n`);
    s.kinds.add("uncommitted");
  }],
  ["executable bit", 1, (s) => {
    chmodSync(join(s.wt, "README.md"), 0o755);
    s.kinds.add("uncommitted");
  }],
  ["edited .env copy", 2, (s, rnd) => {
    put(s.wt, ".env", `SECRET=edited ${rnd.int(1e9)}\n`);
    s.kinds.add("uncommitted"); // an edit to a file orch copied in
  }],
  ["ignored *.local and a folder of them", 2, (s, rnd) => {
    put(s.wt, `${rnd.pick(["dev", "my settings", "it's"])}.local`, `local ${rnd.int(1e9)}\n`);
    if (rnd.chance(0.5)) put(s.wt, `ign/${rnd.pick(ODD)}`, `ignored ${rnd.int(1e9)}\n`);
    s.kinds.add("ignored");
  }],
  ["build output", 2, (s, rnd) => {
    put(s.wt, `node_modules/pkg-${rnd.int(100)}/index.js`, "module.exports = 1;\n");
    put(s.wt, "dist/app.js", `built ${rnd.int(1e9)}\n`);
    s.skipped.add("node_modules").add("dist");
  }],
  ["over the size limit", 1, (s, rnd) => {
    put(s.wt, "big.log", "x".repeat(MAX_SAVE + 1 + rnd.int(1000)));
    s.skipped.add("big.log");
    s.kinds.add("too-large");
  }],
  ["nested repository", 1, (s, rnd) => {
    const at = `${rnd.pick(["vendor/lib", "ign/clone", "nested repo", "it's nested"])}-${counter++}`;
    const n = join(s.wt, at);
    put(n, "lib.txt", "v1\n");
    ok(n, "init", "-q", "-b", "main");
    ok(n, "config", "user.email", "n@x");
    ok(n, "config", "user.name", "n");
    ok(n, "add", "-A");
    ok(n, "commit", "-q", "-m", "nested one");
    put(n, "lib.txt", `dirty ${rnd.int(1e9)}\n`);
    put(n, `untracked ${rnd.pick(ODD)}`, "u\n");
    if (rnd.chance(0.5)) ok(n, "switch", "-q", "-c", "topic");
    s.kinds.add("nested");
  }],
  ["symbolic links", 1, (s, rnd) => {
    const name = `links/${rnd.pick(["to-readme", "dangling", "to dir"])}-${counter++}`;
    mkdirSync(join(s.wt, "links"), { recursive: true });
    symlinkSync(rnd.pick(["../README.md", "/nowhere/at/all", "../conf"]), join(s.wt, name));
    s.kinds.add("uncommitted");
  }],
  ["empty folder", 1, (s) => {
    mkdirSync(join(s.wt, "empty/folder"), { recursive: true });
  }],
  ["linked checkout inside", 0.3, (s) => {
    const other = join(dirname(s.root), `other-${counter++}`);
    mkdirSync(other);
    ok(other, "init", "-q", "-b", "main");
    ok(other, "-c", "user.email=o@x", "-c", "user.name=o", "commit", "-q", "--allow-empty", "-m", "o");
    const at = join(s.wt, `linked-${counter++}`);
    ok(other, "worktree", "add", "-q", "-b", "inside", at);
    s.kinds.add("linked");
    s.unsavable.push({ kind: "linked", clear: () => rmSync(at, { recursive: true, force: true }) });
  }],
  ["name that is not UTF-8", 0.3, (s) => {
    const path = Buffer.concat([Buffer.from(`${s.wt}/`), Buffer.from([0x6e, 0xff, 0xfe, 0x2e, 0x74, 0x78, 0x74])]);
    writeFileSync(path, "bytes\n");
    s.kinds.add("bad-name");
    s.unsavable.push({ kind: "bad-name", clear: () => rmSync(path, { force: true }) });
  }],
  ["merge left in progress", 0.3, (s, rnd) => {
    if (s.head === "other" || merging(s) || s.kinds.has("uncommitted")) return;
    ok(s.root, "branch", "-f", "conflicting", "main");
    const side = join(dirname(s.root), `side-${counter++}`);
    ok(s.root, "worktree", "add", "-q", side, "conflicting");
    put(side, "README.md", "their side\n");
    ok(side, "commit", "-q", "-am", "their side");
    ok(s.root, "worktree", "remove", "--force", side);
    commitIn(s, rnd, "our-side");
    put(s.wt, "README.md", "our side\n");
    ok(s.wt, "commit", "-q", "-am", "our side");
    git(s.wt, "merge", "conflicting");
    s.kinds.add("operation").add("uncommitted");
  }],
];

async function build(rnd: Random): Promise<State> {
  const { dir, root, env } = await newProject(rnd);
  const created = orch({ root, env }, "worktree", "create", "Stream-B");
  if (created.code !== 0) throw new Error(`create: ${created.stderr}`);
  const s: State = { dir, root, wt: join(root, ".claude/worktrees/Stream-B"), env, kinds: new Set(), skipped: new Set(), head: "branch", unsavable: [], log: [] };
  const total = OPS.reduce((n, [, w]) => n + w, 0);
  for (let i = rnd.range(0, 7); i > 0; i--) {
    let x = rnd.next() * total;
    const op = OPS.find(([, w]) => (x -= w) < 0) ?? OPS[0]!;
    s.log.push(op[0]);
    op[2](s, rnd);
  }
  return s;
}

const skipFor = (s: State) => (p: string) => s.skipped.has(p.split("/")[0]!);
/** The main checkout, orch's own bookkeeping aside. */
const mainPrint = (root: string) => fingerprint(root, (p) => p === ".claude");

function stepsFrom(stdout: string): string[] {
  const lines = stdout.split("\n");
  const at = lines.findIndex((l) => l.startsWith("  to get it back, run in "));
  if (at < 0) return [];
  const steps: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith("    ")) break;
    steps.push(l.slice(4));
  }
  return steps;
}

function restore(s: State, steps: string[]): void {
  const env = cleanEnv({ ...s.env, PATH: `${dirname(orchBin())}:${process.env.PATH}` });
  for (const step of steps) {
    const r = Bun.spawnSync(["sh", "-c", step], { cwd: s.root, env, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`restore step failed: ${step}\n${r.stderr.toString()}`);
  }
}

/** The same checkout: the index too, unless a merge was left in progress (its conflict stages are said not to be saved). */
function same(s: State, a: Fingerprint, b: Fingerprint): boolean {
  const drop = (f: Fingerprint) => (s.kinds.has("operation") ? { ...f, index: "(not compared)" } : f);
  return Bun.deepEquals(drop(a), drop(b));
}

function checkRefusal(s: State, r: { code: number; stderr: string }, before: Fingerprint, mainBefore: Fingerprint, onlyUnsavable: boolean): void {
  const ctx = `ops: ${s.log.join(", ")}`;
  expect({ ctx, code: r.code }).toEqual({ ctx, code: 1 });
  const expected = onlyUnsavable ? s.unsavable.map((u) => u.kind) : [...s.kinds];
  for (const k of expected) expect({ ctx, kind: k, named: WORDS[k].test(r.stderr), stderr: r.stderr }).toMatchObject({ ctx, kind: k, named: true });
  expect(fingerprint(s.wt, skipFor(s))).toEqual(before);
  expect(mainPrint(s.root)).toEqual(mainBefore);
}

interface Tally {
  refused: number;
  unsavable: number;
  saved: number;
  clean: number;
  files: number;
}

/** --force: saved, skipped named, and the printed steps bring it back. */
function forceAndRestore(s: State, ctx: string, mainBefore: Fingerprint, t: Tally): void {
  const before = fingerprint(s.wt, skipFor(s));
  const tipBefore = git(s.root, "rev-parse", "-q", "--verify", "refs/heads/stream-b").out.trim();
  const forced = orch(s, "worktree", "remove", "Stream-B", "--force");
  expect({ ctx, code: forced.code, stderr: forced.stderr }).toEqual({ ctx, code: 0, stderr: "" });
  for (const p of s.skipped) expect({ ctx, named: forced.stdout.includes(`  - ${p}`), stdout: forced.stdout }).toMatchObject({ ctx, named: true });
  expect(mainPrint(s.root)).toEqual(mainBefore);
  const steps = stepsFrom(forced.stdout);
  if (!steps.length) {
    // Nothing but files over the limit: named, not saved.
    expect({ ctx, kinds: [...s.kinds] }).toEqual({ ctx, kinds: ["too-large"] });
    return;
  }
  restore(s, steps);
  const after = fingerprint(s.wt, skipFor(s));
  if (!same(s, before, after)) expect({ ctx, after }).toEqual({ ctx, after: before });
  if (tipBefore) expect({ ctx, tip: git(s.root, "rev-parse", "refs/heads/stream-b").out.trim() }).toEqual({ ctx, tip: tipBefore });
  t.saved++;
  t.files += Object.keys(before.files).length + Object.values(before.nested).reduce((n, f) => n + Object.keys(f.files).length, 0);
}

async function oneState(rnd: Random, t: Tally): Promise<void> {
  const s = await build(rnd);
  try {
    judgeState(s, t);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
}

function judgeState(s: State, t: Tally): void {
  const ctx = `ops: ${s.log.join(", ") || "(none)"}`;
  const mainBefore = mainPrint(s.root);
  const before = fingerprint(s.wt, skipFor(s));
  if (!s.kinds.size) {
    const plain = orch(s, "worktree", "remove", "Stream-B");
    expect({ ctx, code: plain.code, stderr: plain.stderr }).toEqual({ ctx, code: 0, stderr: "" });
    for (const p of s.skipped) expect({ ctx, named: plain.stdout.includes(`  - ${p}`) }).toEqual({ ctx, named: true });
    expect(mainPrint(s.root)).toEqual(mainBefore);
    t.clean++;
    return;
  }
  checkRefusal(s, orch(s, "worktree", "remove", "Stream-B"), before, mainBefore, false);
  t.refused++;
  if (s.unsavable.length) {
    checkRefusal(s, orch(s, "worktree", "remove", "Stream-B", "--force"), before, mainBefore, true);
    t.unsavable++;
    for (const u of s.unsavable) {
      u.clear();
      s.kinds.delete(u.kind);
    }
    s.unsavable = [];
    if (!s.kinds.size) return;
  }
  forceAndRestore(s, ctx, mainBefore, t);
}

/** Two orch processes remove the same worktree at once: one saves and removes, the other finds nothing left; the save restores. */
async function oneRace(rnd: Random): Promise<void> {
  let s = await build(rnd);
  while (s.unsavable.length || ![...s.kinds].some((k) => k !== "too-large")) {
    rmSync(s.dir, { recursive: true, force: true });
    s = await build(rnd);
  }
  try {
    await judgeRace(s);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
}

async function judgeRace(s: State): Promise<void> {
  const ctx = `ops: ${s.log.join(", ")}`;
  const before = fingerprint(s.wt, skipFor(s));
  const run = () => Bun.spawn([orchBin(), "worktree", "remove", "Stream-B", "--force"], { cwd: s.root, env: cleanEnv(s.env), stdout: "pipe", stderr: "pipe" });
  const procs = [run(), run()];
  const results = await Promise.all(procs.map(async (p) => ({ code: await p.exited, stdout: await new Response(p.stdout).text(), stderr: await new Response(p.stderr).text() })));
  const winners = results.filter((r) => r.code === 0);
  expect({ ctx, winners: winners.length, results }).toMatchObject({ ctx, winners: 1 });
  expect(results.find((r) => r.code !== 0)!.stderr).toBe("orch: Stream Stream-B has no worktree\n");
  restore(s, stepsFrom(winners[0]!.stdout));
  const after = fingerprint(s.wt, skipFor(s));
  if (!same(s, before, after)) expect({ ctx, after }).toEqual({ ctx, after: before });
}

describe("worktree loss (adversarial)", () => {
  test(
    `${STATES} random worktree states: refused naming the work, or saved and restored byte for byte`,
    async () => {
      await seeded("worktree-loss", async (rnd) => {
        const t: Tally = { refused: 0, unsavable: 0, saved: 0, clean: 0, files: 0 };
        for (let i = 0; i < STATES; i++) await oneState(rnd.fork(), t);
        console.error(
          `[worktree-loss] ${STATES} states: ${t.refused} refused without --force (${t.unsavable} also with it, naming what cannot be saved), ${t.saved} saved and restored byte for byte (${t.files} files compared), ${t.clean} without work removed at once`,
        );
      });
    },
    timeout(60_000, 900_000),
  );

  test(
    `${RACES} races: two orch processes removing the same worktree at once`,
    async () => {
      await seeded("worktree-loss-race", async (rnd) => {
        for (let i = 0; i < RACES; i++) await oneRace(rnd.fork());
        console.error(`[worktree-loss-race] ${RACES} races of two \`orch worktree remove --force\`: each time one saved and removed, the other waited and found no worktree; every save restored byte for byte`);
      });
    },
    timeout(30_000, 300_000),
  );
});
