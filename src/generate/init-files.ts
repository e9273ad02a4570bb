/**
 * What `orch init` writes, as pure functions of what is already there: the `task-copilot` server
 * merged into `.mcp.json`, the `/continue` and `/orchestration` slash commands, and the
 * `.gitignore` lines that keep stream worktrees and run state out of the user's checkout.
 */
import { failed } from "../errors.ts";

export const MCP_FILE = ".mcp.json";
export const SERVER_NAME = "task-copilot";
export const CONTINUE_COMMAND_FILE = ".claude/commands/continue.md";
export const ORCHESTRATION_COMMAND_FILE = ".claude/commands/orchestration.md";
export const GITIGNORE_FILE = ".gitignore";

export type FileStatus = "created" | "updated" | "unchanged";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Where JSON text first goes wrong, as a character offset (Bun's JSON.parse message gives none):
 * a small recursive-descent check of RFC 8259 syntax.
 */
export function jsonErrorOffset(text: string): number | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const fail = () => {
    throw i;
  };
  const literal = (word: string) => (text.startsWith(word, i) ? void (i += word.length) : fail());
  const string = () => {
    if (text[i] !== '"') fail();
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail();
      if (text[i] === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) fail();
      }
      i++;
    }
    if (text[i] !== '"') fail();
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || !m[0]) fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    return number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return null;
  } catch (at) {
    if (typeof at === "number") return at;
    throw at;
  }
}

/** " at line 3, column 9" for a parse error, when the position can be found. */
function jsonErrorWhere(text: string): string {
  const at = jsonErrorOffset(text);
  if (at === null) return "";
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  const column = at - before.lastIndexOf("\n");
  return ` at line ${line}, column ${column}`;
}

/**
 * A file of the user's that orch writes again, as a JSON object (null: no file, or an empty one).
 * Invalid JSON, or JSON that is not an object, is refused in one line naming where: guessing
 * could lose what the user put there, and the file is left untouched.
 */
export function parseJsonObjectFile(text: string | null, file: string, rerun: string): Json | null {
  if (text === null || text.trim() === "") return null;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw failed(`${file} is not valid JSON${jsonErrorWhere(text)}; fix it (it was left untouched) and run ${rerun} again`);
  }
  if (!isObject(data)) throw failed(`${file} is not a JSON object; fix it (it was left untouched) and run ${rerun} again`);
  return data;
}

/**
 * Merge the task-copilot server into `.mcp.json` text (null: no file yet). Other servers and
 * keys are kept as they are; an existing task-copilot entry keeps its own env values and extra
 * keys, and gets orch's command. Invalid JSON, or a shape that is not `{ "mcpServers": {…} }`,
 * is refused: the file is the user's, and guessing could lose their servers.
 */
export function mergeMcpJson(
  existing: string | null,
  defaults: { host: string; port: number },
): { content: string; status: FileStatus } {
  const doc: Json = parseJsonObjectFile(existing, MCP_FILE, "orch init") ?? {};
  if (doc.mcpServers !== undefined && !isObject(doc.mcpServers))
    throw failed(`${MCP_FILE}: "mcpServers" is not an object; fix it (it was left untouched) and run orch init again`);
  const servers: Json = isObject(doc.mcpServers) ? doc.mcpServers : {};
  const prior = servers[SERVER_NAME];
  const old: Json = isObject(prior) ? prior : {};
  const oldEnv: Json = isObject(old.env) ? old.env : {};
  // MCP env values are strings; a number someone wrote by hand is kept, as a string.
  const envValue = (v: unknown) => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);
  const entry: Json = {
    ...old,
    command: "orch",
    args: ["mcp"],
    env: {
      ...oldEnv,
      HTTP_API_PORT: envValue(oldEnv.HTTP_API_PORT) ?? String(defaults.port),
      HTTP_API_HOST: envValue(oldEnv.HTTP_API_HOST) ?? defaults.host,
    },
  };
  const next: Json = { ...doc, mcpServers: { ...servers, [SERVER_NAME]: entry } };
  const status: FileStatus = existing === null ? "created" : JSON.stringify(next) === JSON.stringify(doc) ? "unchanged" : "updated";
  return { content: `${JSON.stringify(next, null, 2)}\n`, status };
}

/**
 * What a `/continue` session may do without asking: orch's MCP tools, edits inside its own
 * working directory (the stream's worktree), git to stage and commit there, and orch's CLI.
 * Claude Code applies a command's `allowed-tools` in print mode and interactively alike, even in
 * a workspace nobody marked trusted (where settings.json permissions are ignored), so one list
 * serves every launcher. No blanket Bash, no bypass mode.
 */
export const CONTINUE_ALLOWED_TOOLS = [
  "mcp__task-copilot",
  "Edit(./**)",
  "Write(./**)",
  ...["status", "diff", "log", "show", "add", "rm", "mv", "commit"].map((sub) => `Bash(git ${sub}:*)`),
  ...["continue", "stream", "task"].map((sub) => `Bash(orch ${sub}:*)`),
];

export const CONTINUE_COMMAND = `---
description: Resume an orchestration stream - check its dependencies, enter its worktree, work its tasks
argument-hint: <stream-id>
allowed-tools: ${CONTINUE_ALLOWED_TOOLS.join(", ")}
---

# /continue $ARGUMENTS

Work stream **$ARGUMENTS** of this project's orchestration, through the \`task-copilot\` MCP tools
and the \`orch\` command.

1. Run \`orch continue $ARGUMENTS\`: it checks the streams this one depends on, creates its git
   worktree (parallel streams) and prints the tasks, the next one and their files.
   \`Stream cannot start - dependencies incomplete: …\`: stop and tell the user which streams must
   finish first. \`Stream not found: …\`: ask which stream they meant (\`stream_list\`).
2. Work only in the directory it names, on the stream's branch. Commit each task's work
   (\`git add <files>\`, \`git commit\`) *before* you mark it completed.
3. Take the tasks in order (\`task_list({ streamId: "$ARGUMENTS" })\`). For each:
   \`task_update({ id, status: "in_progress" })\`; \`stream_conflict_check({ streamId, files })\`
   before touching files other streams may edit; \`agent_heartbeat({ taskId, agentId })\` every few
   minutes; \`work_product_store\` for decisions and test results worth keeping; then
   \`task_update({ id, status: "completed", notes })\`, or \`status: "blocked", blockedReason\`.
4. When all are complete, show \`stream_get({ streamId: "$ARGUMENTS" })\` and say which streams can
   start now. Leave merging to orch (\`orch worktree merge $ARGUMENTS\`) unless asked.
`;

export const ORCHESTRATION_COMMAND = `---
description: Parallel streams with orch - generate the orchestration files, show the config or progress
argument-hint: [generate|config|status]
allowed-tools: Bash(orch generate:*), Bash(orch prd:*), Bash(orch stream:*)
---

# /orchestration $ARGUMENTS

Run \`orch generate $ARGUMENTS\` in the shell (no argument means \`generate\`) and show the user
what it printed.

- \`generate\` writes \`.claude/orchestration/\`: \`orchestration-config.json\`, \`README.md\`,
  \`start-streams.py\` and \`watch-status.py\`. Then give the user the next steps it printed:
  the monitor (\`python3 .claude/orchestration/watch-status.py\`), then one Claude Code session
  per stream with \`/continue <stream>\`, foundation first (or \`orch start\` to run all phases).
- \`config\` shows the generated configuration; \`status\` shows progress by phase. For details
  use the MCP tools \`progress_summary\`, \`stream_list\` and \`stream_get\`.
- \`No streams …\`: the plan has not been imported yet. Find the PRD (ask the user if unsure),
  check it has the form below, run \`orch prd import <file>\`, then \`orch generate\` again.
- A validation error names the problem: \`At least one foundation stream required\`,
  \`Cannot create more than N parallel streams\`, \`Circular dependency: A -> B -> A\`,
  \`Unknown dependency: …\`, or \`PRD line N: …\`. Propose a fix to the PRD, apply it once the
  user agrees, then import and generate again.

The PRD form orch reads:

\`\`\`markdown
# Initiative: Add Dark Mode Support

## Foundation Phase
### Stream-A: Core Theme System
- TASK-001: Create theme type definitions [files: src/types/theme.ts] @agent-me

## Parallel Phase
### Stream-B: UI Component Updates (depends on Stream-A)
- TASK-005: Update Button component

## Integration Phase
### Stream-Z: Testing and Documentation
- TASK-011: E2E theme switching tests @agent-qa
\`\`\`

Without \`(depends on …)\`, parallel streams depend on every foundation stream and integration
streams on every parallel stream.
`;

/** The ignore rules orch needs, each with a sample path to test whether some rule already covers it. */
export const IGNORE_RULES: { rule: string; probe: string }[] = [
  { rule: ".claude/worktrees/", probe: ".claude/worktrees/Stream-A" },
  { rule: ".claude/orchestration/logs/", probe: ".claude/orchestration/logs/Stream-A.log" },
  { rule: ".claude/orchestration/orchestration-state.json", probe: ".claude/orchestration/orchestration-state.json" },
  // Claude Code's per-person settings, where orch's hooks live (they name this machine's orch).
  { rule: ".claude/settings.local.json", probe: ".claude/settings.local.json" },
];

/** Does a plain .gitignore line cover the probe path? (Literal forms only; git itself is asked when there is a repo.) */
export function gitignoreCovers(text: string, probe: string): boolean {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#") && !l.startsWith("!"));
  const parts = probe.split("/");
  for (const raw of lines) {
    const l = raw.replace(/^\//, "").replace(/\/\*{1,2}$/, "/").replace(/\/$/, "");
    for (let k = 1; k <= parts.length; k++) if (parts.slice(0, k).join("/") === l) return true;
  }
  return false;
}

/** Append the missing rules (those `ignored(probe)` does not already cover) under one comment. */
export function updateGitignore(
  existing: string | null,
  ignored: (probe: string) => boolean,
): { content: string; status: FileStatus; added: string[] } {
  const text = existing ?? "";
  const added = IGNORE_RULES.filter((r) => !ignored(r.probe) && !gitignoreCovers(text, r.probe)).map((r) => r.rule);
  if (added.length === 0) return { content: text, status: "unchanged", added };
  const sep = text === "" ? "" : text.endsWith("\n") ? "\n" : "\n\n";
  const block = `# orch: stream worktrees and run state\n${added.join("\n")}\n`;
  return { content: `${text}${sep}${block}`, status: existing === null ? "created" : "updated", added };
}

export const SETTINGS_LOCAL_FILE = ".claude/settings.local.json";

/**
 * The hook command: quiet when orch is not on PATH (a teammate without orch keeps working) and
 * never failing, whatever orch answers.
 */
export const HOOK_COMMAND = "command -v orch >/dev/null 2>&1 && orch hook || true";
/**
 * orch's own hook entry (this form or an older one): a command one of whose parts is `orch hook`
 * run as the command (`/usr/local/bin/orch hook` too). A hook of the user's that only mentions
 * it (`echo orch hook ran >> log`) is theirs and stays.
 */
const isOrchHook = (command: unknown) =>
  typeof command === "string" && command.split(/&&|\|\||[;|\n]/).some((part) => /^(?:\S*\/)?orch\s+hook(?:\s|$)/.test(part.trim()));

/** A permission question waits for a person; Claude Code must not give up on the hook first. */
const PERMISSION_HOOK_TIMEOUT_S = 86_400;

/** The events orch listens to; tool events match every tool. */
export const HOOK_EVENTS: readonly { event: string; tools: boolean; timeout: number }[] = [
  { event: "SessionStart", tools: false, timeout: 10 },
  { event: "UserPromptSubmit", tools: false, timeout: 10 },
  { event: "PreToolUse", tools: true, timeout: 10 },
  { event: "PostToolUse", tools: true, timeout: 10 },
  { event: "PostToolUseFailure", tools: true, timeout: 10 },
  { event: "PermissionRequest", tools: true, timeout: PERMISSION_HOOK_TIMEOUT_S },
  { event: "Notification", tools: false, timeout: 10 },
  { event: "Stop", tools: false, timeout: 30 },
  { event: "StopFailure", tools: false, timeout: 10 },
  { event: "SessionEnd", tools: false, timeout: 30 },
];

/**
 * Merge orch's hooks into a Claude Code settings file's text (null: no file yet). The user's own
 * hooks and every other key stay as they are; orch's entry per event is replaced by the current
 * one. Invalid JSON or a `hooks` that is not an object is refused, never guessed at.
 */
export function mergeSettingsHooks(existing: string | null, file = SETTINGS_LOCAL_FILE): { content: string; status: FileStatus } {
  const doc: Json = parseJsonObjectFile(existing, file, "orch init") ?? {};
  if (doc.hooks !== undefined && !isObject(doc.hooks)) throw failed(`${file}: "hooks" is not an object; fix it (it was left untouched) and run orch init again`);
  const hooks: Json = { ...(isObject(doc.hooks) ? doc.hooks : {}) };
  for (const { event, tools, timeout } of HOOK_EVENTS) {
    const prior = hooks[event];
    if (prior !== undefined && !Array.isArray(prior)) throw failed(`${file}: hooks.${event} is not a list; fix it (it was left untouched) and run orch init again`);
    const theirs = ((prior as unknown[] | undefined) ?? [])
      .map((group) => (isObject(group) && Array.isArray(group.hooks) ? { ...group, hooks: group.hooks.filter((h) => !(isObject(h) && isOrchHook(h.command))) } : group))
      .filter((group) => !(isObject(group) && Array.isArray(group.hooks) && group.hooks.length === 0));
    const ours: Json = { ...(tools ? { matcher: "*" } : {}), hooks: [{ type: "command", command: HOOK_COMMAND, timeout }] };
    hooks[event] = [...theirs, ours];
  }
  // The person ran orch init to use orch's MCP server: Claude Code need not ask again.
  if (doc.enabledMcpjsonServers !== undefined && !Array.isArray(doc.enabledMcpjsonServers))
    throw failed(`${file}: "enabledMcpjsonServers" is not a list; fix it (it was left untouched) and run orch init again`);
  const enabled = Array.isArray(doc.enabledMcpjsonServers) ? doc.enabledMcpjsonServers : [];
  const next: Json = { ...doc, enabledMcpjsonServers: enabled.includes(SERVER_NAME) ? enabled : [...enabled, SERVER_NAME], hooks };
  const status: FileStatus = existing === null ? "created" : JSON.stringify(next) === JSON.stringify(doc) ? "unchanged" : "updated";
  return { content: `${JSON.stringify(next, null, 2)}\n`, status };
}
