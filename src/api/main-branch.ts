/**
 * The branch checked out in the project's main worktree, shown as `branchName` for streams that
 * work there (the guide's foundation stream shows "main"). Looked up once when a server starts.
 */
import { findProjectRoot } from "../config.ts";

export function mainCheckoutBranch(cwd: string = process.cwd()): string | null {
  try {
    const p = Bun.spawnSync(["git", "symbolic-ref", "--quiet", "--short", "HEAD"], {
      cwd: findProjectRoot(cwd),
      stdout: "pipe",
      stderr: "ignore",
    });
    const name = p.exitCode === 0 ? p.stdout.toString().trim() : "";
    return name || null; // detached HEAD or not a git repository
  } catch {
    return null; // no git on PATH
  }
}
