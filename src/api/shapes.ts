/**
 * The JSON the API answers with, as zod schemas: they produce /openapi.json and the route tests
 * parse every real response with them (strict objects, so a key added or dropped fails a test).
 * Shapes follow the seed guide's API Reference, key for key. Extras beyond it: `archived` and
 * `initiativeId` on streams, `blockedTasks`/`pendingTasks`/`files` on a stream's detail too (every
 * stream object carries its figures), the full task in a stream's `tasks`, and `service`,
 * `version`, `dbId` on /health.
 */
import { z } from "zod";
import { STREAM_PHASES, STREAM_STATUSES, TASK_STATUSES } from "../core/schemas.ts";
import { agents, inbox } from "../db/schema.ts";

const iso = z.string().meta({ format: "date-time", description: "ISO-8601 UTC with milliseconds" });

export const errorShape = z
  .strictObject({
    error: z.string(),
    details: z
      .array(z.strictObject({ param: z.string(), message: z.string(), received: z.string().optional() }))
      .optional(),
    streamId: z.string().optional(),
    path: z.string().optional(),
  })
  ;

export const healthShape = z
  .strictObject({
    status: z.literal("ok"),
    timestamp: iso,
    service: z.literal("orch").meta({ description: "always \"orch\": lets another orch recognise the server on a port" }),
    version: z.string(),
    dbId: z.string().meta({ description: "opaque id of the database served (same file ⇒ same id)" }),
    proof: z.string().optional().meta({ description: "HMAC-SHA256(token, \"orch-health:\" + challenge), hex: only with ?challenge= and a token configured" }),
  })
  ;

export const taskShape = z
  .strictObject({
    id: z.string(),
    prdId: z.string().nullable(),
    parentId: z.string().nullable(),
    title: z.string(),
    description: z.string().nullable(),
    assignedAgent: z.string().nullable(),
    status: z.enum(TASK_STATUSES),
    blockedReason: z.string().nullable(),
    notes: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).meta({ description: "streamId, streamName, streamPhase, dependencies, files, complexity, …" }),
    archived: z.boolean(),
    createdAt: iso,
    updatedAt: iso,
  })
  ;

export const usageShape = z
  .strictObject({
    sessions: z.number().int().meta({ description: "agent sessions orch start launched for the stream" }),
    costUsd: z.number().meta({ description: "Claude Code's own estimate from the token counts (headless sessions)" }),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    cacheReadTokens: z.number().int(),
    cacheCreationTokens: z.number().int(),
    turns: z.number().int(),
    denials: z.number().int().meta({ description: "tool calls Claude Code denied the agents" }),
    lastDenial: z.string().nullable().meta({ description: "the latest denial: tool, input and the rule that would allow it" }),
  })
  .meta({ description: "what the stream's agents cost, from each headless session's result" });

export const streamShape = z
  .strictObject({
    streamId: z.string(),
    streamName: z.string(),
    streamPhase: z.enum(STREAM_PHASES),
    totalTasks: z.number().int().meta({ description: "cancelled tasks excluded" }),
    completedTasks: z.number().int(),
    inProgressTasks: z.number().int(),
    blockedTasks: z.number().int(),
    pendingTasks: z.number().int(),
    progressPercentage: z.number().meta({ description: "one decimal, floored: never 100 before all tasks are done" }),
    status: z.enum(STREAM_STATUSES),
    dependencies: z.array(z.string()),
    worktreePath: z.string().nullable(),
    branchName: z
      .string()
      .nullable()
      .meta({ description: "the stream's worktree branch; for a stream without a worktree, the main checkout's branch (null outside git)" }),
    files: z.array(z.string()),
    archived: z.boolean(),
    initiativeId: z.string().nullable(),
    usage: usageShape,
  })
  ;

export const streamListShape = z.strictObject({ streams: z.array(streamShape), totalStreams: z.number().int() });

export const streamDetailShape = streamShape.extend({ tasks: z.array(taskShape) });

export const taskListShape = z.strictObject({
  tasks: z.array(taskShape),
  totalTasks: z.number().int().meta({ description: "tasks in this answer" }),
  nextCursor: z.string().optional().meta({ description: "only when more match: pass as cursor for the next page" }),
  matchingTasks: z.number().int().optional().meta({ description: "only when more match: how many match in all" }),
});

export const activityShape = z
  .strictObject({
    activityId: z.string(),
    taskId: z.string(),
    taskTitle: z.string(),
    agentId: z.string(),
    streamId: z.string().nullable(),
    streamName: z.string().nullable(),
    phase: z.string().nullable(),
    startedAt: iso,
    lastHeartbeat: iso,
    isActive: z.boolean().meta({ description: "a heartbeat within the last 5 minutes" }),
    notes: z.string().nullable(),
  })
  ;

export const activityListShape = z
  .strictObject({ activities: z.array(activityShape), totalActive: z.number().int(), totalIdle: z.number().int() })
  ;

export const streamHealthShape = z
  .strictObject({
    streamId: z.string(),
    status: z.enum(STREAM_STATUSES),
    progressPercentage: z.number(),
    healthy: z.boolean().meta({ description: "true when there are no warnings" }),
    currentTask: z
      .strictObject({
        id: z.string(),
        title: z.string(),
        status: z.enum(TASK_STATUSES),
        assignedAgent: z.string().nullable(),
        updatedAt: iso,
      })
      .nullable(),
    lastActivity: activityShape.nullable(),
    lastActivityAt: iso.nullable(),
    warnings: z.array(
      z.strictObject({
        type: z.enum(["stalled", "blocked"]),
        taskId: z.string(),
        message: z.string(),
      }),
    ),
    checkedAt: iso,
  })
  ;

export const overallShape = z.strictObject({
  totalTasks: z.number().int(),
  completedTasks: z.number().int(),
  inProgressTasks: z.number().int(),
  blockedTasks: z.number().int(),
  pendingTasks: z.number().int(),
  progressPercentage: z.number(),
  status: z.enum(STREAM_STATUSES),
});

/** The `snapshot` SSE event: everything a monitor draws. */
export const snapshotShape = z
  .strictObject({
    streams: z.array(streamShape),
    totalStreams: z.number().int(),
    activities: z.array(activityShape),
    overall: overallShape,
  })
  ;

/** Every other SSE event: `event:` is the kind, `id:` the change-log id, `data:` this envelope. */
export const changeShape = z
  .strictObject({
    op: z.enum(["create", "update", "archive", "unarchive", "delete"]),
    entityId: z.string(),
    createdAt: iso,
    data: z.unknown().meta({ description: "the entity as the matching route returns it (Task, Stream, Activity, …)" }),
  })
  ;

/** A Claude Code session as its hooks report it (GET /api/agents; `agent` SSE events carry it without `stale`). */
export const agentShape = z.strictObject({
  sessionId: z.string().meta({ description: "Claude Code's session_id" }),
  streamId: z.string().nullable(),
  pid: z.number().int().nullable(),
  host: z.string().nullable().meta({ description: "the machine the session runs on (its pid and cwd are that machine's): host name/8 hex of its machine id" }),
  launcher: z.string().nullable(),
  status: z.enum(agents.status.enumValues),
  tool: z.string().nullable().meta({ description: "the tool in use or asked about, e.g. Bash(npm test)" }),
  lastMessage: z.string().nullable(),
  pendingQuestion: z.string().nullable().meta({ description: "what the session waits on, when it waits" }),
  cwd: z.string().nullable(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheCreationTokens: z.number().int(),
  costUsd: z.number().nullable().meta({ description: "Claude Code's own estimate, when it reported one" }),
  startedAt: iso,
  updatedAt: iso,
  endedAt: iso.nullable(),
  stale: z.boolean().meta({ description: "working but silent for longer than the stale time (10 minutes): its hooks stopped reporting" }),
});

export const agentListShape = z.strictObject({ agents: z.array(agentShape) });

/** One question an agent waits on, or waited on, and who answered it, how and when. */
export const inboxEntryShape = z.strictObject({
  id: z.number().int(),
  kind: z.enum(inbox.kind.enumValues),
  source: z.enum(inbox.source.enumValues),
  sessionId: z.string().nullable(),
  streamId: z.string().nullable(),
  agent: z.string().nullable(),
  toolName: z.string().nullable(),
  toolInput: z.unknown().meta({ description: "the tool's input as the agent sent it (past 16,000 characters: {truncated, preview})" }),
  toolUseId: z.string().nullable(),
  question: z.string(),
  status: z.enum(inbox.status.enumValues),
  answeredBy: z.string().nullable(),
  answeredHow: z.enum(inbox.answeredHow.enumValues).nullable(),
  reason: z.string().nullable(),
  always: z.boolean().meta({ description: "the answer was made a policy rule for calls like this one" }),
  createdAt: iso,
  expiresAt: iso.meta({ description: "unanswered by then, the question is denied" }),
  answeredAt: iso.nullable(),
});

export const inboxListShape = z.strictObject({
  entries: z.array(inboxEntryShape),
  pending: z.number().int().meta({ description: "pending entries in all (for the streamId given), however many `entries` shows" }),
});

// The actions (POST /api/streams/:id/merge|archive|unarchive, POST /api/budget/:streamId/raise).

export const mergeResultShape = z
  .strictObject({
    streamId: z.string(),
    branchName: z.string(),
    into: z.string().meta({ description: "the branch merged into (checked out in the main worktree)" }),
    status: z.enum(["merged", "up_to_date", "conflict", "worktree_dirty", "worktree_off_branch"]),
    merged: z.boolean(),
    commit: z.string().nullable().meta({ description: "the merge commit (status merged)" }),
    sourceCommit: z.string(),
    targetCommit: z.string(),
    conflictingFiles: z.array(z.string()),
    filesChanged: z.array(z.string()).meta({ description: "paths the merge changed in the target (status merged)" }),
    worktreeUncommitted: z.array(z.string()).meta({ description: "uncommitted changes in the stream's worktree: not part of the merge" }),
    worktreeBranch: z.string().nullable(),
  })
  .meta({ description: "What `orch worktree merge --json` reports" });

export const mergeConflictShape = z
  .strictObject({ error: z.string(), merge: mergeResultShape })
  .meta({ description: "The merge would conflict: nothing was changed; the conflicting files are in merge.conflictingFiles" });

export const archiveResultShape = z.strictObject({
  streamId: z.string(),
  archived: z.boolean(),
  tasksAffected: z.number().int().meta({ description: "tasks archived (or brought back) by this call" }),
});

const budgetFields = {
  spentUsd: z.number(),
  spentTokens: z.number().int(),
  limitUsd: z.number().nullable(),
  limitTokens: z.number().int().nullable(),
  remainingUsd: z.number().nullable(),
  remainingTokens: z.number().int().nullable(),
  reached: z.enum(["usd", "tokens"]).nullable().meta({ description: "which limit is reached, or null" }),
};

export const budgetShape = z.strictObject(budgetFields);

export const streamBudgetShape = z.strictObject({
  streamId: z.string(),
  ...budgetFields,
  raisedUsd: z.number(),
  raisedTokens: z.number().int(),
  pausedReason: z.string().nullable(),
});

export const budgetRaiseShape = z.strictObject({
  stream: streamBudgetShape,
  initiative: budgetShape,
  wasPaused: z.boolean().meta({ description: "the stream was paused before this raise (it resumes unless still over a limit)" }),
});

export const streamWorktreeShape = z
  .strictObject({
    streamId: z.string(),
    branch: z.string().nullable().meta({ description: "the branch its worktree has out (else its recorded or default branch, if it exists)" }),
    baseBranch: z.string().nullable().meta({ description: "the branch it merges into" }),
    path: z.string().nullable().meta({ description: "the worktree's folder; null when the stream has none (it works in the main checkout)" }),
    exists: z.boolean().meta({ description: "the worktree is checked out and on disk" }),
    ahead: z.number().int().nullable().meta({ description: "commits on the branch not in its base (null: a branch is missing)" }),
    behind: z.number().int().nullable().meta({ description: "commits on the base not in the branch" }),
    dirty: z
      .array(z.strictObject({ code: z.string().meta({ description: "git status code (`??` untracked)" }), path: z.string() }))
      .meta({ description: "uncommitted changes, at most 200" }),
    totalDirty: z.number().int(),
  })
  .meta({ description: "A stream's worktree as git sees it now" });

export const streamConflictsShape = z
  .strictObject({
    streamId: z.string(),
    conflicts: z.array(
      z.strictObject({
        otherStream: z.string(),
        branch: z.string().nullable(),
        otherBranch: z.string().nullable(),
        gitChecked: z.boolean().meta({ description: "both branches exist and git merge-tree compared them" }),
        files: z.array(z.string()).meta({ description: "files merging both would conflict in, at most 200" }),
        totalFiles: z.number().int(),
        declaredOverlap: z.array(z.string()).meta({ description: "files both streams' tasks declare, at most 200" }),
        error: z.string().nullable().meta({ description: "why git could not compare them" }),
      }),
    ),
    totalConflicts: z.number().int(),
  })
  .meta({ description: "Conflicts predicted between this stream's branch and each other live stream's (nothing is touched)" });

/** POST /api/session: the browser now holds the session cookie. */
export const sessionShape = z.strictObject({ signedIn: z.literal(true) }).meta({ description: "The browser now holds this server's session cookie" });

export const streamLogShape = z
  .strictObject({
    streamId: z.string(),
    source: z
      .enum(["transcript", "headless-log"])
      .nullable()
      .meta({ description: "the transcript of the stream's most recent agent session (from its hooks), else the headless launcher's log; null: no log yet" }),
    lines: z
      .array(
        z.strictObject({
          at: z.string().nullable().meta({ description: "when it was written (transcripts only)" }),
          kind: z.enum(["text", "tool", "result", "error", "user"]).meta({ description: "text: the agent wrote; tool: a tool call (its name and a short input summary); error: a failed tool call, a denial, an API error or a failed run; result: the run's end with its cost; user: a prompt" }),
          text: z.string().meta({ description: "one line derived from the entry (control characters and escape sequences removed), at most 500 characters" }),
        }),
      )
      .meta({ description: "the last lines, oldest first" }),
    truncated: z.boolean().meta({ description: "older lines exist than those answered" }),
  })
  .meta({ description: "The tail of a stream's agent log, as short one-line texts (never the file's raw content)" });

export const workProductSummaryShape = z.strictObject({
  id: z.string(),
  taskId: z.string(),
  type: z.string().meta({ description: "technical_design, implementation, test_plan, …" }),
  title: z.string(),
  createdAt: iso,
});

export const streamWorkProductsShape = z
  .strictObject({
    streamId: z.string(),
    workProducts: z.array(workProductSummaryShape).meta({ description: "newest first, without their content (GET /api/work-products/{id} has it)" }),
    total: z.number().int().meta({ description: "how many the stream's tasks have stored" }),
  })
  .meta({ description: "The work products of a stream's tasks" });

export const workProductShape = z
  .strictObject({
    id: z.string(),
    taskId: z.string(),
    type: z.string(),
    title: z.string(),
    content: z.string().meta({ description: "as the agent stored it (work_product_store), up to 2,000,000 characters" }),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: iso,
  })
  .meta({ description: "A work product, its content included" });

export const runShape = z
  .strictObject({
    run: z
      .strictObject({
        outcome: z.enum(["running", "complete", "failed", "conflict", "stopped"]),
        launcher: z.enum(["manual", "tmux", "headless"]),
        startedAt: iso,
        lastUpdate: iso,
        finishedAt: iso.nullable(),
        live: z.boolean().meta({ description: "the orch start that writes the state is still running (on this machine)" }),
        streams: z.record(
          z.string(),
          z.strictObject({
            status: z.enum(["pending", "running", "completed", "merged", "failed"]),
            paused: z.boolean().meta({ description: "paused for its budget (or the initiative's) until `orch budget raise`" }),
            restarts: z.number().int(),
            lastExitCode: z.number().int().nullable(),
          }),
        ),
        conflict: z
          .strictObject({
            streamId: z.string(),
            into: z.string(),
            kind: z.string().meta({ description: "conflict, uncommitted, off-branch or error" }),
            files: z.array(z.string()).meta({ description: "at most 200" }),
            totalFiles: z.number().int(),
          })
          .nullable()
          .meta({ description: "the merge that stopped the run" }),
      })
      .nullable()
      .meta({ description: "null when orch start never ran in this project (or its state cannot be read: see error)" }),
    error: z.string().optional().meta({ description: "why the state file could not be read" }),
  })
  .meta({ description: "The state of the project's orch start run (orchestration-state.json), without pids, commands or paths" });
