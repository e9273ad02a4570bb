/** Real temporary git repositories for the worktree tests (a space in the path on purpose). */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "../helpers.ts";

/** Run git in `cwd` (argument array); throws with git's stderr when it fails. */
export function sh(cwd: string, ...args: string[]): string {
  const p = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
  if (p.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${p.stderr.toString()}`);
  return p.stdout.toString();
}

export function gitStatus(cwd: string): string {
  return sh(cwd, "status", "--porcelain", "--untracked-files=all");
}

export function write(root: string, rel: string, content: string): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}

/** Write files and commit them in `cwd`. */
export function commit(cwd: string, files: Record<string, string>, message: string): string {
  for (const [rel, content] of Object.entries(files)) write(cwd, rel, content);
  sh(cwd, "add", "-A", "--", ...Object.keys(files));
  sh(cwd, "commit", "-q", "-m", message);
  return sh(cwd, "rev-parse", "HEAD").trim();
}

/** A repository on branch main with one commit, identity set locally. */
export function tempRepo(): string {
  const root = join(tempDir("orch-wt-"), "my project");
  mkdirSync(root);
  sh(root, "init", "-q", "-b", "main");
  sh(root, "config", "user.email", "dev@example.com");
  sh(root, "config", "user.name", "Dev");
  sh(root, "config", "commit.gpgsign", "false");
  commit(root, { "README.md": "# project\n", "src/shared.ts": "export const a = 1;\nexport const b = 2;\nexport const c = 3;\n" }, "initial");
  return root;
}
