/** `orch start --launcher tmux` against the real tmux, and the error when tmux is missing. */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { realpathSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { hasTmux } from "../tmux.ts";
import { tempDir } from "../helpers.ts";
import { agentsGone, imported, startsOf } from "./start-helpers.ts";

const tmux = (...args: string[]) => Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });

describe("orch start --launcher tmux", () => {
  test.skipIf(!hasTmux)("one session orchestration-<first 8 of the initiative id>, a window per stream in its directory, the agent typed in", async () => {
    const name = randomBytes(3).toString("hex");
    // A stream id with a dot: tmux reads "a.b" in a target as window a, pane b.
    const p = await imported(`# Initiative: ${name} tmux

## Foundation Phase
### Stream-A: Core
- TASK-001: one

## Parallel Phase
### Stream-B: API
- TASK-002: two
### UI.v2: Pages
- TASK-003: three

## Integration Phase
### Stream-D: Tests
- TASK-004: four
`);
    const session = `orchestration-INIT-${name.slice(0, 3)}`;
    expect(tmux("has-session", "-t", `=${session}`).exitCode).not.toBe(0);
    try {
      const r = await p.orch(["start", "--launcher", "tmux", "--agent-cmd", p.sim("--pause 20")]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`▶ Stream-A (foundation) started: tmux window ${session}:Stream-A\n`);
      expect(r.stdout).toContain(`▶ UI.v2 (parallel) started: tmux window ${session}:UI.v2\n`);
      expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("✓ All 4 streams complete.");

      const windows = tmux("list-windows", "-t", `=${session}`, "-F", "#{window_name}|#{pane_current_path}").stdout.toString().trim().split("\n");
      const root = realpathSync(p.root);
      expect(windows).toEqual([
        `Stream-A|${root}`,
        `Stream-B|${join(root, ".claude/worktrees/Stream-B")}`,
        `UI.v2|${join(root, ".claude/worktrees/UI.v2")}`,
        `Stream-D|${root}`,
      ]);
      const recs = p.records();
      expect(startsOf(recs).map((s) => s.stream).sort()).toEqual(["Stream-A", "Stream-B", "Stream-D", "UI.v2"]);
      // The agents got their database through the window's environment.
      expect(JSON.parse((await p.orch(["stream", "list", "--json"])).stdout).streams.every((s: { status: string }) => s.status === "completed")).toBe(true);

      // Again in the same session: another window of the same name is still addressed exactly.
      expect((await p.orch(["task", "update", "TASK-004", "--status", "pending"])).code).toBe(0);
      const again = await p.orch(["start", "--stream", "Stream-D", "--launcher", "tmux", "--agent-cmd", p.sim("--pause 20")]);
      expect(again.stderr).toBe("");
      expect(again.code).toBe(0);
      expect(tmux("list-windows", "-t", `=${session}`, "-F", "#{window_name}").stdout.toString().trim().split("\n")).toEqual(["Stream-A", "Stream-B", "UI.v2", "Stream-D", "Stream-D"]);
      expect(startsOf(p.records(), "Stream-D")).toHaveLength(2);
      await agentsGone(p.records());
    } finally {
      tmux("kill-session", "-t", `=${session}`);
    }
  });

  test("tmux missing from PATH: one clear line, exit 1, nothing launched", async () => {
    const p = await imported("# Initiative: No Tmux\n\n## Foundation Phase\n### Stream-A: Core\n- TASK-001: one\n");
    const bin = tempDir();
    symlinkSync(Bun.which("git")!, join(bin, "git"));
    const r = await p.orch(["start", "--launcher", "tmux", "--agent-cmd", p.sim()], { PATH: bin });
    expect(r).toEqual({ code: 1, stdout: "", stderr: "orch: tmux is not installed (e.g. apt-get install tmux), or choose --launcher headless|manual\n" });
    expect(p.records()).toEqual([]);
  });
});
