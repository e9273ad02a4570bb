/**
 * The run's one printer, pure: every thing `orch start` tells a person (and the webhook) is a
 * note here, rendered to its lines and webhook text. The run decides and acts; this says.
 */
import type { StreamPhase } from "../core/schemas.ts";
import { STATE_FILE } from "../paths.ts";

export type RunNote =
  | { kind: "header"; name: string; streams: number; launcher: string; maxParallel: number; resumed: boolean }
  | { kind: "phase"; phase: StreamPhase }
  | { kind: "worktree-created"; path: string; branch: string }
  | { kind: "starting"; streamId: string; phase: StreamPhase }
  | { kind: "started"; streamId: string; phase: StreamPhase; restarts: number; restartLimit: number; again: boolean; description: string }
  | { kind: "adopted"; streamId: string; pid: number }
  | { kind: "awaiting-exit"; streamId: string; parallel: boolean }
  | { kind: "complete"; streamId: string; phase: StreamPhase; done: number; total: number }
  | { kind: "merged"; streamId: string; into: string; commit: string | null }
  | { kind: "conflict"; streamId: string; branch: string; into: string; files: string[]; root: string }
  | { kind: "uncommitted"; streamId: string; worktree: string; shownAs: string; files: string[] }
  | { kind: "off-branch"; streamId: string; worktree: string; shownAs: string; checkedOut: string; branch: string }
  | { kind: "merge-error"; streamId: string; message: string }
  | { kind: "branch-gone"; streamId: string; worktree: string }
  | { kind: "stray"; streamId: string; where: string; branch: string; commits: string[] }
  | { kind: "main-moved"; streamId: string; branch: string | null; expected: string }
  | { kind: "denied"; streamId: string; detail: string; rule: string }
  | { kind: "failed-denied"; streamId: string; denials: number }
  | { kind: "restarting"; streamId: string; exitCode: number | null; left: number; restarts: number; restartLimit: number }
  | { kind: "failed-limit"; streamId: string; phase: StreamPhase; launches: number; restartLimit: number }
  | { kind: "failed-start"; streamId: string; phase: StreamPhase | null; message: string }
  | { kind: "stalled"; streamId: string; idle: string }
  | { kind: "run-complete"; only: string | null; done: number; total: number }
  | { kind: "run-stopped"; still: string | null }
  | { kind: "run-failed"; done: number; total: number; failed: string[] }
  | { kind: "still-running"; agents: { streamId: string; pid: number | null }[] }
  /** streamId null: the initiative's budget, which pauses every stream. */
  | { kind: "budget-reached"; streamId: string | null; spent: string; command: string; inboxId: number; agentRunning: boolean }
  | { kind: "budget-paused"; streamId: string; spent: string; command: string }
  | { kind: "budget-resumed"; streamId: string; left: string }
  | { kind: "waiting-budget"; streams: string[] }
  | { kind: "permission-asked"; streamId: string | null; agent: string | null; tool: string; inboxId: number }
  /** Another machine's live claim holds the stream: this run leaves it alone. */
  | { kind: "claimed-elsewhere"; streamId: string; machine: string; pid: number; expiresAt: string }
  /** The stream's last holder stopped renewing its lease: this run takes it over. */
  | { kind: "took-over"; streamId: string; machine: string; pid: number }
  /** This run's claim ran out and someone else has the stream now: its agent here is stopped. */
  | { kind: "claim-lost"; streamId: string; pid: number | null; worktree: string | null }
  /** Team runs: a stream's work went to the team's remote. */
  | { kind: "pushed"; streamId: string; remote: string; branch: string; commit: string }
  /** The database cannot be reached: the run waits for it (agents here stop before their claims run out). */
  | { kind: "db-unreachable"; message: string }
  | { kind: "db-back" }
  /** Team runs: a stream taken up here from the work another machine pushed. */
  | { kind: "adopted-push"; streamId: string; remote: string; commit: string }
  /** Team runs: a stream done on another machine, its work now here. */
  | { kind: "arrived"; streamId: string; remote: string; commit: string };

export interface Said {
  lines: string[];
  webhook?: string;
}

const PHASE_TITLE = { foundation: "Phase 1: Foundation", parallel: "Phase 2: Parallel", integration: "Phase 3: Integration" } as const;

export const preview = (files: readonly string[]) => `${files.slice(0, 5).join(", ")}${files.length > 5 ? `, … (${files.length} files)` : ""}`;

export function say(n: RunNote): Said {
  switch (n.kind) {
    case "header":
      return { lines: [`orch start — ${n.name}: ${n.streams} streams, launcher ${n.launcher}, at most ${n.maxParallel} at once${n.resumed ? " (resumed)" : ""}`] };
    case "phase":
      return { lines: [`${PHASE_TITLE[n.phase]}\n${"─".repeat(56)}`] };
    case "worktree-created":
      return { lines: [`✓ Worktree created: ${n.path} (branch ${n.branch})`] };
    case "starting":
      // The guide's start-streams.py line; the launcher's own (manual prints its steps) follows.
      return { lines: [`Starting ${n.streamId} (${n.phase})...`] };
    case "started":
      // Launched again after a budget raise is not a restart: no count to show.
      return { lines: [`▶ ${n.streamId} (${n.phase}) started${n.again ? (n.restarts ? ` again (restart ${n.restarts} of ${n.restartLimit})` : " again") : ""}: ${n.description}`] };
    case "adopted":
      return { lines: [`↺ ${n.streamId}: its agent is still running (pid ${n.pid}); following it`] };
    case "awaiting-exit":
      return { lines: [`… ${n.streamId}: all tasks done; waiting for its agent to end before ${n.parallel ? "merging" : "going on"}`] };
    case "complete":
      return { lines: [`✓ ${n.streamId} complete (${n.done}/${n.total} tasks)`], webhook: `✓ ${n.streamId} complete! (${n.phase} phase)` };
    case "merged":
      return { lines: [n.commit ? `⇄ ${n.streamId} merged into ${n.into} (${n.commit.slice(0, 7)})` : `⇄ ${n.streamId} already in ${n.into}`] };
    case "conflict":
      return {
        lines: [
          `✖ Merging ${n.branch} into ${n.into} would conflict in: ${n.files.join(", ")}`,
          `  Nothing was merged, archived or removed. Resolve it: in ${n.root} run \`git merge ${n.branch}\`, fix those files, commit; then \`orch start --resume\`.`,
        ],
        webhook: `✖ ${n.streamId}: merge conflict in ${n.files.join(", ")} — integration stopped`,
      };
    case "uncommitted":
      return {
        lines: [
          `✖ ${n.streamId}: its agent ended leaving uncommitted changes in ${n.shownAs}: ${preview(n.files)}`,
          `  ${n.streamId} is not complete until they are committed, and nothing that depends on it starts. Commit them there (git -C "${n.worktree}" add … && git -C "${n.worktree}" commit) or discard them; then \`orch start --resume\`.`,
        ],
        webhook: `✖ ${n.streamId}: uncommitted changes left in ${n.shownAs} — stopped`,
      };
    case "off-branch":
      return {
        lines: [
          `✖ ${n.streamId}: its worktree ${n.shownAs} has ${n.checkedOut} checked out, not ${n.branch}: what its agent committed there is not on ${n.branch}`,
          `  Nothing of ${n.streamId} was merged. Bring that work onto ${n.branch} (git -C "${n.worktree}" switch ${n.branch}, then merge or cherry-pick it), then \`orch start --resume\`.`,
        ],
        webhook: `✖ ${n.streamId}: its worktree is off its branch — integration stopped`,
      };
    case "stray":
      return {
        lines: [
          `✖ ${n.streamId}: its agent made commits in ${n.where} that are not on ${n.branch}: ${preview(n.commits.map((c) => c.slice(0, 7)))} (a side branch, a detached HEAD or a stash)`,
          `  Nothing of ${n.streamId} was merged. Bring them onto ${n.branch} (git cherry-pick, or git stash pop and commit), then \`orch start --resume\`.`,
        ],
        webhook: `✖ ${n.streamId}: commits left off its branch — stopped`,
      };
    case "branch-gone":
      return {
        lines: [
          `✖ ${n.streamId}: its branch is gone (its agent worked in ${n.worktree}): what it committed is not on main, and nothing of ${n.streamId} was merged.`,
          "  Find its commits (git reflog, git fsck --lost-found), bring them back on a branch of the stream's name, then `orch start --resume`.",
        ],
        webhook: `✖ ${n.streamId}: its branch is gone — stopped`,
      };
    case "main-moved":
      return {
        lines: [
          `✖ ${n.streamId}: its agent left the main checkout on ${n.branch ?? "a detached HEAD"}, not ${n.expected}: what it committed there is not on ${n.expected}.`,
          `  Nothing depending on it was started. Bring that work onto ${n.expected} (git switch ${n.expected}, then merge it), then \`orch start --resume\`.`,
        ],
        webhook: `✖ ${n.streamId}: the main checkout was moved off ${n.expected} — stopped`,
      };
    case "merge-error":
      return {
        lines: [`✖ Cannot merge ${n.streamId}: ${n.message}`, "  Nothing was archived or removed; fix that, then `orch start --resume`."],
        webhook: `✖ ${n.streamId}: cannot merge — ${n.message}`,
      };
    case "denied":
      return { lines: [`⚠ ${n.streamId}: Claude Code denied ${n.detail} (allow it with ${n.rule})`], webhook: `⚠ ${n.streamId}: permission denied — ${n.detail}` };
    case "failed-denied":
      return {
        lines: [
          `✖ ${n.streamId} failed: its agent was denied ${n.denials} tool call(s) and completed no task; not restarting it blindly.`,
          `  Allow what it needs (the rules above) in the allowed-tools of .claude/commands/continue.md, or pass them with --agent-cmd '… --allowedTools "<rule>"'; then \`orch start --resume\`.`,
        ],
        webhook: `✖ ${n.streamId} failed: permission denials, no progress`,
      };
    case "restarting":
      return { lines: [`↻ ${n.streamId}: agent exited (code ${n.exitCode ?? "?"}) with ${n.left} task(s) left; restarting (${n.restarts}/${n.restartLimit})`] };
    case "failed-limit":
      return {
        lines: [`✖ ${n.streamId} failed: its agent exited ${n.launches} time(s) with the stream unfinished (restart limit ${n.restartLimit})`],
        webhook: `✖ ${n.streamId} failed! (${n.phase} phase)`,
      };
    case "failed-start":
      return { lines: [`✖ ${n.streamId} failed to start: ${n.message}`], webhook: `✖ ${n.streamId} failed! (${n.phase ?? "?"} phase)` };
    case "stalled":
      return { lines: [`⚠ ${n.streamId}: no progress and no heartbeat for ${n.idle}`], webhook: `⚠ ${n.streamId} stalled: no progress for ${n.idle}` };
    case "run-complete":
      return { lines: [`✓ ${n.only ?? `All ${n.total} streams`} complete.`], webhook: `✓ Orchestration complete: ${n.done}/${n.total} streams` };
    case "run-stopped":
      return { lines: [`Stopped launching; state saved to ${STATE_FILE}.`, n.still ?? "No agent is running."] };
    case "run-failed":
      return {
        lines: [`✖ Run ended with ${n.done}/${n.total} streams complete; failed: ${n.failed.join(", ") || "none"}`],
        webhook: `✖ Orchestration ended: ${n.done}/${n.total} streams complete`,
      };
    case "still-running":
      return { lines: [stillRunning(n.agents)] };
    case "budget-reached": {
      const who = n.streamId ?? "The initiative";
      const what = n.streamId ? `${n.streamId} launches nothing more` : "every stream is paused";
      return {
        lines: [
          `⏸ ${who} reached its budget (${n.spent}): ${what} until it is raised — ${n.command} (inbox ${n.inboxId})`,
          ...(n.agentRunning ? [`  Its agent, still running, is not stopped; once it ends it is not relaunched until then.`] : []),
        ],
        webhook: `⏸ ${who} paused: budget reached (${n.spent}) — ${n.command}`,
      };
    }
    case "budget-paused":
      return { lines: [`⏸ ${n.streamId} is paused for budget (${n.spent}): ${n.command}`] };
    case "budget-resumed":
      return { lines: [`▶ ${n.streamId}: budget raised (${n.left} left); resuming`], webhook: `▶ ${n.streamId} resumed: budget raised` };
    case "waiting-budget":
      return { lines: [`⏸ Waiting for a budget raise: ${n.streams.join(", ")} (orch budget raise ${n.streams.length === 1 ? n.streams[0] : "STREAM"} USD); nothing else can run`] };
    case "claimed-elsewhere":
      return { lines: [`… ${n.streamId} is being worked on ${n.machine} (pid ${n.pid}); leaving it to that machine (its lease runs to ${n.expiresAt})`] };
    case "took-over":
      return { lines: [`↻ ${n.streamId}: ${n.machine} (pid ${n.pid}) stopped renewing its claim; taking the stream over`], webhook: `↻ ${n.streamId} taken over from ${n.machine}` };
    case "claim-lost":
      return {
        lines: [
          `✖ ${n.streamId}: this machine's claim ran out and another machine has the stream now; its agent here${n.pid ? ` (pid ${n.pid})` : ""} is stopped${n.worktree ? `, its work left as it is in ${n.worktree}` : ""}`,
        ],
        webhook: `✖ ${n.streamId}: claim lost to another machine`,
      };
    case "db-unreachable":
      return { lines: [`⚠ The database cannot be reached (${n.message}); waiting for it. Agents here stop before their claims run out; their work stays where it is.`] };
    case "db-back":
      return { lines: ["✓ The database is reachable again; catching up"] };
    case "adopted-push":
      return { lines: [`↻ ${n.streamId}: going on from the work pushed to ${n.remote} (${n.commit.slice(0, 12)})`] };
    case "pushed":
      return { lines: [`⇡ ${n.streamId}: pushed ${n.branch} to ${n.remote} (${n.commit.slice(0, 12)})`] };
    case "arrived":
      return { lines: [`⇣ ${n.streamId}: done on another machine; its work is here from ${n.remote} (${n.commit.slice(0, 12)})`] };
    case "permission-asked": {
      const who = n.streamId ?? n.agent ?? "An agent";
      const line = `⏸ ${who} waits for permission: ${n.tool} — orch allow ${n.inboxId} / orch deny ${n.inboxId}`;
      return { lines: [line], webhook: line };
    }
  }
}

export function stillRunning(agents: { streamId: string; pid: number | null }[]): string {
  return `Still running: ${agents.map((a) => `${a.streamId}${a.pid ? ` (pid ${a.pid})` : ""}`).join(", ")} — orch start --resume follows them again.`;
}

/** "45 s", "12 min": a stall timeout may be seconds (tests, short tasks) or the default 10 min. */
export function idleFor(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
