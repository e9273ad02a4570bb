/**
 * The agent command template (`claude -p "/continue {streamId}"`): split like a shell would split
 * words (quotes, backslashes) but never run by a shell; placeholders are filled per argument,
 * so a stream id or path can never become a new argument or a command.
 */
import { usageError } from "../errors.ts";

/**
 * Headless agents run Claude Code in print mode with its event stream on stdout: orch reads it
 * live for permission denials, the session id and the cost (see agent-output.ts). What the
 * agent may do comes from the `/continue` command's allowed-tools (see generate/init-files.ts);
 * anything else is asked of orch's permission tool (a policy rule or a person, through the inbox)
 * instead of being denied in silence.
 */
export const DEFAULT_AGENT_COMMAND =
  'claude -p "/continue {streamId}" --output-format stream-json --verbose --permission-prompt-tool mcp__task-copilot__permission_prompt';
/** In a terminal (tmux) the session is interactive: a person can watch it and answer it. */
export const DEFAULT_INTERACTIVE_AGENT_COMMAND = 'claude "/continue {streamId}"';

export const defaultAgentCommand = (launcher: "manual" | "tmux" | "headless"): string =>
  launcher === "headless" ? DEFAULT_AGENT_COMMAND : DEFAULT_INTERACTIVE_AGENT_COMMAND;
export const PLACEHOLDERS = ["streamId", "worktree", "projectRoot"] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export function splitCommand(template: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && (template[i + 1] === '"' || template[i + 1] === "\\")) cur += template[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < template.length) {
      cur += template[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw usageError(`agent command has an unclosed ${quote} quote: ${template}`);
  if (inWord) words.push(cur);
  if (!words.length) throw usageError("agent command is empty");
  return words;
}

export function checkTemplate(template: string): string[] {
  const argv = splitCommand(template);
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!))
      throw usageError(`agent command has an unknown placeholder {${m[1]}} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(", ")})`);
  }
  return argv;
}

export function agentArgv(template: string, values: Record<Placeholder, string>): string[] {
  return checkTemplate(template).map((word) => word.replace(/\{(streamId|worktree|projectRoot)\}/g, (_, k: Placeholder) => values[k]));
}

/** Quote one argument for a POSIX shell: commands orch prints for a person to paste, templates it writes. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Claude Code's own per-run spending cap for a print-mode launch (`claude -p …`): appended when a
 * dollar budget applies, unless the template already sets one (the person's choice stands).
 * Other programs, and interactive sessions, which have no such flag, are left as they are.
 */
export function withBudgetCap(argv: readonly string[], capUsd: number | null): string[] {
  const printMode = argv.includes("-p") || argv.includes("--print");
  const claude = (argv[0] ?? "").split("/").pop() === "claude";
  if (capUsd === null || !claude || !printMode || argv.some((a) => a === "--max-budget-usd" || a.startsWith("--max-budget-usd="))) return [...argv];
  // Never round up past what is left; never a zero cap (the stream is paused before that).
  const cap = Math.max(0.0001, Math.floor(capUsd * 10_000) / 10_000);
  return [...argv, "--max-budget-usd", String(cap)];
}
