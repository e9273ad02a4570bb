/**
 * The one schema every subcommand shares. Stream id and status live in real, indexed columns
 * (not only in metadata JSON) so the per-stream figures the monitor polls stay cheap; the
 * figures themselves are kept on the stream row, refreshed in the same transaction as each
 * task change.
 */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const initiatives = sqliteTable("initiatives", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  description: text("description"),
  linkedAt: text("linked_at").notNull(),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const prds = sqliteTable(
  "prds",
  {
    id: text("id").primaryKey(),
    initiativeId: text("initiative_id").references(() => initiatives.id),
    title: text("title").notNull(),
    description: text("description"),
    content: text("content").notNull().default(""),
    status: text("status").notNull().default("active"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("prds_initiative_idx").on(t.initiativeId)],
);

export const streams = sqliteTable(
  "streams",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    phase: text("phase", { enum: ["foundation", "parallel", "integration"] }).notNull().default("parallel"),
    dependencies: text("dependencies", { mode: "json" }).$type<string[]>().notNull().default([]),
    worktreePath: text("worktree_path"),
    branchName: text("branch_name"),
    archived: integer("archived", { mode: "boolean" }).notNull().default(false),
    initiativeId: text("initiative_id").references(() => initiatives.id),
    // Figures kept in step with the stream's tasks (see core/streams.ts refreshStreamFigures).
    totalTasks: integer("total_tasks").notNull().default(0),
    completedTasks: integer("completed_tasks").notNull().default(0),
    inProgressTasks: integer("in_progress_tasks").notNull().default(0),
    blockedTasks: integer("blocked_tasks").notNull().default(0),
    pendingTasks: integer("pending_tasks").notNull().default(0),
    files: text("files", { mode: "json" }).$type<string[]>().notNull().default([]),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("streams_initiative_idx").on(t.initiativeId)],
);

export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    prdId: text("prd_id").references(() => prds.id),
    parentId: text("parent_id"),
    title: text("title").notNull(),
    description: text("description"),
    assignedAgent: text("assigned_agent"),
    status: text("status", { enum: ["pending", "in_progress", "blocked", "completed", "cancelled"] })
      .notNull()
      .default("pending"),
    blockedReason: text("blocked_reason"),
    notes: text("notes"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    streamId: text("stream_id").references(() => streams.id),
    archived: integer("archived", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("tasks_stream_status_idx").on(t.streamId, t.status),
    index("tasks_prd_idx").on(t.prdId),
    index("tasks_status_idx").on(t.status),
    index("tasks_parent_idx").on(t.parentId),
    // Counting the live tasks (a page's matchingTasks) reads this instead of every row.
    index("tasks_archived_idx").on(t.archived),
  ],
);

export const workProducts = sqliteTable(
  "work_products",
  {
    id: text("id").primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    type: text("type").notNull(),
    title: text("title").notNull(),
    content: text("content").notNull(),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("work_products_task_idx").on(t.taskId)],
);

export const agentActivity = sqliteTable(
  "agent_activity",
  {
    id: text("id").primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    agentId: text("agent_id").notNull(),
    streamId: text("stream_id"),
    phase: text("phase"),
    notes: text("notes"),
    startedAt: text("started_at").notNull(),
    lastHeartbeat: text("last_heartbeat").notNull(),
    endedAt: text("ended_at"),
  },
  (t) => [
    uniqueIndex("agent_activity_task_agent_idx").on(t.taskId, t.agentId),
    index("agent_activity_stream_idx").on(t.streamId),
  ],
);

/**
 * One row per agent launch by `orch start`: the Claude Code session it became, what it cost
 * (from its final `result` event), and every permission it was denied (JSON list, capped).
 */
export const agentSessions = sqliteTable(
  "agent_sessions",
  {
    id: integer("id").primaryKey(),
    streamId: text("stream_id").notNull(),
    initiativeId: text("initiative_id"),
    launch: integer("launch").notNull(),
    sessionId: text("session_id"),
    startedAt: text("started_at").notNull(),
    endedAt: text("ended_at"),
    exitCode: integer("exit_code"),
    outcome: text("outcome"),
    costUsd: real("cost_usd"),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    cacheReadTokens: integer("cache_read_tokens").notNull().default(0),
    cacheCreationTokens: integer("cache_creation_tokens").notNull().default(0),
    turns: integer("turns"),
    denials: text("denials", { mode: "json" }).$type<{ toolName: string; detail: string; rule: string }[]>().notNull().default(sql`'[]'`),
  },
  (t) => [index("agent_sessions_stream_idx").on(t.streamId)],
);

/**
 * A Claude Code session as its hooks report it, keyed by Claude Code's own session_id. Written by
 * `orch hook` (one row upsert per hook call) and read by every face; `stale`/`exited` are also
 * decided at read time from `updated_at` and the pid (core/agents.ts).
 */
export const agents = sqliteTable(
  "agents",
  {
    sessionId: text("session_id").primaryKey(),
    streamId: text("stream_id"),
    pid: integer("pid"),
    launcher: text("launcher"),
    status: text("status", { enum: ["starting", "working", "waiting_permission", "waiting_input", "idle", "error", "exited"] }).notNull(),
    tool: text("tool"),
    lastMessage: text("last_message"),
    pendingQuestion: text("pending_question"),
    cwd: text("cwd"),
    transcriptPath: text("transcript_path"),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    cacheReadTokens: integer("cache_read_tokens").notNull().default(0),
    cacheCreationTokens: integer("cache_creation_tokens").notNull().default(0),
    costUsd: real("cost_usd"),
    startedAt: text("started_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    endedAt: text("ended_at"),
  },
  (t) => [index("agents_stream_idx").on(t.streamId), index("agents_updated_idx").on(t.updatedAt)],
);

/**
 * Every question an agent waits on (a permission request) or orch asks (raise a stream's budget?).
 * `pending` until answered by a person or a policy rule, or until `expires_at` (then `expired`).
 */
export const inbox = sqliteTable(
  "inbox",
  {
    id: integer("id").primaryKey(),
    kind: text("kind", { enum: ["permission", "budget"] }).notNull(),
    source: text("source", { enum: ["hook", "prompt_tool", "budget"] }).notNull(),
    sessionId: text("session_id"),
    streamId: text("stream_id"),
    agent: text("agent"),
    toolName: text("tool_name"),
    toolInput: text("tool_input", { mode: "json" }).$type<unknown>(),
    toolUseId: text("tool_use_id"),
    question: text("question").notNull(),
    status: text("status", { enum: ["pending", "allowed", "denied", "expired"] }).notNull(),
    answeredBy: text("answered_by"),
    answeredHow: text("answered_how", { enum: ["person", "policy", "timeout", "gone"] }),
    reason: text("reason"),
    always: integer("always", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
    answeredAt: text("answered_at"),
  },
  (t) => [index("inbox_pending_idx").on(t.status).where(sql`${t.status} = 'pending'`), index("inbox_stream_idx").on(t.streamId)],
);

/** Rules a person added with `orch allow ID --always`, beside the config file's policy. */
export const policyRules = sqliteTable("policy_rules", {
  id: integer("id").primaryKey(),
  rule: text("rule").notNull().unique(),
  effect: text("effect", { enum: ["allow", "deny"] }).notNull(),
  createdBy: text("created_by"),
  createdAt: text("created_at").notNull(),
});

/** Per-stream budget state: what `orch budget raise` added, and whether the stream is paused. */
export const streamBudgets = sqliteTable("stream_budgets", {
  streamId: text("stream_id").primaryKey(),
  raisedUsd: real("raised_usd").notNull().default(0),
  raisedTokens: integer("raised_tokens").notNull().default(0),
  pausedReason: text("paused_reason"),
  pausedAt: text("paused_at"),
  updatedAt: text("updated_at").notNull(),
});

/**
 * Append-only change log: one row in the same transaction as every change; feeds SSE.
 * Rows are never deleted, so a plain rowid key is already increasing (AUTOINCREMENT would write
 * sqlite_sequence on every change), and the only index covers stream events, which the merge
 * record looks up: the most frequent change, a task's, writes one log page and nothing more.
 */
export const events = sqliteTable(
  "events",
  {
    id: integer("id").primaryKey(),
    kind: text("kind", { enum: ["initiative", "prd", "stream", "task", "activity", "work_product", "agent_session", "agent", "inbox", "budget"] }).notNull(),
    entityId: text("entity_id").notNull(),
    op: text("op", { enum: ["create", "update", "archive", "unarchive", "delete"] }).notNull(),
    payload: text("payload", { mode: "json" }).$type<unknown>().notNull(),
    createdAt: text("created_at")
      .notNull()
      .default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
  },
  (t) => [index("events_stream_idx").on(t.entityId).where(sql`${t.kind} = 'stream'`)],
);

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
