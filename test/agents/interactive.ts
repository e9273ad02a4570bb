/**
 * Claude Code interactive in tmux against the stand-in model, as a person runs it: its first-run
 * questions answered once, orch's hooks from `orch init`, and the API's view of its session.
 * Shared by the end-to-end tests and the benchmark.
 */
import { realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TmuxSession } from "../tmux.ts";
import type { RealProject } from "./real-project.ts";

/** Onboarding done, the key and the folder accepted (KNOWHOW: without it a fresh config asks). */
export function acceptClaudeFirstRun(p: RealProject): string {
  const root = realpathSync(p.root);
  writeFileSync(
    join(p.env.CLAUDE_CONFIG_DIR!, ".claude.json"),
    JSON.stringify({
      hasCompletedOnboarding: true,
      theme: "dark",
      customApiKeyResponses: { approved: [p.env.ANTHROPIC_API_KEY!.slice(-20)], rejected: [] },
      projects: { [root]: { hasTrustDialogAccepted: true } },
    }),
  );
  return root;
}

/** `claude "<prompt>"` in a tmux pane, asking before tools (not 2.1.332's default auto mode). */
export function startInteractiveClaude(p: RealProject, prompt: string, env: Record<string, string> = {}): TmuxSession {
  const root = acceptClaudeFirstRun(p);
  // tmux keeps its server's PATH for the new pane: the session's own PATH is given through env(1).
  return TmuxSession.start(["env", `PATH=${p.env.PATH}`, "claude", "--permission-mode", "default", prompt], { env: { ...p.env, ...env }, cwd: root, width: 160, height: 50 });
}

export interface ApiAgent {
  sessionId: string;
  status: string;
  streamId: string | null;
  tool: string | null;
}

/** The first session /api/agents shows in `status` (polled every 10 ms), or null at the deadline. */
export async function waitForApiAgent(apiUrl: string, pick: (a: ApiAgent) => boolean, timeoutMs: number): Promise<ApiAgent | null> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const agents = ((await (await fetch(`${apiUrl}/api/agents?all=true`)).json()) as { agents: ApiAgent[] }).agents;
      const hit = agents.find(pick);
      if (hit) return hit;
    } catch {
      // the API not up yet
    }
    await Bun.sleep(10);
  }
  return null;
}
