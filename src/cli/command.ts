/**
 * The shape of a command and of command groups (`orch task list|get|…`), with generated help.
 */
import { out } from "../sys/io.ts";
import { usageError } from "../errors.ts";
import { suggest } from "../text/suggest.ts";
import { formatFlags, parseArgs, type FlagSpecs, type ParsedArgs } from "./args.ts";

export interface Command {
  name: string;
  summary: string;
  run(argv: string[]): Promise<number | void> | number | void;
}

export const commonFlags = {
  db: { type: "string", value: "PATH|URL", description: "database file or postgres:// URL (else ORCH_DB, else TASK_DB_PATH/<workspace>/tasks.db)" },
  json: { type: "boolean", description: "machine-readable output" },
  help: { type: "boolean", short: "h", description: "show this help" },
} satisfies FlagSpecs;

export interface Action {
  summary: string;
  /** e.g. "ID" or "FILE.md" — shown in help and used to check the count of positionals. */
  args?: string[];
  optionalArgs?: string[];
  flags: FlagSpecs;
  run(parsed: ParsedArgs): Promise<number | void> | number | void;
}

export function actionHelp(path: string, a: Action): string {
  const args = [...(a.args ?? []), ...(a.optionalArgs ?? []).map((x) => `[${x}]`)].join(" ");
  return `${a.summary}\n\nUsage: ${path}${args ? ` ${args}` : ""} [flags]\n\nFlags:\n${formatFlags(a.flags)}\n`;
}

/** Parse argv for one action: flags, `--help`, positional count. Returns null when help was printed. */
export function parseAction(path: string, a: Action, argv: string[]): ParsedArgs | null {
  const parsed = parseArgs(argv, a.flags, path);
  if (parsed.flags.help) {
    out(actionHelp(path, a));
    return null;
  }
  const min = a.args?.length ?? 0;
  const max = min + (a.optionalArgs?.length ?? 0);
  if (parsed.positionals.length < min) throw usageError(`${path}: missing ${a.args![parsed.positionals.length]}`);
  if (parsed.positionals.length > max)
    throw usageError(`${path}: unexpected argument "${parsed.positionals[max]}"`);
  return parsed;
}

export function singleAction(name: string, action: Action): Command {
  return {
    name,
    summary: action.summary,
    async run(argv) {
      const parsed = parseAction(`orch ${name}`, action, argv);
      return parsed ? await action.run(parsed) : 0;
    },
  };
}

export function commandGroup(name: string, summary: string, actions: Record<string, Action>, defaultAction?: string): Command {
  const help = () => {
    const width = Math.max(...Object.keys(actions).map((k) => k.length));
    const lines = Object.entries(actions).map(([k, a]) => `  ${k.padEnd(width)}  ${a.summary}`);
    return `${summary}\n\nUsage: orch ${name} <${Object.keys(actions).join("|")}> [flags]\n\nCommands:\n${lines.join("\n")}\n\nRun "orch ${name} <command> --help" for its flags.\n`;
  };
  return {
    name,
    summary,
    async run(argv) {
      const [sub, ...rest] = argv;
      if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
        if (sub === undefined && defaultAction) return this.run([defaultAction]);
        out(help());
        return sub === undefined ? 2 : 0;
      }
      const action = actions[sub];
      if (!action) {
        if (sub.startsWith("-") && defaultAction) return this.run([defaultAction, ...argv]);
        const hint = suggest(sub, Object.keys(actions));
        throw usageError(`unknown command "${name} ${sub}"${hint ? ` (did you mean "${name} ${hint}"?)` : ""}`);
      }
      const parsed = parseAction(`orch ${name} ${sub}`, action, rest);
      return parsed ? await action.run(parsed) : 0;
    },
  };
}
