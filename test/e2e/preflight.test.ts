/**
 * `orch start`'s preflight from the compiled binary on real repositories: each problem is one
 * `orch:` line, exit 2, and no agent is started (the simulated agent records every start).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commit, gitStatus } from "../git/repo-helpers.ts";
import { backendArgs } from "../backend.ts";
import { orchBin, runOrch, tempDir } from "../helpers.ts";
import { freePort, PRD_GUIDE, readRecords, setup, startsOf } from "./start-helpers.ts";

const HEADLESS = ["--launcher", "headless"];
const INIT_CMD = 'git add .mcp.json .claude/commands/continue.md .claude/commands/orchestration.md .gitignore && git commit -m "orch init"';
const SMALL = "# Initiative: Small\n\n## Foundation Phase\n### Stream-A: Core\n- TASK-001: one\n\n## Parallel Phase\n### Stream-B: API\n- TASK-002: two\n";

describe("orch start preflight", () => {
  test("outside a git repository with a parallel stream: exit 2, one line, no agent started, nothing written", async () => {
    const root = join(tempDir("orch-nogit-"), "plain dir");
    mkdirSync(root);
    const db = join(tempDir(), "tasks.db");
    const record = join(tempDir(), "timeline.jsonl");
    writeFileSync(join(root, "PRD.md"), PRD_GUIDE);
    const run = (args: string[]) => runOrch(args, { cwd: root, env: { ORCH_DB: db } });
    expect((await run(["prd", "import", "PRD.md"])).code).toBe(0);
    const sim = `"${orchBin()}" agent-sim {streamId} --pause 20 --record "${record}"`;
    const r = await run(["start", ...HEADLESS, "--agent-cmd", sim]);
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: `orch: not a git repository: ${root} (worktrees need one: run "git init" and commit first); needed for the worktrees of Stream-B, Stream-C\n`,
    });
    expect(readRecords(record)).toEqual([]);
    expect(existsSync(join(root, ".claude"))).toBe(false);

    // The dry run says the same, and still exits 0.
    const dry = await run(["start", "--dry-run", ...HEADLESS, "--agent-cmd", sim]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`\nPreflight:\n  ✖ not a git repository: ${root} (worktrees`);
    expect(dry.stdout).toEndWith("orch start would refuse to launch until the ✖ lines are fixed.\n");
    // A stream that needs no worktree may run outside git.
    const a = await run(["start", "--dry-run", "--stream", "Stream-A", ...HEADLESS, "--agent-cmd", sim]);
    expect(a.stdout).toContain("\nPreflight:\n  ✓ not a git repository (none needed: no parallel stream in this run)\n");
  });

  test("orch init's files left uncommitted (a tracked .gitignore changed): exit 2 naming them and the commit command; committed, the run merges", async () => {
    const p = await setup(SMALL);
    commit(p.root, { ".gitignore": "node_modules/\n" }, "ignore");
    const init = await p.orch(["init"]);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`\n\nCommit these so orch start can merge: ${INIT_CMD}\n\nNext: `);
    expect(JSON.parse((await p.orch(["init", "--json"])).stdout).commit).toEqual([".mcp.json", ".claude/commands/continue.md", ".claude/commands/orchestration.md", ".gitignore"]);

    const args = [...HEADLESS, "--agent-cmd", p.sim("--pause 20")];
    const r = await p.orch(["start", ...args]);
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: `orch: the main checkout has uncommitted changes (.mcp.json, .claude/commands/continue.md, .claude/commands/orchestration.md, .gitignore): orch init's files; commit them so orch start can merge: ${INIT_CMD}\n`,
    });
    expect(p.records()).toEqual([]);
    expect(existsSync(join(p.root, ".claude/orchestration"))).toBe(false);
    // --resume and --stream runs are checked too (merges need the clean checkout).
    expect((await p.orch(["start", "--stream", "Stream-A", ...args])).code).toBe(2);

    // The command it names, as given, through a shell: then init has nothing to say and the run merges.
    const sh = Bun.spawnSync(["sh", "-c", INIT_CMD], { cwd: p.root, stdout: "pipe", stderr: "pipe" });
    expect(sh.exitCode).toBe(0);
    expect(gitStatus(p.root)).toBe("");
    const again = await p.orch(["init"]);
    expect(again.stdout).not.toContain("Commit these");
    expect(JSON.parse((await p.orch(["init", "--json"])).stdout).commit).toEqual([]);
    const ok = await p.orch(["start", ...args]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^⇄ Stream-B merged into main \([0-9a-f]{7}\)$/m);
    expect(startsOf(p.records()).map((s) => s.stream)).toEqual(["Stream-A", "Stream-B"]);
  });

  test("other uncommitted work: named; orch's own untracked files are not", async () => {
    const p = await setup(SMALL);
    writeFileSync(join(p.root, "README.md"), "# changed\n");
    writeFileSync(join(p.root, "notes.txt"), "mine\n");
    mkdirSync(join(p.root, ".claude/orchestration"), { recursive: true });
    writeFileSync(join(p.root, ".claude/orchestration/orchestration-config.json"), "{}");
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", p.sim("--pause 20")]);
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: "orch: the main checkout has uncommitted changes (README.md, notes.txt): commit or stash them first (agents commit and orch merges there)\n",
    });
    expect(p.records()).toEqual([]);
  });

  test("agent command not found: exit 2 before anything starts; Claude Code without orch init: one more line", async () => {
    const p = await setup(PRD_GUIDE);
    const r = await p.orch(["start", ...HEADLESS, "--agent-cmd", "nope-not-installed {streamId}"]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: "orch: agent command not found on PATH: nope-not-installed (install it, or choose another with --agent-cmd)\n" });
    const rel = await p.orch(["start", ...HEADLESS, "--agent-cmd", "./bin/agent {streamId}"]);
    expect(rel).toEqual({ code: 2, stdout: "", stderr: `orch: agent command not found: ${join(p.root, "bin/agent")} (no such file; choose another with --agent-cmd)\n` });

    // The default agent (claude) with a PATH that lacks it, in a project never wired by orch init.
    const bin = tempDir();
    symlinkSync(Bun.which("git")!, join(bin, "git"));
    const port = freePort();
    const claude = await p.orch(["start", ...HEADLESS], { PATH: bin, HTTP_API_PORT: String(port) });
    expect(claude.code).toBe(2);
    expect(claude.stdout).toBe("");
    expect(claude.stderr.split("\n")).toEqual([
      "orch: .mcp.json is missing and .claude/commands/continue.md is missing: run orch init (Claude Code reaches orch and works a stream through them)",
      "orch: agent command not found on PATH: claude (install it, or choose another with --agent-cmd)",
      "",
    ]);
    expect(existsSync(join(p.root, ".claude"))).toBe(false);
    expect(p.records()).toEqual([]);
  });

  test("HTTP_API_PORT held by another project's orch, or by a program that is not orch: exit 2 naming the port; our own orch is fine; the token is never sent", async () => {
    const p = await setup(SMALL);
    const args = [...HEADLESS, "--agent-cmd", p.sim("--pause 20")];
    const port = freePort();
    const other = Bun.spawn([orchBin(), ...backendArgs(p.root, ["serve", "--port", String(port), "--db", join(tempDir(), "other.db")])], { stdout: "ignore", stderr: "pipe" });
    try {
      await waitForHealth(port);
      const r = await p.orch(["start", ...args], { HTTP_API_PORT: String(port) });
      expect(r).toEqual({
        code: 2,
        stdout: "",
        stderr: `orch: API port 127.0.0.1:${port} is held by another project's orch (another database): stop it, or give this project another port (HTTP_API_PORT, and in .mcp.json)\n`,
      });
      expect(p.records()).toEqual([]);
    } finally {
      other.kill();
      await other.exited;
    }

    // This project's own orch on the port: fine.
    const own = Bun.spawn([orchBin(), ...backendArgs(p.root, ["serve", "--port", String(port), "--db", p.db])], { stdout: "ignore", stderr: "pipe" });
    try {
      await waitForHealth(port);
      const dry = await p.orch(["start", "--dry-run", ...args], { HTTP_API_PORT: String(port) });
      expect(dry.stdout).toContain(`  ✓ API port 127.0.0.1:${port} served by an orch on this project's database\n`);
    } finally {
      own.kill();
      await own.exited;
    }

    // Something else: refused, and it never sees ORCH_API_TOKEN.
    const auth: (string | null)[] = [];
    const foreign = Bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch(req) {
        auth.push(req.headers.get("authorization"));
        return Response.json({ status: "ok" });
      },
    });
    try {
      const r = await p.orch(["start", ...args], { HTTP_API_PORT: String(port), ORCH_API_TOKEN: "s3cret-token" });
      expect(r).toEqual({
        code: 2,
        stdout: "",
        stderr: `orch: API port 127.0.0.1:${port} is in use by a program that is not orch: stop it, or give this project another port (HTTP_API_PORT, and in .mcp.json)\n`,
      });
      expect(auth.length).toBeGreaterThan(0);
      expect(auth).toEqual(auth.map(() => null));
    } finally {
      foreign.stop(true);
    }
    expect(p.records()).toEqual([]);
  });

  test("--dry-run shows the Preflight section (✓ ⚠ ✖ per check) and --json carries it; exit 0", async () => {
    const p = await setup(SMALL);
    const port = String(freePort());
    const manual = await p.orch(["start", "--dry-run"], { HTTP_API_PORT: port });
    expect(manual.code).toBe(0);
    expect(manual.stdout).toEndWith(
      [
        "Preflight:",
        `  ✓ git repository at ${p.root}`,
        "  ✓ main checkout clean",
        "  ⚠ .mcp.json is missing and .claude/commands/continue.md is missing: run orch init (Claude Code reaches orch and works a stream through them)",
        `  ✓ API port 127.0.0.1:${port} free`,
        "",
      ].join("\n"),
    );
    const headless = await p.orch(["start", "--dry-run", ...HEADLESS, "--agent-cmd", "nope-not-installed {streamId}"], { HTTP_API_PORT: port });
    expect(headless.code).toBe(0);
    expect(headless.stdout).toEndWith(
      [
        "  ✖ agent command not found on PATH: nope-not-installed (install it, or choose another with --agent-cmd)",
        `  ✓ API port 127.0.0.1:${port} free`,
        "orch start would refuse to launch until the ✖ lines are fixed.",
        "",
      ].join("\n"),
    );
    const json = JSON.parse((await p.orch(["start", "--dry-run", "--json", ...HEADLESS, "--agent-cmd", p.sim()], { HTTP_API_PORT: port })).stdout);
    expect(json.preflight).toEqual([
      { check: "git", ok: true, line: `git repository at ${p.root}` },
      { check: "clean", ok: true, line: "main checkout clean" },
      { check: "agent-command", ok: true, line: `agent command found: ${orchBin()}` },
      { check: "api-port", ok: true, line: `API port 127.0.0.1:${port} free` },
    ]);
    expect(p.records()).toEqual([]);
  });
});

async function waitForHealth(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await Bun.sleep(25);
  }
  throw new Error(`orch serve did not answer on ${port}`);
}
