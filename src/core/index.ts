/** The one service layer the CLI, API, MCP and orchestrator all call. */
export * from "./activity.ts";
export * from "./conflicts.ts";
export * from "./events.ts";
export * from "./gate.ts";
export * from "./initiatives.ts";
export * from "./merge-record.ts";
export * from "./prds.ts";
export * from "./progress.ts";
export * from "./schemas.ts";
export * from "./streams.ts";
export * from "./summary.ts";
export * from "./task-view.ts";
export * from "./tasks.ts";
export * from "./work-products.ts";
