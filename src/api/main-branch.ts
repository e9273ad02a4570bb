/**
 * The branch checked out in the project's main worktree, shown as `branchName` for streams that
 * work there (the guide's foundation stream shows "main"). Looked up once when a server starts.
 */
import { findProjectRoot } from "../config.ts";
import { currentBranch } from "../git/repo.ts";

export function mainCheckoutBranch(cwd: string = process.cwd()): string | null {
  return currentBranch(findProjectRoot(cwd)); // null: detached HEAD, not a repository, or no git
}
