/**
 * The SQLite tables every subcommand shares: db/tables.ts built with drizzle's SQLite builders.
 * Columns, names and indexes are exactly those of the migrations in db/migrations/ (the
 * PostgreSQL twins live in db/schema-pg.ts). Exported one by one, as drizzle-kit and the core
 * read them.
 */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { defineTables, type ColumnKit } from "./tables.ts";

export const sqliteKit: ColumnKit = {
  table: sqliteTable,
  text,
  integer,
  real,
  index,
  uniqueIndex,
  isoNow: () => sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`,
  pgOnly: () => [],
};

const sqliteTables = defineTables(sqliteKit);
type Tables = typeof sqliteTables;

export let initiatives = sqliteTables.initiatives;
export let prds = sqliteTables.prds;
export let streams = sqliteTables.streams;
export let tasks = sqliteTables.tasks;
export let workProducts = sqliteTables.workProducts;
export let agentActivity = sqliteTables.agentActivity;
export let agentSessions = sqliteTables.agentSessions;
export let agents = sqliteTables.agents;
export let inbox = sqliteTables.inbox;
export let policyRules = sqliteTables.policyRules;
export let streamBudgets = sqliteTables.streamBudgets;
export let streamClaims = sqliteTables.streamClaims;
export let apiTokens = sqliteTables.apiTokens;
export let events = sqliteTables.events;
export let feedState = sqliteTables.feedState;

/**
 * Which engine's tables the exports above are. A process talks to one database (db/client.ts
 * openStore refuses a second kind), and the PostgreSQL store rebinds them to their twins when it
 * opens (ES module bindings are live, so every importer then sees those). The twins have the same
 * row types (schema-pg.ts PgTables), so the core is typed once, against these.
 */
export function bindTables(next: Tables): void {
  ({ initiatives, prds, streams, tasks, workProducts, agentActivity, agentSessions, agents, inbox, policyRules, streamBudgets, streamClaims, apiTokens, events, feedState } = next);
}

export type InitiativeRow = typeof initiatives.$inferSelect;
export type PrdRow = typeof prds.$inferSelect;
export type StreamRow = typeof streams.$inferSelect;
export type TaskRow = typeof tasks.$inferSelect;
export type WorkProductRow = typeof workProducts.$inferSelect;
export type ActivityRow = typeof agentActivity.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type AgentSessionRow = typeof agentSessions.$inferSelect;
export type AgentRow = typeof agents.$inferSelect;
export type AgentStatus = AgentRow["status"];
export type InboxRow = typeof inbox.$inferSelect;
export type PolicyRuleRow = typeof policyRules.$inferSelect;
export type StreamBudgetRow = typeof streamBudgets.$inferSelect;
export type StreamClaimRow = typeof streamClaims.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
