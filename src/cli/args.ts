/**
 * A small argv parser with the messages SPEC asks for (`unknown flag "--foo" … (did you mean …)`).
 * Values are strings/booleans here; each command validates them with zod afterwards.
 */
import { usageError } from "../errors.ts";
import { suggest } from "../text/suggest.ts";

export interface FlagSpec {
  type: "string" | "boolean";
  description: string;
  /** Shown in help: `--status S`. */
  value?: string;
  short?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedArgs {
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[], specs: FlagSpecs, commandName: string): ParsedArgs {
  const flags: ParsedArgs["flags"] = {};
  const positionals: string[] = [];
  const shorts = new Map(Object.entries(specs).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--") || (arg.startsWith("-") && arg.length === 2 && arg !== "-")) {
      let name: string;
      let inline: string | undefined;
      if (arg.startsWith("--")) {
        const eq = arg.indexOf("=");
        name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
        inline = eq === -1 ? undefined : arg.slice(eq + 1);
      } else {
        const long = shorts.get(arg.slice(1));
        if (!long) throw unknownFlag(arg, specs, commandName);
        name = long;
      }
      const spec = specs[name];
      if (!spec) throw unknownFlag(`--${name}`, specs, commandName);
      if (spec.type === "boolean") {
        if (inline !== undefined) throw usageError(`flag --${name} takes no value`);
        flags[name] = true;
      } else {
        const value = inline ?? argv[++i];
        if (value === undefined || (inline === undefined && value.startsWith("--")))
          throw usageError(`flag --${name} needs a value${spec.value ? ` (${spec.value})` : ""}`);
        flags[name] = value;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { flags, positionals };
}

function unknownFlag(flag: string, specs: FlagSpecs, commandName: string) {
  const hint = suggest(flag.replace(/^-+/, ""), Object.keys(specs));
  return usageError(`unknown flag "${flag}" for "${commandName}"${hint ? ` (did you mean "--${hint}"?)` : ""}`);
}

export function formatFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : "    "}--${name}${s.value ? ` ${s.value}` : ""}`;
    return [left, s.description] as const;
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, d]) => `  ${l.padEnd(width)}  ${d}`).join("\n");
}
