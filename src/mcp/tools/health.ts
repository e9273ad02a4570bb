import { z } from "zod";
import { VERSION } from "../../version.ts";
import { defineTool } from "../tool.ts";

export const tools = [
  defineTool({
    name: "health_check",
    readOnly: true,
    description: "Server and database status.",
    input: z.strictObject({}),
    run: ({ store }) => ({ status: "ok", timestamp: store.now(), version: VERSION, database: store.path }),
  }),
];
