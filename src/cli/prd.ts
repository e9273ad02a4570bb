import { listPrds } from "../core/index.ts";
import { commandGroup, commonFlags, type Action } from "./command.ts";
import { storeFromFlags, str } from "./context.ts";
import { printJson, printTable } from "./output.ts";

const list: Action = {
  summary: "list PRDs",
  flags: { initiative: { type: "string", value: "ID", description: "only this initiative's PRDs" }, ...commonFlags },
  run({ flags }) {
    const prds = listPrds(storeFromFlags(flags), { initiativeId: str(flags.initiative) });
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

export const command = commandGroup("prd", "import and list PRDs", { list });
