import { readFileSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { findProjectRoot } from "../config.ts";
import { importPrdMarkdown, listPrds, type PlanImportReport } from "../core/index.ts";
import { usageError } from "../errors.ts";
import { commandGroup, commonFlags, type Action } from "./command.ts";
import { storeFromFlags, str } from "./context.ts";
import { printJson, printTable, say } from "./output.ts";
import { idList, maxParallelFlag, maxParallelFrom } from "./plan-flags.ts";

const list: Action = {
  summary: "list PRDs",
  flags: { initiative: { type: "string", value: "ID", description: "only this initiative's PRDs" }, ...commonFlags },
  async run({ flags }) {
    const prds = await listPrds(await storeFromFlags(flags), { initiativeId: str(flags.initiative) });
    if (flags.json) return printJson({ prds, totalPrds: prds.length });
    printTable(
      prds,
      [
        { header: "ID", value: (p) => p.id },
        { header: "TASKS", value: (p) => String(p.taskCount) },
        { header: "CREATED", value: (p) => p.createdAt },
        { header: "TITLE", value: (p) => p.title, max: 60 },
      ],
      "No PRDs.",
    );
  },
};

async function readPrd(file: string): Promise<string> {
  if (file === "-") return await Bun.stdin.text();
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (err as Error).message;
    throw usageError(`cannot read PRD ${file}: ${why}`);
  }
}

function counts(parts: [number, string][]): string {
  const shown = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
  return shown.length ? ` (${shown.join(", ")})` : "";
}

function summary(r: PlanImportReport): string {
  const s = r.streams;
  const t = r.tasks;
  const lines = [
    `${r.dryRun ? "Dry run, nothing written: would import" : "Imported"} "${r.initiative.name}" as ${r.initiative.id} (${r.prd.id})`,
    `  ${r.totalStreams} streams${counts([[s.created.length, "new"], [s.updated.length, "updated"], [s.unchanged.length, "unchanged"]])}, ` +
      `${r.totalTasks} tasks${counts([[t.created.length, "new"], [t.updated.length, "updated"], [t.unchanged.length, "unchanged"]])}`,
    `  Foundation:  ${idList(r.executionPlan.foundation)}`,
    `  Parallel:    ${idList(r.executionPlan.parallel)}`,
    `  Integration: ${idList(r.executionPlan.integration)}`,
  ];
  for (const x of r.retired)
    lines.push(`  ${x.initiativeId} is finished: its ids were renamed to make room (${idList(Object.entries({ ...x.streams, ...x.tasks }).map(([a, b]) => `${a} → ${b}`))})`);
  if (t.completed.length) lines.push(`  Checked in the PRD, so completed: ${idList(t.completed)}`);
  if (t.placeholders.length)
    lines.push(`  ${t.placeholders.length} placeholder task(s) for streams that state a number of tasks without listing them: ${idList(t.placeholders)}`);
  if (t.vanished.length)
    lines.push(`⚠ ${t.vanished.length} task(s) no longer in the PRD, kept as they are: ${idList(t.vanished.map((v) => v.id))}`);
  if (s.vanished.length) lines.push(`⚠ ${s.vanished.length} stream(s) no longer in the PRD, kept as they are: ${idList(s.vanished)}`);
  if (!r.dryRun) lines.push("Next: orch generate");
  return `${lines.join("\n")}\n`;
}

const importAction: Action = {
  summary: "import a PRD (the guide's markdown form) as an initiative, streams and tasks; again to update",
  args: ["FILE.md"],
  flags: {
    ...maxParallelFlag,
    "dry-run": { type: "boolean", description: "parse, validate and report; write nothing" },
    ...commonFlags,
  },
  async run({ flags, positionals }) {
    const file = positionals[0]!;
    const maxParallel = maxParallelFrom(flags["max-parallel"]);
    const text = await readPrd(file);
    const report = await importPrdMarkdown(await storeFromFlags(flags), text, {
      maxParallel,
      dryRun: flags["dry-run"] === true,
      source: file === "-" ? "stdin" : file,
      repoPath: file === "-" ? undefined : pathInRepository(file),
    });
    if (flags.json) return printJson(report);
    say(summary(report));
  },
};

/** `file` relative to the project's repository, "/"-separated, when it lies inside it. */
function pathInRepository(file: string): string | undefined {
  const rel = relative(findProjectRoot(), resolve(file));
  if (!rel || rel.startsWith("..") || isAbsolute(rel)) return undefined;
  return rel.split(sep).join("/");
}

export const command = commandGroup("prd", "import and list PRDs", { import: importAction, list });
