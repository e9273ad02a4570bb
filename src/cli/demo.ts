/**
 * `orch demo [--dir DIR]`: seed the guide's Dark Mode initiative into a scratch database and show
 * its streams. (The full three-phase run with simulated agents arrives with `orch start`.)
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createTask, linkInitiative, listStreams } from "../core/index.ts";
import { openStore } from "../db/client.ts";
import { singleAction } from "./command.ts";
import { out } from "./io.ts";
import { str } from "./context.ts";
import { printTable } from "./output.ts";

export const SAMPLE_STREAMS = [
  { id: "Stream-A", name: "Core Theme System", phase: "foundation", deps: [], tasks: ["Create theme type definitions", "Implement theme provider", "Add theme storage service", "Create theme switching API"] },
  { id: "Stream-B", name: "UI Component Updates", phase: "parallel", deps: ["Stream-A"], tasks: ["Update Button component", "Update Input component", "Update Card component"] },
  { id: "Stream-C", name: "Page Theme Integration", phase: "parallel", deps: ["Stream-A"], tasks: ["Update Dashboard page", "Update Settings page", "Update Profile page"] },
  { id: "Stream-Z", name: "Testing and Documentation", phase: "integration", deps: ["Stream-B", "Stream-C"], tasks: ["E2E theme switching tests", "Visual regression tests", "Update component documentation", "Update user guide", "Performance testing"] },
] as const;

export const command = singleAction("demo", {
  summary: "seed the guide's sample initiative into a scratch folder and show it",
  flags: {
    dir: { type: "string", value: "DIR", description: "scratch folder (default ./.orch-demo)" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  run({ flags }) {
    const dir = resolve(str(flags.dir) ?? ".orch-demo");
    mkdirSync(dir, { recursive: true });
    const dbPath = join(dir, "tasks.db");
    const store = openStore(dbPath);
    if (listStreams(store).length === 0) {
      store.tx(() => {
        linkInitiative(store, { initiativeId: "INIT-dark-mode", title: "Add Dark Mode Support" });
        let n = 1;
        for (const s of SAMPLE_STREAMS)
          for (const title of s.tasks)
            createTask(store, {
              id: `TASK-${String(n++).padStart(3, "0")}`,
              title,
              metadata: { streamId: s.id, streamName: s.name, streamPhase: s.phase, dependencies: [...s.deps] },
            });
      });
    }
    out(`Sample initiative "Add Dark Mode Support" in ${dbPath}\n\n`);
    printTable(
      listStreams(store),
      [
        { header: "STREAM", value: (s) => `${s.streamId} (${s.streamPhase})` },
        { header: "NAME", value: (s) => s.streamName },
        { header: "PROGRESS", value: (s) => `${s.progressPercentage.toFixed(1)}% (${s.completedTasks}/${s.totalTasks} tasks)` },
        { header: "DEPENDS ON", value: (s) => s.dependencies.join(", ") || "-" },
      ],
      "No streams.",
    );
    out(`\nTry: ORCH_DB=${dbPath} dist/orch task list\n`);
  },
});
