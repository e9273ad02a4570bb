/** Where generated files and stream worktrees live (SPEC "Where state lives"), relative to the project root. */
export const ORCHESTRATION_DIR = ".claude/orchestration";
export const CONFIG_FILE = `${ORCHESTRATION_DIR}/orchestration-config.json`;
export const README_FILE = `${ORCHESTRATION_DIR}/README.md`;
export const START_SCRIPT = `${ORCHESTRATION_DIR}/start-streams.py`;
export const WATCH_SCRIPT = `${ORCHESTRATION_DIR}/watch-status.py`;
export const WORKFLOW_FILE = ".github/workflows/orchestration.yml";
export const WORKTREES_DIR = ".claude/worktrees";

/** A parallel stream's worktree and branch: `.claude/worktrees/Stream-B` on `stream-b`. */
export const worktreeFor = (streamId: string) => `${WORKTREES_DIR}/${streamId}`;
export const branchFor = (streamId: string) => streamId.toLowerCase();
