/**
 * The one schema, written once for both databases. Every table is defined here against a small
 * kit of column builders; db/schema.ts hands it drizzle's SQLite builders (the tables the core uses
 * today, unchanged) and db/schema-pg.ts hands it PostgreSQL twins of the same calls (text → text,
 * JSON text → jsonb, integer → bigint, integer booleans → boolean, real → double precision, an
 * integer primary key → an identity column). drizzle-kit generates each dialect's migrations from
 * its own module (drizzle.config.ts, drizzle.pg.config.ts); test/db/schema-drift.test.ts checks
 * that both migration sets still match these definitions.
 *
 * The kit's signatures are drizzle's SQLite ones, so the SQLite tables keep their exact types;
 * use only what the kit offers (the PostgreSQL kit implements exactly these calls and refuses
 * modes it has no twin for). A database-computed default that differs by dialect is a kit
 * function (`isoNow`), never SQL written here.
 *
 * Stream id and status live in real, indexed columns (not only in metadata JSON) so the
 * per-stream figures the monitor polls stay cheap; the figures themselves are kept on the stream
 * row, refreshed in the same transaction as each task change.
 */
import { sql, type SQL } from "drizzle-orm";
import type { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** The builders the table definitions use; see db/schema.ts and db/schema-pg.ts for the two kits. */
export interface ColumnKit {
  table: typeof sqliteTable;
  text: typeof text;
  integer: typeof integer;
  real: typeof real;
  index: typeof index;
  uniqueIndex: typeof uniqueIndex;
  /** Column default: the current time as ISO-8601 UTC with milliseconds (2026-01-02T03:04:05.678Z), computed by the database. */
  isoNow(): SQL;
  /**
   * Indexes only PostgreSQL gets: the SQLite kit answers [] without calling `build`, so SQLite
   * writes no index entry for them (its hot path stays as it is).
   */
  pgOnly<T>(build: () => T[]): T[];
}

/** Every orch table, built with the given kit. */
export function defineTables(k: ColumnKit) {
  const initiatives = k.table("initiatives", {
    id: k.text("id").primaryKey(),
    name: k.text("name").notNull(),
    description: k.text("description"),
    linkedAt: k.text("linked_at").notNull(),
    createdAt: k.text("created_at").notNull(),
    updatedAt: k.text("updated_at").notNull(),
  });

  const prds = k.table(
    "prds",
    {
      id: k.text("id").primaryKey(),
      initiativeId: k.text("initiative_id").references(() => initiatives.id),
      title: k.text("title").notNull(),
      description: k.text("description"),
      content: k.text("content").notNull().default(""),
      status: k.text("status").notNull().default("active"),
      metadata: k.text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
      createdAt: k.text("created_at").notNull(),
      updatedAt: k.text("updated_at").notNull(),
    },
    (t) => [k.index("prds_initiative_idx").on(t.initiativeId)],
  );

  const streams = k.table(
    "streams",
    {
      id: k.text("id").primaryKey(),
      name: k.text("name").notNull(),
      phase: k.text("phase", { enum: ["foundation", "parallel", "integration"] }).notNull().default("parallel"),
      dependencies: k.text("dependencies", { mode: "json" }).$type<string[]>().notNull().default([]),
      worktreePath: k.text("worktree_path"),
      // The machine that worktree path is on (sys/machine.ts); null: set before machines were recorded, or by hand.
      worktreeHost: k.text("worktree_host"),
      branchName: k.text("branch_name"),
      archived: k.integer("archived", { mode: "boolean" }).notNull().default(false),
      initiativeId: k.text("initiative_id").references(() => initiatives.id),
      // Figures kept in step with the stream's tasks (see core/streams.ts refreshStreamFigures).
      totalTasks: k.integer("total_tasks").notNull().default(0),
      completedTasks: k.integer("completed_tasks").notNull().default(0),
      inProgressTasks: k.integer("in_progress_tasks").notNull().default(0),
      blockedTasks: k.integer("blocked_tasks").notNull().default(0),
      pendingTasks: k.integer("pending_tasks").notNull().default(0),
      files: k.text("files", { mode: "json" }).$type<string[]>().notNull().default([]),
      createdAt: k.text("created_at").notNull(),
      updatedAt: k.text("updated_at").notNull(),
    },
    (t) => [k.index("streams_initiative_idx").on(t.initiativeId)],
  );

  const tasks = k.table(
    "tasks",
    {
      id: k.text("id").primaryKey(),
      prdId: k.text("prd_id").references(() => prds.id),
      parentId: k.text("parent_id"),
      title: k.text("title").notNull(),
      description: k.text("description"),
      assignedAgent: k.text("assigned_agent"),
      status: k.text("status", { enum: ["pending", "in_progress", "blocked", "completed", "cancelled"] })
        .notNull()
        .default("pending"),
      blockedReason: k.text("blocked_reason"),
      notes: k.text("notes"),
      metadata: k.text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
      streamId: k.text("stream_id").references(() => streams.id),
      archived: k.integer("archived", { mode: "boolean" }).notNull().default(false),
      createdAt: k.text("created_at").notNull(),
      updatedAt: k.text("updated_at").notNull(),
    },
    (t) => [
      k.index("tasks_stream_status_idx").on(t.streamId, t.status),
      k.index("tasks_prd_idx").on(t.prdId),
      k.index("tasks_status_idx").on(t.status),
      k.index("tasks_parent_idx").on(t.parentId),
      // Counting the live tasks (a page's matchingTasks) reads this instead of every row.
      k.index("tasks_archived_idx").on(t.archived),
    ],
  );

  const workProducts = k.table(
    "work_products",
    {
      id: k.text("id").primaryKey(),
      taskId: k.text("task_id")
        .notNull()
        .references(() => tasks.id),
      type: k.text("type").notNull(),
      title: k.text("title").notNull(),
      content: k.text("content").notNull(),
      metadata: k.text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
      createdAt: k.text("created_at").notNull(),
    },
    (t) => [k.index("work_products_task_idx").on(t.taskId)],
  );

  const agentActivity = k.table(
    "agent_activity",
    {
      id: k.text("id").primaryKey(),
      taskId: k.text("task_id")
        .notNull()
        .references(() => tasks.id),
      agentId: k.text("agent_id").notNull(),
      streamId: k.text("stream_id"),
      phase: k.text("phase"),
      notes: k.text("notes"),
      startedAt: k.text("started_at").notNull(),
      lastHeartbeat: k.text("last_heartbeat").notNull(),
      endedAt: k.text("ended_at"),
    },
    (t) => [
      k.uniqueIndex("agent_activity_task_agent_idx").on(t.taskId, t.agentId),
      k.index("agent_activity_stream_idx").on(t.streamId),
    ],
  );

  /**
   * One row per agent launch by `orch start`: the Claude Code session it became, what it cost
   * (from its final `result` event), and every permission it was denied (JSON list, capped).
   */
  const agentSessions = k.table(
    "agent_sessions",
    {
      id: k.integer("id").primaryKey(),
      streamId: k.text("stream_id").notNull(),
      initiativeId: k.text("initiative_id"),
      launch: k.integer("launch").notNull(),
      sessionId: k.text("session_id"),
      startedAt: k.text("started_at").notNull(),
      endedAt: k.text("ended_at"),
      exitCode: k.integer("exit_code"),
      outcome: k.text("outcome"),
      costUsd: k.real("cost_usd"),
      inputTokens: k.integer("input_tokens").notNull().default(0),
      outputTokens: k.integer("output_tokens").notNull().default(0),
      cacheReadTokens: k.integer("cache_read_tokens").notNull().default(0),
      cacheCreationTokens: k.integer("cache_creation_tokens").notNull().default(0),
      turns: k.integer("turns"),
      denials: k.text("denials", { mode: "json" }).$type<{ toolName: string; detail: string; rule: string }[]>().notNull().default(sql`'[]'`),
    },
    (t) => [k.index("agent_sessions_stream_idx").on(t.streamId)],
  );

  /**
   * A Claude Code session as its hooks report it, keyed by Claude Code's own session_id. Written by
   * `orch hook` (one row upsert per hook call) and read by every face; `stale`/`exited` are also
   * decided at read time from `updated_at` and the pid (core/agents.ts).
   */
  const agents = k.table(
    "agents",
    {
      sessionId: k.text("session_id").primaryKey(),
      streamId: k.text("stream_id"),
      pid: k.integer("pid"),
      // The machine the session runs on: its pid, cwd and transcript path are that machine's (sys/machine.ts).
      host: k.text("host"),
      launcher: k.text("launcher"),
      status: k.text("status", { enum: ["starting", "working", "waiting_permission", "waiting_input", "idle", "error", "exited"] }).notNull(),
      tool: k.text("tool"),
      lastMessage: k.text("last_message"),
      pendingQuestion: k.text("pending_question"),
      cwd: k.text("cwd"),
      transcriptPath: k.text("transcript_path"),
      inputTokens: k.integer("input_tokens").notNull().default(0),
      outputTokens: k.integer("output_tokens").notNull().default(0),
      cacheReadTokens: k.integer("cache_read_tokens").notNull().default(0),
      cacheCreationTokens: k.integer("cache_creation_tokens").notNull().default(0),
      costUsd: k.real("cost_usd"),
      startedAt: k.text("started_at").notNull(),
      updatedAt: k.text("updated_at").notNull(),
      endedAt: k.text("ended_at"),
    },
    (t) => [k.index("agents_stream_idx").on(t.streamId), k.index("agents_updated_idx").on(t.updatedAt)],
  );

  /**
   * Every question an agent waits on (a permission request) or orch asks (raise a stream's budget?).
   * `pending` until answered by a person or a policy rule, or until `expires_at` (then `expired`).
   */
  const inbox = k.table(
    "inbox",
    {
      id: k.integer("id").primaryKey(),
      kind: k.text("kind", { enum: ["permission", "budget"] }).notNull(),
      source: k.text("source", { enum: ["hook", "prompt_tool", "budget"] }).notNull(),
      sessionId: k.text("session_id"),
      streamId: k.text("stream_id"),
      agent: k.text("agent"),
      toolName: k.text("tool_name"),
      toolInput: k.text("tool_input", { mode: "json" }).$type<unknown>(),
      toolUseId: k.text("tool_use_id"),
      question: k.text("question").notNull(),
      status: k.text("status", { enum: ["pending", "allowed", "denied", "expired"] }).notNull(),
      answeredBy: k.text("answered_by"),
      answeredHow: k.text("answered_how", { enum: ["person", "policy", "timeout", "gone"] }),
      reason: k.text("reason"),
      always: k.integer("always", { mode: "boolean" }).notNull().default(false),
      createdAt: k.text("created_at").notNull(),
      expiresAt: k.text("expires_at").notNull(),
      answeredAt: k.text("answered_at"),
    },
    (t) => [k.index("inbox_pending_idx").on(t.status).where(sql`${t.status} = 'pending'`), k.index("inbox_stream_idx").on(t.streamId)],
  );

  /** Rules a person added with `orch allow ID --always`, beside the config file's policy. */
  const policyRules = k.table("policy_rules", {
    id: k.integer("id").primaryKey(),
    rule: k.text("rule").notNull().unique(),
    effect: k.text("effect", { enum: ["allow", "deny"] }).notNull(),
    createdBy: k.text("created_by"),
    createdAt: k.text("created_at").notNull(),
  });

  /** Per-stream budget state: what `orch budget raise` added, and whether the stream is paused. */
  const streamBudgets = k.table("stream_budgets", {
    streamId: k.text("stream_id").primaryKey(),
    raisedUsd: k.real("raised_usd").notNull().default(0),
    raisedTokens: k.integer("raised_tokens").notNull().default(0),
    pausedReason: k.text("paused_reason"),
    pausedAt: k.text("paused_at"),
    updatedAt: k.text("updated_at").notNull(),
  });

  /**
   * Which machine works a stream now (core/claims.ts): one row per claimed stream, kept alive by
   * its holder's heartbeat. Times are the database's clock, so machines' clocks need not agree;
   * a claim whose lease ran out may be taken over by anyone.
   */
  const streamClaims = k.table("stream_claims", {
    streamId: k.text("stream_id").primaryKey(),
    /** ORCH_MACHINE, else the host name. */
    machine: k.text("machine").notNull(),
    pid: k.integer("pid").notNull(),
    /** A random id of the claiming process: tells two runs on one machine (or a reused pid) apart. */
    holder: k.text("holder").notNull(),
    /** What holds it: `start` (an orch start run), `continue` (orch continue). */
    purpose: k.text("purpose").notNull(),
    claimedAt: k.text("claimed_at").notNull(),
    heartbeatAt: k.text("heartbeat_at").notNull(),
    expiresAt: k.text("expires_at").notNull(),
  });

  /**
   * Named API tokens (`orch token create NAME`), beside ORCH_API_TOKEN: only a hash of each is
   * kept (core/tokens.ts), so the database never holds what a request presents.
   */
  const apiTokens = k.table("api_tokens", {
    name: k.text("name").primaryKey(),
    /** sha256 of the token, hex. */
    hash: k.text("hash").notNull().unique(),
    createdAt: k.text("created_at").notNull(),
    /** The machine it was created on (sys/machine.ts). */
    createdOn: k.text("created_on").notNull(),
    lastUsedAt: k.text("last_used_at"),
  });

  /**
   * Append-only change log: one row in the same transaction as every change; feeds SSE.
   * Rows are never deleted, so a plain rowid key is already increasing (AUTOINCREMENT would write
   * sqlite_sequence on every change), and the only index covers stream events, which the merge
   * record looks up: the most frequent change, a task's, writes one log page and nothing more.
   */
  const events = k.table(
    "events",
    {
      id: k.integer("id").primaryKey(),
      kind: k.text("kind", { enum: ["initiative", "prd", "stream", "task", "activity", "work_product", "agent_session", "agent", "inbox", "budget", "claim"] }).notNull(),
      entityId: k.text("entity_id").notNull(),
      op: k.text("op", { enum: ["create", "update", "archive", "unarchive", "delete"] }).notNull(),
      payload: k.text("payload", { mode: "json" }).$type<unknown>().notNull(),
      createdAt: k.text("created_at")
        .notNull()
        .default(k.isoNow()),
      /**
       * The feed's cursor on PostgreSQL: a gapless number in commit order, set after the writing
       * transaction commits by a serialised sequencing pass (db/pg-feed.ts), NULL until then.
       * SQLite leaves it NULL: one writer at a time commits in id order, so the id is its cursor.
       */
      seq: k.integer("seq"),
    },
    (t) => [
      k.index("events_stream_idx").on(t.entityId).where(sql`${t.kind} = 'stream'`),
      // PostgreSQL only: readers page by seq; the sequencer finds the unsequenced by id. Partial
      // both, so an insert (seq NULL) adds one small entry and the unique index none.
      ...k.pgOnly(() => [
        k.uniqueIndex("events_seq_idx").on(t.seq).where(sql`${t.seq} IS NOT NULL`),
        k.index("events_unsequenced_idx").on(t.id).where(sql`${t.seq} IS NULL`),
      ]),
    ],
  );

  /**
   * The change feed's state, one row (id 1). PostgreSQL: `last_seq` is the last number the
   * sequencer gave (gapless: the next pass continues from it), `compacted_through` the highest
   * seq compaction deleted through (a cursor below it cannot be replayed). Unused on SQLite.
   */
  const feedState = k.table("feed_state", {
    id: k.integer("id").primaryKey(),
    lastSeq: k.integer("last_seq").notNull().default(0),
    compactedThrough: k.integer("compacted_through").notNull().default(0),
  });

  return { initiatives, prds, streams, tasks, workProducts, agentActivity, agentSessions, agents, inbox, policyRules, streamBudgets, streamClaims, apiTokens, events, feedState };
}

/** The tables as the SQLite kit types them (the PostgreSQL ones are mapped from these). */
export type SqliteTables = ReturnType<typeof defineTables>;
