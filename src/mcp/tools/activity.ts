import { z } from "zod";
import { heartbeat, heartbeatSchema } from "../../core/index.ts";
import { defineTool } from "../tool.ts";

export const tools = [
  defineTool({
    name: "agent_heartbeat",
    description: "Report that you are still working on a task; without one for 5 minutes you show as idle.",
    input: z.strictObject(heartbeatSchema.shape),
    run: ({ store }, a) => heartbeat(store, a),
  }),
];
