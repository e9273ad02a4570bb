/**
 * Every tool group the server offers, in listing order. A new group is one module exporting
 * `tools: ToolDef[]` and one entry here (e.g. `import * as worktrees from "./worktrees.ts"`).
 */
import type { ToolDef } from "../tool.ts";
import * as activity from "./activity.ts";
import * as health from "./health.ts";
import * as inbox from "./inbox.ts";
import * as initiatives from "./initiatives.ts";
import * as prds from "./prds.ts";
import * as streams from "./streams.ts";
import * as tasks from "./tasks.ts";
import * as workProducts from "./work-products.ts";
import * as worktrees from "./worktrees.ts";

export const toolGroups: ReadonlyArray<{ tools: readonly ToolDef[] }> = [health, initiatives, prds, tasks, workProducts, activity, streams, worktrees, inbox];

export const allTools = (): ToolDef[] => toolGroups.flatMap((g) => g.tools);
