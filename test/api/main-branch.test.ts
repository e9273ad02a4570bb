import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { mainCheckoutBranch } from "../../src/api/main-branch.ts";
import { tempDir } from "../helpers.ts";

function git(cwd: string, ...args: string[]) {
  const p = Bun.spawnSync(["git", "-c", "user.email=t@t", "-c", "user.name=t", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString().trim();
}

describe("mainCheckoutBranch", () => {
  test("the main checkout's branch, also when asked from a stream worktree; null when detached or outside git", () => {
    const repo = tempDir();
    git(repo, "init", "-q", "-b", "trunk");
    git(repo, "commit", "-q", "--allow-empty", "-m", "init");
    expect(mainCheckoutBranch(repo)).toBe("trunk");
    const wt = join(repo, ".claude", "worktrees", "Stream-B");
    git(repo, "worktree", "add", "-q", "-b", "stream-b", wt);
    expect(mainCheckoutBranch(wt)).toBe("trunk");
    git(repo, "checkout", "-q", "--detach");
    expect(mainCheckoutBranch(repo)).toBeNull();
    expect(mainCheckoutBranch(tempDir())).toBeNull();
  });
});
