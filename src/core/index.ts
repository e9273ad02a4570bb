/** The one service layer the CLI, API, MCP and orchestrator all call. */
export * from "./activity.ts";
export * from "./events.ts";
export * from "./initiatives.ts";
export * from "./prds.ts";
export * from "./progress.ts";
export * from "./schemas.ts";
export * from "./streams.ts";
export * from "./summary.ts";
export * from "./task-view.ts";
export * from "./tasks.ts";
export * from "./work-products.ts";
export * from "./graph.ts";
export * from "./plan-import.ts";
export * from "./prd-markdown.ts";
export * from "./samples.ts";
