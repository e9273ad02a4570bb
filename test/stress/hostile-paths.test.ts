/**
 * Hostile stream ids and file names everywhere orch builds a path (issue #9): worktrees
 * (`.claude/worktrees/<id>`), branches, logs (`.claude/orchestration/logs/<id>.log`), files the
 * simulated agent writes from `[files: …]`, worktree paths recorded in task metadata — through
 * the CLI, MCP, the API and a whole orchestrated run.
 *
 * Every refusal is one `orch:` line (exit 1 or 2) or a tool error, never a stack; nothing is
 * written outside the project and the database folder; canary files a hostile path points at
 * survive; every name orch creates under .claude/ is a valid id.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { tempDir } from "../helpers.ts";
import { HOSTILE_IDS } from "./harness/hostile.ts";
import { FULL } from "./harness/mode.ts";
import { McpProc } from "./harness/mcp-proc.ts";
import { cleanEnv, orchBin, serve } from "./harness/orch.ts";

const VALID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Ids that are fine as ids but look like trouble in a path or to git and tmux. */
const TRICKY_VALID = ["a..b", "stream.", "api.v2", "HEAD", "CON", "aux.txt", "x.lock", "X".repeat(128)];
/** Hostile values that survive being an argv element (no NUL: the OS refuses those itself). */
const ARGV_ALL = HOSTILE_IDS.filter((h) => !h.includes("\u0000") && h.length < 4000);
/** Quick mode: the traversal, option and metacharacter cases; STRESS=full: every one. */
const ARGV_HOSTILE = FULL ? ARGV_ALL : ARGV_ALL.filter((h) => /\.\.|^\/|^-|^~|\$|;|%2|^$|\n|^\.git$|^A{129}$/.test(h));

function snapshot(dir: string, skip: (rel: string) => boolean): Set<string> {
  const out = new Set<string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      const rel = relative(dir, full);
      if (skip(rel)) continue;
      out.add(rel);
      if (e.isDirectory() && !e.isSymbolicLink()) walk(full);
    }
  };
  walk(dir);
  return out;
}

describe("hostile ids and file names wherever a path is built", () => {
  test(
    "CLI, MCP, API and an orchestrated run: refused in one line, nothing written outside, canaries intact",
    async () => {
      const sandbox = tempDir("orch-stress-paths-");
      const root = join(sandbox, "project");
      const outside = join(sandbox, "outside");
      mkdirSync(root);
      mkdirSync(outside);
      mkdirSync(join(sandbox, "db"));
      writeFileSync(join(outside, "canary.txt"), "must survive\n");
      const sh = (...args: string[]) => {
        const p = Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
        if (p.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${p.stderr}`);
      };
      sh("init", "-q", "-b", "main");
      sh("config", "user.email", "s@orch.invalid");
      sh("config", "user.name", "stress");
      writeFileSync(join(root, "README.md"), "# project\n");
      writeFileSync(join(root, "canary.txt"), "project canary\n");
      sh("add", "-A");
      sh("commit", "-q", "-m", "initial");
      const db = join(sandbox, "db", "tasks.db");
      const env = cleanEnv({ HOME: sandbox, ORCH_DB: db });
      const problems: string[] = [];
      let commands = 0;

      const orch = (args: string[], allowed = [0, 1, 2], runEnv = env) => {
        commands++;
        const p = Bun.spawnSync([orchBin(), ...args], { cwd: root, env: runEnv, stdout: "pipe", stderr: "pipe" });
        const err = p.stderr.toString();
        const code = p.exitCode ?? -1;
        const what = `orch ${args.map((a) => JSON.stringify(a.length > 60 ? `${a.slice(0, 60)}…` : a)).join(" ")}`;
        if (!allowed.includes(code)) problems.push(`${what}: exit ${code} ${err.slice(0, 300)}`);
        else if (code !== 0 && !/^orch: [^\n]*\n$/.test(err)) problems.push(`${what}: exit ${code} with stderr ${JSON.stringify(err.slice(0, 300))}`);
        else if (/\n\s+at /.test(err)) problems.push(`${what}: stack trace`);
        return { code, out: p.stdout.toString(), err };
      };

      // A real stream to aim at, and tasks whose metadata points outside.
      orch(["task", "create", "--id", "OK-1", "--title", "ok", "--stream", "Stream-OK", "--files", "src/ok.ts"], [0]);
      const before = snapshot(sandbox, (r) => r.startsWith("db") || r.startsWith(join("project", ".git")));

      for (const h of [...ARGV_HOSTILE, ...TRICKY_VALID]) {
        for (const args of [
          ["worktree", "create", h],
          ["worktree", "merge", h],
          ["worktree", "remove", h, "--force"],
          ["continue", h],
          ["stream", "get", h],
          ["stream", "archive", h],
          ["task", "get", h],
          ["task", "update", h, "--notes", "x"],
          ["task", "create", "--title", "hostile", "--stream", h],
          ["task", "create", "--title", "hostile files", "--stream", "Stream-H", "--files", `${h},src/fine.ts`],
          ["start", "--stream", h, "--dry-run"],
        ])
          orch(args);
      }
      // Stream ids git would not take as a branch name are refused up front, in one line.
      for (const id of ["a..b", "stream.", "x.lock"]) {
        const r = orch(["task", "create", "--title", `tricky ${id}`, "--stream", id], [2]);
        expect(r.err).toStartWith("orch: metadata.streamId: a stream id may not");
        expect(orch(["worktree", "create", id], [2]).err).toStartWith(`orch: invalid stream id "${id}": a stream id may not`);
      }
      // Valid but tricky ids: a worktree inside .claude/worktrees named as given.
      for (const id of ["api.v2", "HEAD", "CON"]) {
        orch(["task", "create", "--title", `tricky ${id}`, "--stream", id], [0]);
        const r = orch(["worktree", "create", id], [0, 2]);
        if (r.code === 0) expect(existsSync(join(root, ".claude", "worktrees", id, "README.md"))).toBe(true);
        else expect(r.err).toBe(`orch: stream id ${id} does not make a valid git branch name ("${id.toLowerCase()}")\n`);
      }

      // Recorded worktree paths that point outside, at the project itself, or elsewhere.
      for (const [i, target] of [outside, root, join(root, ".."), "/", join(outside, "canary.txt"), "../../outside", join(root, ".git")].entries()) {
        const id = `Stream-Meta${i}`;
        orch(["task", "create", "--title", "meta", "--stream", id, "--metadata", JSON.stringify({ worktreePath: target, branchName: `../../${id}` })], [0]);
        orch(["worktree", "remove", id]);
        orch(["worktree", "remove", id, "--force"]);
        orch(["worktree", "merge", id]);
        orch(["continue", id]);
      }

      // The same through MCP: tool errors, not crashes.
      const mcp = McpProc.spawn(orchBin(), ["mcp"], { env, cwd: root });
      await mcp.initialize();
      for (const h of HOSTILE_IDS) {
        for (const [name, args] of [
          ["worktree_create", { streamId: h }],
          ["worktree_merge", { streamId: h }],
          ["worktree_cleanup", { streamId: h, force: true }],
          ["stream_get", { streamId: h }],
          ["task_create", { title: "mcp hostile", metadata: { streamId: "Stream-H", files: [h || "x"], worktreePath: h, branchName: h } }],
        ] as const) {
          commands++;
          const r = await mcp.call(name, args);
          if (/\n\s+at /.test(r.text) || /^[a-z_]+ failed: /.test(r.text)) problems.push(`${name} ${JSON.stringify(h).slice(0, 60)}: ${r.text.slice(0, 300)}`);
        }
      }
      mcp.closeStdin();
      expect(await mcp.exited).toBe(0);

      // And through the API: 400/404 JSON.
      const server = await serve(db, { env: { HOME: sandbox }, cwd: root });
      for (const h of HOSTILE_IDS) {
        commands++;
        const res = await fetch(`${server.url}/api/streams/${encodeURIComponent(h)}`);
        if (res.status >= 500 || !(res.headers.get("content-type") ?? "").startsWith("application/json")) problems.push(`GET /api/streams/${JSON.stringify(h).slice(0, 60)}: ${res.status}`);
        await res.arrayBuffer();
      }
      expect(await server.stop()).toBe(0);

      // An orchestrated run whose tasks name hostile files: the simulated agent writes inside its
      // working tree only; logs are named after valid ids only.
      const prd = [
        "# Initiative: Hostile files",
        "## Foundation Phase",
        "### Stream-HF: Base",
        `- HF-1: traversal [files: ../../outside/pwned.txt, /tmp/orch-pwned-${process.pid}, ~/pwned, src/base.ts]`,
        "## Parallel Phase",
        "### Stream-HP.v2: Dotted",
        `- HP-1: more [files: ../../../outside/pwned2.txt, .git/hooks/pre-commit, src/side.ts]`,
      ].join("\n");
      writeFileSync(join(sandbox, "hostile-prd.md"), prd);
      // Its own database: the streams made above (no initiative) would join this run otherwise.
      const runEnv = cleanEnv({ HOME: sandbox, ORCH_DB: join(sandbox, "db", "run.db") });
      orch(["prd", "import", join(sandbox, "hostile-prd.md")], [0], runEnv);
      const agent = `${orchBin()} agent-sim {streamId} --pause 20`;
      const run = orch(["start", "--launcher", "headless", "--agent-cmd", agent], [0], runEnv);
      expect(run.out).toContain("Stream-HF complete");
      expect(run.out).toContain("Stream-HP.v2 complete");
      expect(run.out).toContain("All 2 streams complete");

      expect(problems).toEqual([]);
      // Nothing outside the project changed; canaries intact; no pwned file anywhere we can see.
      const after = snapshot(sandbox, (r) => r.startsWith("db") || r.startsWith(join("project", ".git")));
      const added = [...after].filter((p) => !before.has(p));
      const outsideProject = added.filter((p) => !p.startsWith(`project${"/"}`) && p !== "hostile-prd.md");
      expect(outsideProject).toEqual([]);
      // Inside the project a hostile name is just a name (`~/pwned` is a folder called "~"); git's
      // own files are never written.
      expect(existsSync(join(root, ".git", "hooks", "pre-commit"))).toBe(false);
      expect(readFileSync(join(outside, "canary.txt"), "utf8")).toBe("must survive\n");
      expect(readFileSync(join(root, "canary.txt"), "utf8")).toBe("project canary\n");
      expect(existsSync(`/tmp/orch-pwned-${process.pid}`)).toBe(false);
      expect(existsSync("/tmp/orch-pwned")).toBe(false);
      expect(statSync(join(root, ".git")).isDirectory()).toBe(true);
      const worktrees = readdirSync(join(root, ".claude", "worktrees"));
      expect(worktrees.filter((w) => !VALID.test(w))).toEqual([]);
      const logs = existsSync(join(root, ".claude", "orchestration", "logs")) ? readdirSync(join(root, ".claude", "orchestration", "logs")) : [];
      expect(logs.filter((l) => !VALID.test(l.replace(/\.log$/, "")))).toEqual([]);
      console.error(`hostile-paths: ${commands} commands, calls and requests with ${HOSTILE_IDS.length} hostile ids; files added: ${added.length}, none outside the project`);
    },
    120_000,
  );
});
