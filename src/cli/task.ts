import type { z } from "zod";
import { createTask, DEFAULT_PAGE, getTask, listTasks, MAX_PAGE, streamPhaseSchema, taskStatusSchema, updateTask, type TaskView } from "../core/index.ts";
import { usageError } from "../errors.ts";
import { commandGroup, commonFlags, type Action } from "./command.ts";
import { intFlag, jsonFlag, listFlag, storeFromFlags, str } from "./context.ts";
import { type Column, printJson, printTable, say } from "./output.ts";

/** A flag value checked by a domain schema; its message stands alone (`invalid status "done" (…)`). */
export function flagValue<S extends z.ZodType>(schema: S, value: string | boolean | undefined): z.output<S> | undefined {
  if (typeof value !== "string") return undefined;
  const r = schema.safeParse(value);
  if (!r.success) throw usageError(r.error.issues[0]!.message);
  return r.data;
}

function metadataFlag(value: string | boolean | undefined): Record<string, unknown> | undefined {
  const m = jsonFlag("metadata", value);
  if (m === undefined) return undefined;
  if (m === null || typeof m !== "object" || Array.isArray(m)) throw usageError("flag --metadata must be a JSON object");
  return m as Record<string, unknown>;
}

export const taskColumns: Column<TaskView>[] = [
  { header: "ID", value: (t) => t.id },
  { header: "STATUS", value: (t) => t.status },
  { header: "STREAM", value: (t) => String(t.metadata.streamId ?? "-"), max: 24 },
  { header: "AGENT", value: (t) => t.assignedAgent ?? "-", max: 16 },
  { header: "TITLE", value: (t) => t.title, max: 60 },
];

function printTask(t: TaskView, json: boolean) {
  if (json) return printJson(t);
  const lines = [
    `${t.id}  ${t.title}`,
    `  status:   ${t.status}${t.blockedReason ? ` (${t.blockedReason})` : ""}`,
    `  stream:   ${String(t.metadata.streamId ?? "-")}`,
    `  agent:    ${t.assignedAgent ?? "-"}`,
    `  prd:      ${t.prdId ?? "-"}`,
    ...(t.description ? [`  about:    ${t.description}`] : []),
    ...(t.notes ? [`  notes:    ${t.notes}`] : []),
    `  metadata: ${JSON.stringify(t.metadata)}`,
    `  updated:  ${t.updatedAt}`,
  ];
  say(`${lines.join("\n")}\n`);
}

const list: Action = {
  summary: "list tasks (archived hidden unless --all)",
  flags: {
    stream: { type: "string", value: "ID", description: "only this stream's tasks" },
    status: { type: "string", value: "S", description: "pending|in_progress|blocked|completed|cancelled" },
    prd: { type: "string", value: "ID", description: "only this PRD's tasks" },
    agent: { type: "string", value: "A", description: "only tasks assigned to this agent" },
    parent: { type: "string", value: "ID", description: "only subtasks of this task" },
    all: { type: "boolean", description: "include archived tasks" },
    limit: { type: "string", value: "N", description: `at most N tasks (default ${DEFAULT_PAGE}, at most ${MAX_PAGE})` },
    cursor: { type: "string", value: "C", description: "the tasks after a page's nextCursor (--json shows it)" },
    ...commonFlags,
  },
  async run({ flags }) {
    const filter = {
      streamId: str(flags.stream),
      status: flagValue(taskStatusSchema, flags.status),
      prdId: str(flags.prd),
      assignedAgent: str(flags.agent),
      parentId: str(flags.parent),
      includeArchived: flags.all === true,
      limit: intFlag("limit", flags.limit, { min: 1, max: MAX_PAGE }),
      cursor: str(flags.cursor),
    };
    const store = await storeFromFlags(flags);
    const result = await listTasks(store, filter);
    if (flags.json) return printJson(result);
    printTable(result.tasks, taskColumns, "No tasks.");
    if (result.nextCursor)
      say(`… ${result.matchingTasks! - result.tasks.length} more match: orch task list --limit N (at most ${MAX_PAGE}), or --cursor ${result.nextCursor} for the next page\n`);
  },
};

const get: Action = {
  summary: "show one task",
  args: ["ID"],
  flags: { ...commonFlags },
  async run({ flags, positionals }) {
    printTask(await getTask(await storeFromFlags(flags), positionals[0]!), flags.json === true);
  },
};

const create: Action = {
  summary: "create a task",
  flags: {
    title: { type: "string", value: "T", description: "title (required)" },
    id: { type: "string", value: "ID", description: "use this id instead of a generated TASK-…" },
    prd: { type: "string", value: "ID", description: "the PRD it belongs to" },
    parent: { type: "string", value: "ID", description: "parent task" },
    description: { type: "string", value: "D", description: "longer description" },
    agent: { type: "string", value: "A", description: "assigned agent" },
    stream: { type: "string", value: "ID", description: "stream id (metadata.streamId)" },
    "stream-name": { type: "string", value: "N", description: "stream name (metadata.streamName)" },
    phase: { type: "string", value: "P", description: "foundation|parallel|integration" },
    depends: { type: "string", value: "A,B", description: "stream dependencies" },
    files: { type: "string", value: "a,b", description: "files the task touches" },
    metadata: { type: "string", value: "JSON", description: "extra metadata (a JSON object)" },
    ...commonFlags,
  },
  async run({ flags }) {
    const title = str(flags.title);
    if (!title) throw usageError("orch task create needs --title");
    const metadata: Record<string, unknown> = { ...metadataFlag(flags.metadata) };
    if (str(flags.stream)) metadata.streamId = str(flags.stream);
    if (str(flags["stream-name"])) metadata.streamName = str(flags["stream-name"]);
    const phase = flagValue(streamPhaseSchema, flags.phase);
    if (phase) metadata.streamPhase = phase;
    const deps = listFlag(flags.depends);
    if (deps) metadata.dependencies = deps;
    const files = listFlag(flags.files);
    if (files) metadata.files = files;
    const task = await createTask(await storeFromFlags(flags), {
      id: str(flags.id),
      title,
      prdId: str(flags.prd),
      parentId: str(flags.parent),
      description: str(flags.description),
      assignedAgent: str(flags.agent),
      metadata,
    });
    if (flags.json) printJson(task);
    else say(`Created ${task.id}\n`);
  },
};

const update: Action = {
  summary: "update a task (metadata is merged key by key)",
  args: ["ID"],
  flags: {
    status: { type: "string", value: "S", description: "pending|in_progress|blocked|completed|cancelled" },
    title: { type: "string", value: "T", description: "new title" },
    notes: { type: "string", value: "T", description: "notes" },
    agent: { type: "string", value: "A", description: "assigned agent" },
    "blocked-reason": { type: "string", value: "R", description: "why it is blocked" },
    metadata: { type: "string", value: "JSON", description: "metadata keys to set (a JSON object)" },
    ...commonFlags,
  },
  async run({ flags, positionals }) {
    const input = {
      id: positionals[0]!,
      status: flagValue(taskStatusSchema, flags.status),
      title: str(flags.title),
      notes: str(flags.notes),
      assignedAgent: str(flags.agent),
      blockedReason: str(flags["blocked-reason"]),
      metadata: metadataFlag(flags.metadata),
    };
    const task = await updateTask(await storeFromFlags(flags), input);
    if (flags.json) printJson(task);
    else say(`Updated ${task.id}: ${task.status}\n`);
  },
};

export const command = commandGroup("task", "list, get, create and update tasks", { list, get, create, update });
