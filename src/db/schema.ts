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

const t = defineTables(sqliteKit);

export const initiatives = t.initiatives;
export const prds = t.prds;
export const streams = t.streams;
export const tasks = t.tasks;
export const workProducts = t.workProducts;
export const agentActivity = t.agentActivity;
export const agentSessions = t.agentSessions;
export const agents = t.agents;
export const inbox = t.inbox;
export const policyRules = t.policyRules;
export const streamBudgets = t.streamBudgets;
export const events = t.events;
export const feedState = t.feedState;

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
