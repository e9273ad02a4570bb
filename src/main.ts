/**
 * Entry point: parse the command name, lazy-load its module, map errors to one stderr line and
 * an exit code (0 ok, 1 failed, 2 usage). Kept tiny: `orch --version` must start as fast as bare Bun.
 */
import { VERSION } from "./version.ts";
import type { CommandEntry } from "./cli/registry.ts";

const USAGE_HEADER = "orch — orchestrate parallel AI-coding-agent work\n\nUsage: orch <command> [flags]\n\nCommands:\n";

function topHelp(commands: readonly CommandEntry[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.filter((c) => !c.hidden).map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `${USAGE_HEADER}${lines.join("\n")}\n\nFlags:\n  --version  print the version\n  -h, --help print this help\n\nRun "orch <command> --help" for a command's flags.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // Claude Code runs `orch hook` on every tool call: straight to it, before anything else loads.
  if (name === "hook") return (await (await import("./cli/hook.ts")).command.run(rest)) ?? 0;
  if (name === "--version" || name === "-v" || name === "version") {
    console.log(`orch ${VERSION}`);
    return 0;
  }
  const { commands } = await import("./cli/registry.ts");
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(topHelp(commands).trimEnd());
    return name === undefined ? 2 : 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    const { suggest } = await import("./text/suggest.ts");
    const hint = suggest(name, commands.filter((c) => !c.hidden).map((c) => c.name));
    const what = name.startsWith("-") ? "flag" : "command";
    throw Object.assign(new Error(`unknown ${what} "${name}"${hint ? ` (did you mean "${hint}"?)` : ""}`), { exitCode: 2 });
  }
  const { command } = await entry.load();
  const code = await command.run(rest);
  return typeof code === "number" ? code : 0;
}

async function report(err: unknown): Promise<number> {
  const { oneLine } = await import("./text/neutralise.ts");
  const e = err as { message?: string; exitCode?: number; name?: string; stack?: string };
  const message = e?.name === "OrchError" || e?.exitCode ? e.message : `unexpected error: ${e?.message ?? String(err)}`;
  // The message may quote what an agent or PRD author wrote: one line, no control characters.
  console.error(`orch: ${oneLine(String(message).split("\n")[0]!)}`);
  if (process.env.ORCH_DEBUG === "1" && e?.stack) console.error(e.stack);
  return typeof e?.exitCode === "number" ? e.exitCode : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (err) => {
    process.exitCode = await report(err);
  },
);
