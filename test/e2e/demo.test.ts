import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runOrch, tempDir } from "../helpers.ts";

function git(cwd: string, ...args: string[]): string {
  return Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe" }).stdout.toString();
}

describe("orch demo", () => {
  test("runs the Dark Mode initiative to the end: every stream complete, both parallel branches merged", async () => {
    const dir = join(tempDir(), "demo");
    // As on a fresh machine: git knows no identity, and a global config that would sign commits.
    const home = tempDir();
    const globalConfig = join(home, "gitconfig");
    writeFileSync(globalConfig, "[commit]\n\tgpgsign = true\n");
    const env = { HOME: home, GIT_CONFIG_GLOBAL: globalConfig, GIT_CONFIG_NOSYSTEM: "1", EMAIL: undefined };
    const r = await runOrch(["demo", "--dir", dir, "--pause", "10", "--port", "0"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("✓ All 4 streams complete.");
    expect(r.stdout).toContain("Overall: ████████████████████ 100.0% (15/15 tasks) ✓ COMPLETE");
    expect(r.stdout).toContain("API      http://127.0.0.1:");
    // The order the guide prescribes, as the run reported it (B and C may finish either way round).
    const at = (s: string) => {
      const i = r.stdout.indexOf(s);
      expect(i).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(at("▶ Stream-A")).toBeLessThan(at("✓ Stream-A complete"));
    for (const p of ["Stream-B", "Stream-C"]) {
      expect(at("✓ Stream-A complete")).toBeLessThan(at(`▶ ${p}`));
      expect(at(`✓ ${p} complete`)).toBeLessThan(at(`⇄ ${p} merged`));
      expect(at(`⇄ ${p} merged`)).toBeLessThan(at("▶ Stream-Z"));
    }
    expect(at("▶ Stream-Z")).toBeLessThan(at("✓ Stream-Z complete"));

    const project = join(dir, "project");
    expect(git(project, "status", "--porcelain")).toBe("");
    expect(git(project, "branch", "--merged", "main")).toContain("stream-b");
    expect(git(project, "branch", "--merged", "main")).toContain("stream-c");
    expect(git(project, "log", "--oneline").split("\n").filter(Boolean).length).toBe(1 + 15 + 2);
    expect(existsSync(join(project, ".claude", "orchestration", "orchestration-state.json"))).toBe(true);
    const streams = JSON.parse((await runOrch(["stream", "list", "--json", "--db", join(dir, "tasks.db")])).stdout);
    expect(streams.streams.map((s: { status: string }) => s.status)).toEqual(["completed", "completed", "completed", "completed"]);
  }, 60_000);

  test("refuses a folder that is not empty", async () => {
    const dir = tempDir();
    await Bun.write(join(dir, "keep.txt"), "mine");
    const r = await runOrch(["demo", "--dir", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`orch: --dir ${dir} is not empty: give a new or empty folder\n`);
  });
});
