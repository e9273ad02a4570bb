/**
 * The permission tool headless agents run with (`--permission-prompt-tool
 * mcp__task-copilot__permission_prompt`): a tool call outside the allow-list becomes a policy
 * decision or an inbox question instead of a silent denial. Claude Code reads the answer as
 * `{behavior: "allow", updatedInput}` or `{behavior: "deny", message}`.
 */
import { z } from "zod";
import { findProjectRoot } from "../../config.ts";
import { liveAgentForStream, streamForDirectory } from "../../core/agents.ts";
import { askPermission } from "../../core/inbox.ts";
import { readNeedsYouSettings } from "../../orchestrate/config.ts";
import { defineTool } from "../tool.ts";

export const PERMISSION_TOOL = "permission_prompt";

export const tools = [
  defineTool({
    name: PERMISSION_TOOL,
    description: "Claude Code's permission prompt (--permission-prompt-tool): orch's policy or a person answers.",
    input: z
      .object({
        tool_name: z.string().min(1).max(200),
        input: z.record(z.string(), z.unknown()).default({}),
        tool_use_id: z.string().max(200).optional(),
      })
      .loose(),
    async run({ store, cwd }, args) {
      const streamId = process.env.ORCH_STREAM_ID || (await streamForDirectory(store, cwd));
      const session = streamId ? await liveAgentForStream(store, streamId) : null;
      const root = findProjectRoot(cwd);
      const settings = readNeedsYouSettings(root);
      const answer = await askPermission(store, {
        call: { toolName: args.tool_name, input: args.input, cwd, root },
        source: "prompt_tool",
        sessionId: session?.sessionId ?? null,
        streamId,
        toolUseId: args.tool_use_id ?? null,
        policy: settings.policy,
        timeoutMs: settings.questionTimeoutMs,
      });
      return answer.behavior === "allow" ? { behavior: "allow", updatedInput: args.input } : { behavior: "deny", message: answer.message };
    },
  }),
];
