/** A command whose capability is not built yet says so plainly (exit 1) instead of pretending. */
import { failed } from "../errors.ts";
import type { Command } from "./command.ts";

export function pending(name: string, summary: string): Command {
  return {
    name,
    summary,
    run() {
      throw failed(`"orch ${name}" is not available in this build yet`);
    },
  };
}
