/**
 * What an agent working in the main checkout (foundation, integration) left uncommitted: every
 * tracked change, and untracked files that were not there when it was launched. Work that is not
 * committed is not on main, and parallel worktrees branch from main's commits, not its files.
 */
import { statusEntries } from "../git/repo.ts";
import { ORCHESTRATION_DIR, WORKTREES_DIR } from "../paths.ts";

const OWN = [`${ORCHESTRATION_DIR}/`, `${WORKTREES_DIR}/`];

export interface CheckoutChanges {
  tracked: string[];
  untracked: string[];
}

/** The main checkout's changes, orch's own folders aside; null outside a git repository. */
export function mainCheckoutChanges(root: string): CheckoutChanges | null {
  let entries;
  try {
    entries = statusEntries(root, { untracked: true });
  } catch {
    return null;
  }
  const untracked = entries.filter((e) => e.code === "??" && !OWN.some((d) => e.path.startsWith(d))).map((e) => e.path);
  return { tracked: entries.filter((e) => e.code !== "??").map((e) => e.path), untracked };
}

/** Pure: what the agent left, given the untracked files there were at its launch. */
export function leftUncommitted(now: CheckoutChanges, untrackedAtLaunch: readonly string[]): string[] {
  const before = new Set(untrackedAtLaunch);
  return [...now.tracked, ...now.untracked.filter((p) => !before.has(p))];
}
