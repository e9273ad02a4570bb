/** `orch agent-sim STREAM` (hidden): the built-in simulated agent, for `orch demo` and tests. */
import { usageError } from "../errors.ts";
import { simulateAgent } from "../orchestrate/sim-agent.ts";
import { singleAction } from "./command.ts";
import { intFlag, storeFromFlags, str } from "./context.ts";

export const command = singleAction("agent-sim", {
  summary: "simulated agent: works through a stream's tasks (edits, commits, heartbeats)",
  optionalArgs: ["STREAM"],
  flags: {
    pause: { type: "string", value: "MS", description: "pause per task (default 300)" },
    "stop-after": { type: "string", value: "N", description: "exit with code 3 after N tasks (simulates a crash)" },
    record: { type: "string", value: "FILE", description: "append a JSON line per event (start, task, end)" },
    agent: { type: "string", value: "ID", description: "agent id (default sim)" },
    "done-before-commit": { type: "boolean", description: "mark each task completed, then commit its files a pause later" },
    db: { type: "string", value: "PATH|URL", description: "database file or postgres:// URL (else ORCH_DB)" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  async run({ flags, positionals }) {
    const streamId = positionals[0] ?? process.env.ORCH_STREAM_ID;
    if (!streamId) throw usageError("orch agent-sim needs a STREAM (or ORCH_STREAM_ID)");
    return simulateAgent(await storeFromFlags(flags), {
      streamId,
      cwd: process.cwd(),
      pauseMs: intFlag("pause", flags.pause, { min: 0, max: 600_000 }, 300),
      stopAfter: intFlag("stop-after", flags["stop-after"], { min: 1, max: 1_000_000 }),
      record: str(flags.record),
      agentId: str(flags.agent) ?? "sim",
      doneBeforeCommit: flags["done-before-commit"] === true,
    });
  },
});
