/**
 * Permission rules in Claude Code's own syntax, decided without I/O: `Bash(npm test:*)` (a
 * command prefix), `Bash(git status)` (exact), `Edit(./src/**)` (a path glob), `WebFetch(domain:x)`,
 * `mcp__server` / `mcp__server__tool`, or a bare tool name. Deny wins over allow; a call no rule
 * names is a question for a person.
 */
import { homedir } from "node:os";

export interface ToolCall {
  toolName: string;
  input: unknown;
  /** The session's working directory: relative path rules are read from it. */
  cwd?: string;
  /** The project root: a rule's `/path` is read from it, as Claude Code reads it from its settings' project. */
  root?: string;
}

export interface Policy {
  allow: readonly string[];
  deny: readonly string[];
}

export type PolicyVerdict = { effect: "allow" | "deny"; rule: string } | null;

interface ParsedRule {
  tool: string;
  spec: string | null;
}

const RULE = /^([A-Za-z0-9_.:-]+)(?:\((.*)\))?$/s;

export function parseRule(rule: string): ParsedRule | null {
  const m = RULE.exec(rule.trim());
  if (!m) return null;
  return { tool: m[1]!, spec: m[2] === undefined ? null : m[2] };
}

/** Why a rule cannot be read, or null when it is valid. */
export function ruleProblem(rule: string): string | null {
  if (rule.trim() === "") return "a rule may not be empty";
  return parseRule(rule) ? null : `"${rule}" is not a rule like Bash(npm test:*) or Edit(./src/**)`;
}

const field = (input: unknown, key: string): string | undefined => {
  const v = (input as Record<string, unknown> | null)?.[key];
  return typeof v === "string" ? v : undefined;
};

/** Tools whose rules name an argument (a command, a path, a domain). */
const ARGUMENT_TOOLS = new Set(["Bash", "Edit", "Write", "Read", "MultiEdit", "NotebookEdit", "WebFetch"]);

/** The argument a rule's parentheses are matched against, per tool. */
function primaryArgument(call: ToolCall): string | undefined {
  switch (call.toolName) {
    case "Bash":
      return field(call.input, "command");
    case "Edit":
    case "Write":
    case "Read":
    case "MultiEdit":
    case "NotebookEdit":
      return field(call.input, "file_path") ?? field(call.input, "notebook_path");
    case "WebFetch": {
      const url = field(call.input, "url");
      if (!url) return undefined;
      try {
        return `domain:${new URL(url).hostname}`;
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}

/** `*` any run of characters but `/`, `**` anything; everything else literal. */
function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      out += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (c === "*") out += "[^/]*";
    else out += c.replace(/[\\^$.|?+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "s");
}

/**
 * A path with `.` and `..` worked out (`/repo/src/../../etc/passwd` is `/etc/passwd`), relative
 * ones from `cwd`, `~/` from the home folder. A relative path without a cwd keeps the `..` that
 * climb out of it, so no rule for a folder covers them.
 */
function resolvePath(p: string, cwd: string | undefined): string {
  const home = p === "~" || p.startsWith("~/") ? homedir() : null;
  const full = home !== null ? `${home}/${p.slice(1)}` : p.startsWith("/") || !cwd ? p : `${cwd}/${p}`;
  const absolute = full.startsWith("/");
  const out: string[] = [];
  for (const part of full.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length && out[out.length - 1] !== "..") out.pop();
    else if (part !== ".." || !absolute) out.push(part);
  }
  return absolute ? `/${out.join("/")}` : out.join("/");
}

/**
 * What an allow rule never covers, since it would run or write more than the rule names:
 * chained commands (`;`, `&`, `|`, a line break), command substitution (`$(…)`, backticks),
 * process substitution (`<(…)`, `>(…)`) and redirections (`> ~/.bashrc`). Such a call is a
 * question for a person.
 */
const BEYOND_ONE_COMMAND = /[;&|`\n\r<>]|\$\(/;
/** Where a deny rule looks for a command: each part of a chain, subshell or substitution. */
const COMMAND_BOUNDARY = /&&|\|\||[;&|\n\r`(){}]|\$\(|[<>]\(/;
/** `NAME=value` before a command: the command is what follows. */
const ASSIGNMENTS = /^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/;

/** Runs of blanks are one space to the shell: `git  push` is `git push`. */
const squeeze = (s: string) => s.replace(/[ \t]+/g, " ").trim();

/**
 * The forms a deny rule is matched against: the segment as written, without quotes and
 * backslashes (`git "push"` runs `git push`) and without leading assignments.
 */
function denyForms(segment: string): string[] {
  const written = squeeze(segment);
  const unquoted = squeeze(written.replace(/["'\\]/g, ""));
  return [...new Set([written, unquoted, unquoted.replace(ASSIGNMENTS, "")])];
}

function matchesCommand(spec: string, c: string): boolean {
  if (spec.endsWith(":*")) {
    const prefix = squeeze(spec.slice(0, -2));
    return c === prefix || c.startsWith(`${prefix} `);
  }
  if (spec.includes("*")) return globToRegExp(squeeze(spec).replace(/\*\*/g, "*").replace(/\*/g, "**")).test(c);
  return c === squeeze(spec);
}

function matchesBash(spec: string, command: string, effect: "allow" | "deny"): boolean {
  // An allow rule never covers a chained command: `npm test && curl …` is a question.
  if (effect === "allow") return !BEYOND_ONE_COMMAND.test(command) && matchesCommand(spec, squeeze(command));
  return command.split(COMMAND_BOUNDARY).some((segment) => denyForms(segment).some((c) => matchesCommand(spec, c)));
}

/**
 * Path rules as Claude Code reads them: `//x` absolute, `~/x` in the home directory, `/x` from the
 * project root, `x` and `./x` from the session's directory.
 */
function matchesPath(spec: string, file: string, call: ToolCall): boolean {
  const anchored = spec.startsWith("//") ? spec.slice(1) : spec.startsWith("/") && call.root ? `${call.root}${spec}` : spec;
  return globToRegExp(resolvePath(anchored, call.cwd)).test(resolvePath(file, call.cwd));
}

export function ruleMatches(rule: string, call: ToolCall, effect: "allow" | "deny"): boolean {
  const parsed = parseRule(rule);
  if (!parsed) return false;
  if (parsed.tool.startsWith("mcp__") && parsed.spec === null) {
    return call.toolName === parsed.tool || call.toolName.startsWith(`${parsed.tool}__`);
  }
  if (parsed.tool !== call.toolName) return false;
  if (parsed.spec === null || parsed.spec === "*" || parsed.spec === "") return true;
  const arg = primaryArgument(call);
  if (arg === undefined) return false;
  if (call.toolName === "Bash") return matchesBash(parsed.spec, arg, effect);
  if (call.toolName === "WebFetch") return parsed.spec === arg;
  return matchesPath(parsed.spec, arg, call);
}

/** Deny wins; null when no rule speaks to the call. */
export function decide(policy: Policy, call: ToolCall): PolicyVerdict {
  const deny = policy.deny.find((r) => ruleMatches(r, call, "deny"));
  if (deny) return { effect: "deny", rule: deny };
  const allow = policy.allow.find((r) => ruleMatches(r, call, "allow"));
  return allow ? { effect: "allow", rule: allow } : null;
}

const MAX_LABEL = 120;

/** How a call is shown: `Bash(npm publish)`, `Edit(src/a.ts)`, `mcp__github__create_issue`. */
export function toolLabel(call: ToolCall): string {
  const arg = primaryArgument(call);
  if (arg === undefined) return call.toolName;
  const shown = arg.length > MAX_LABEL ? `${arg.slice(0, MAX_LABEL - 1)}…` : arg;
  return `${call.toolName}(${shown})`;
}

/**
 * The rule `orch allow ID --always` adds: this exact call from now on. Null when no rule can say
 * "exactly this": a `*` in the argument (a command ending in `:*` too) would be read as a pattern
 * and cover other calls, and a call whose argument is missing would become the bare tool name.
 */
export function ruleForCall(call: ToolCall): string | null {
  const arg = primaryArgument(call);
  // A Bash call without its command (an input cut short when stored) must not become `Bash`.
  if (arg === undefined) return ARGUMENT_TOOLS.has(call.toolName) ? null : call.toolName;
  if (arg.includes("*")) return null;
  return `${call.toolName}(${arg})`;
}
