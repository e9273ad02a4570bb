/**
 * Every top-level command: name, one-line summary, and a lazy loader so `orch --version` and
 * `orch mcp` never parse code they do not run.
 */
import type { Command } from "./command.ts";

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<{ command: Command }>;
  hidden?: boolean;
}

export const commands: CommandEntry[] = [
  { name: "serve", summary: "REST API + live events", load: () => import("./serve.ts") },
  { name: "mcp", summary: "MCP stdio server for agents (+ the API when HTTP_API_PORT is set)", load: () => import("./mcp.ts") },
  { name: "watch", summary: "live terminal monitor", load: () => import("./watch.ts") },
  { name: "init", summary: "wire Claude Code to orch (.mcp.json, slash commands)", load: () => import("./init.ts") },
  { name: "prd", summary: "import and list PRDs", load: () => import("./prd.ts") },
  { name: "task", summary: "list, get, create and update tasks", load: () => import("./task.ts") },
  { name: "stream", summary: "list, get, archive streams; find conflicts; claims", load: () => import("./stream.ts") },
  { name: "generate", summary: "write .claude/orchestration/ (config, README, launchers)", load: () => import("./generate.ts") },
  { name: "start", summary: "run the three phases and launch the agents", load: () => import("./start.ts") },
  { name: "continue", summary: "resume a stream: check dependencies, create its worktree, print context", load: () => import("./continue.ts") },
  { name: "worktree", summary: "create, list, merge and remove stream worktrees", load: () => import("./worktree.ts") },
  { name: "agents", summary: "agent sessions: working, waiting for you, stopped", load: () => import("./agents.ts") },
  { name: "inbox", summary: "questions agents wait on", load: () => import("./inbox.ts") },
  { name: "allow", summary: "answer an inbox question: allow (--always: and every call like it)", load: () => import("./answer.ts").then((m) => ({ command: m.allow })) },
  { name: "deny", summary: "answer an inbox question: deny (--reason: what the agent is told)", load: () => import("./answer.ts").then((m) => ({ command: m.deny })) },
  { name: "token", summary: "named API tokens for orch serve: create, list, revoke", load: () => import("./token.ts") },
  { name: "budget", summary: "spending per stream against its budget; orch budget raise STREAM USD", load: () => import("./budget.ts") },
  { name: "demo", summary: "see the whole system work on a sample initiative", load: () => import("./demo.ts") },
  { name: "hook", summary: "report a Claude Code hook event to orch (run by Claude Code)", load: () => import("./hook.ts"), hidden: true },
  { name: "keep-claims", summary: "renew a stopped run's claims while its agents still work (run by orch start)", load: () => import("./keep-claims.ts"), hidden: true },
  { name: "agent-sim", summary: "the simulated agent used by orch demo and the tests", load: () => import("./agent-sim.ts"), hidden: true },
];

/** Only the commands whose module exists in this build (later capabilities add theirs). */
export const availableCommands = (): CommandEntry[] => commands.filter((c) => !c.hidden);
