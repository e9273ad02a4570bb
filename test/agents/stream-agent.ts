/**
 * What the stand-in model makes Claude Code do in a `/continue <stream>` session: the steps a
 * real agent takes through orch's MCP tools, Claude Code's Write tool and git in Bash — and the
 * ways real agents misbehave, on request per stream.
 */
import { continuedStream, stepList, type Script, type Step } from "./fake-model.ts";

export interface PlannedTask {
  id: string;
  /** Written by the agent, relative to its working directory. */
  file: string;
}

export interface Misbehaviour {
  /** Mark each task completed before staging and committing it (a pause in between). */
  doneBeforeCommit?: boolean;
  /** Stage with `git add -A` instead of the files it wrote. */
  addAll?: boolean;
  /** Call this Bash command first (one the session is not allowed), then give up. */
  deniedCommand?: string;
}

const tool = (name: string) => `mcp__task-copilot__${name}`;

export function streamAgent(plan: Record<string, PlannedTask[]>, misbehave: Record<string, Misbehaviour> = {}): Script {
  return stepList((turn) => {
    const streamId = continuedStream(turn);
    if (!streamId || !plan[streamId]) return [];
    const how = misbehave[streamId] ?? {};
    if (how.deniedCommand)
      return [
        { tool: tool("task_list"), input: { streamId } },
        { tool: "Bash", input: { command: how.deniedCommand, description: "Publish the package" } },
      ];
    const steps: Step[] = [{ tool: tool("task_list"), input: { streamId } }];
    for (const t of plan[streamId]!) {
      const commit: Step[] = [
        { tool: "Bash", input: { command: how.addAll ? "git add -A" : `git add -- ${t.file}`, description: "Stage the work" } },
        { tool: "Bash", input: { command: `git commit -q -m "${t.id}: ${t.file}"`, description: "Commit the work" } },
      ];
      const complete: Step = { tool: tool("task_update"), input: { id: t.id, status: "completed", notes: `wrote ${t.file}` } };
      steps.push(
        { tool: tool("task_update"), input: { id: t.id, status: "in_progress", assignedAgent: "me" } },
        { tool: "Write", input: { file_path: `${turn.cwd}/${t.file}`, content: `// ${t.id}, by ${streamId}\nexport const done = true;\n` } },
      );
      // Marked done first, then a slow commit: orch sees the stream complete while work is still coming.
      if (how.doneBeforeCommit) steps.push(complete, { ...commit[0]!, delayMs: 1500 }, commit[1]!);
      else steps.push(...commit, complete);
    }
    return steps;
  });
}
