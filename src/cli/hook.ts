/**
 * `orch hook` (hidden): what Claude Code runs for each hook event (installed by `orch init` into
 * `.claude/settings.local.json`). Reads the payload on stdin, always exits 0: a broken hook must
 * never stop an agent. Problems go to `hooks.log` beside the database (or $ORCH_HOOK_LOG).
 */
import type { Command } from "./command.ts";
import { relayHook } from "../agents/hook-relay.ts";
import { logHookProblem, MAX_PAYLOAD_BYTES } from "../agents/hook-log.ts";

/** At most `limit` bytes of stdin as text, or null past it (no Buffer: it would load node:buffer). */
async function readStdin(limit: number): Promise<string | null> {
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for await (const chunk of Bun.stdin.stream()) {
    size += chunk.byteLength;
    if (size > limit) return null;
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

export const command: Command = {
  name: "hook",
  summary: "report a Claude Code hook event to orch (run by Claude Code)",
  async run() {
    const fallbackLog = process.env.ORCH_HOOK_LOG;
    try {
      const raw = await readStdin(MAX_PAYLOAD_BYTES);
      if (raw === null) {
        const { hookLogHere } = await import("../agents/hook.ts");
        await logHookProblem(fallbackLog ?? (await hookLogHere()), `payload larger than ${MAX_PAYLOAD_BYTES} bytes; ignored`);
        return 0;
      }
      // The session's orch mcp stores it (the database is open there); else this process does.
      if (await relayHook(raw, process.env)) return 0;
      const { handleHookFast } = await import("../agents/hook-fast.ts");
      const r = await handleHookFast(raw);
      if (r.problem) await logHookProblem(fallbackLog ?? r.logFile, r.problem);
      if (r.stdout) process.stdout.write(`${r.stdout}\n`);
    } catch (err) {
      await logHookProblem(fallbackLog, `hook failed: ${(err as Error)?.message ?? String(err)}`);
    }
    return 0;
  },
};
