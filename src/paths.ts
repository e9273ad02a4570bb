/**
 * Where orch keeps things in a project (SPEC "Where state lives"), relative to the project root.
 * The one list: generators, the worktree manager, the orchestrator and the monitor all read it.
 */
export const ORCHESTRATION_DIR = ".claude/orchestration";
export const CONFIG_FILE = `${ORCHESTRATION_DIR}/orchestration-config.json`;
export const README_FILE = `${ORCHESTRATION_DIR}/README.md`;
export const START_SCRIPT = `${ORCHESTRATION_DIR}/start-streams.py`;
export const WATCH_SCRIPT = `${ORCHESTRATION_DIR}/watch-status.py`;
export const STATE_FILE = `${ORCHESTRATION_DIR}/orchestration-state.json`;
export const LOG_DIR = `${ORCHESTRATION_DIR}/logs`;
export const WORKFLOW_FILE = ".github/workflows/orchestration.yml";
export const WORKTREES_DIR = ".claude/worktrees";

/** A parallel stream's worktree and branch: `.claude/worktrees/Stream-B` on `stream-b`. */
export const worktreeFor = (streamId: string) => `${WORKTREES_DIR}/${streamId}`;
export const branchFor = (streamId: string) => streamId.toLowerCase();

/** The state file's temporary twin while it is being replaced: `<state file>.<pid>.tmp`. */
export const stateTempFile = (pid: number) => `${STATE_FILE}.${pid}.tmp`;

/** orch's own bookkeeping, kept out of the user's `git status` (.git/info/exclude). A temporary
 * state file left by a killed `orch start` is bookkeeping too. */
/** Held (flock) by the one `orch start` running this project. */
export const RUN_LOCK_FILE = `${ORCHESTRATION_DIR}/orchestration.lock`;
export const EXCLUDE_PATTERNS = [`/${WORKTREES_DIR}/`, `/${LOG_DIR}/`, `/${STATE_FILE}`, `/${STATE_FILE}.*.tmp`, `/${RUN_LOCK_FILE}`] as const;
