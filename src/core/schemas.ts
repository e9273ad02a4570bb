/**
 * Domain schemas shared by every face (CLI flags, API queries, MCP tool inputs all reuse these
 * enums and shapes, so one rule produces one message everywhere).
 */
import { z } from "zod";
import { ID_PATTERN, streamIdProblem } from "../config.ts";
import { formatZodIssues, invalidInput } from "../errors.ts";

export const TASK_STATUSES = ["pending", "in_progress", "blocked", "completed", "cancelled"] as const;
export const STREAM_PHASES = ["foundation", "parallel", "integration"] as const;
export const STREAM_STATUSES = ["pending", "in_progress", "blocked", "completed"] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];
export type StreamPhase = (typeof STREAM_PHASES)[number];
export type StreamStatus = (typeof STREAM_STATUSES)[number];

const enumMessage = (what: string, values: readonly string[]) => (issue: { input?: unknown }) =>
  `invalid ${what} ${JSON.stringify(issue.input)} (expected one of ${values.join(", ")})`;

export const taskStatusSchema = z.enum(TASK_STATUSES, { error: enumMessage("status", TASK_STATUSES) });
export const streamPhaseSchema = z.enum(STREAM_PHASES, { error: enumMessage("phase", STREAM_PHASES) });

/** Ids that may end up in paths and branch names: refused before any path is built. */
export const idSchema = z
  .string()
  .max(128, "id is longer than 128 characters")
  .regex(ID_PATTERN, "id must start with a letter or digit and contain only letters, digits, '.', '_' or '-'");
export const streamIdSchema = idSchema.superRefine((id, ctx) => {
  const problem = streamIdProblem(id);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** Metadata is copied into the change log with every update while other writers wait: bounded. */
export const MAX_METADATA_BYTES = 16 * 1024;
export const metadataFits = (m: unknown) => JSON.stringify(m ?? {}).length <= MAX_METADATA_BYTES;
const metadataTooLarge = `metadata is larger than ${MAX_METADATA_BYTES / 1024} KB as JSON (keep large content in a work product)`;

export const metadataSchema = z.record(z.string(), z.unknown()).refine(metadataFits, metadataTooLarge);
export type Metadata = z.infer<typeof metadataSchema>;

/** The keys of task metadata that orch itself reads; anything else passes through untouched. */
export const taskMetadataSchema = z
  .object({
    streamId: streamIdSchema.optional(),
    streamName: z.string().min(1).max(200).optional(),
    streamPhase: streamPhaseSchema.optional(),
    dependencies: z.array(streamIdSchema).optional(),
    streamDependencies: z.array(streamIdSchema).optional(),
    files: z.array(z.string().min(1).max(1024)).optional(),
    complexity: z.string().max(200).optional(),
    worktreePath: z.string().max(4096).nullable().optional(),
    branchName: z.string().max(256).nullable().optional(),
  })
  .loose()
  .refine(metadataFits, metadataTooLarge);

export const taskCreateSchema = z.object({
  id: idSchema.optional(),
  title: z.string().trim().min(1, "title is required").max(500),
  description: z.string().max(100_000).optional(),
  prdId: idSchema.optional(),
  parentId: idSchema.optional(),
  assignedAgent: z.string().min(1).max(200).optional(),
  status: taskStatusSchema.optional(),
  metadata: taskMetadataSchema.optional(),
});
export type TaskCreateInput = z.input<typeof taskCreateSchema>;

export const taskUpdateSchema = z.object({
  id: idSchema,
  title: z.string().trim().min(1).max(500).optional(),
  description: z.string().max(100_000).optional(),
  status: taskStatusSchema.optional(),
  assignedAgent: z.string().min(1).max(200).optional(),
  notes: z.string().max(100_000).optional(),
  blockedReason: z.string().max(10_000).optional(),
  metadata: taskMetadataSchema.optional(),
});
export type TaskUpdateInput = z.input<typeof taskUpdateSchema>;

/** No answer carries more tasks than this: every request's work is bounded. */
export const MAX_PAGE = 5000;
/** A page when the caller names no limit. */
export const DEFAULT_PAGE = 1000;

export const taskFilterSchema = z.object({
  prdId: idSchema.optional(),
  parentId: idSchema.optional(),
  status: taskStatusSchema.optional(),
  assignedAgent: z.string().min(1).optional(),
  streamId: streamIdSchema.optional(),
  includeArchived: z.boolean().optional(),
  limit: z.number().int().min(1).max(MAX_PAGE).optional(),
  /** Where the previous page ended (its `nextCursor`). */
  cursor: z.string().regex(/^[0-9]{1,19}$/, "cursor must be a nextCursor orch returned").optional(),
});
export type TaskFilter = z.input<typeof taskFilterSchema>;

export const prdCreateSchema = z.object({
  id: idSchema.optional(),
  title: z.string().trim().min(1, "title is required").max(500),
  content: z.string().max(2_000_000),
  description: z.string().max(100_000).optional(),
  initiativeId: idSchema.optional(),
  metadata: metadataSchema.optional(),
});
export type PrdCreateInput = z.input<typeof prdCreateSchema>;

export const initiativeLinkSchema = z.object({
  initiativeId: idSchema,
  title: z.string().trim().min(1).max(500),
  description: z.string().max(100_000).optional(),
});
export type InitiativeLinkInput = z.input<typeof initiativeLinkSchema>;

export const WORK_PRODUCT_TYPES = [
  "technical_design",
  "implementation",
  "test_plan",
  "test_results",
  "documentation",
  "architecture",
  "other",
] as const;

export const workProductStoreSchema = z.object({
  taskId: idSchema,
  type: z.enum(WORK_PRODUCT_TYPES, { error: enumMessage("type", WORK_PRODUCT_TYPES) }),
  title: z.string().trim().min(1).max(500),
  content: z.string().max(2_000_000),
  metadata: metadataSchema.optional(),
});
export type WorkProductStoreInput = z.input<typeof workProductStoreSchema>;

export const heartbeatSchema = z.object({
  taskId: idSchema,
  agentId: z.string().min(1).max(200),
  notes: z.string().max(10_000).optional(),
  phase: z.string().max(200).optional(),
});
export type HeartbeatInput = z.input<typeof heartbeatSchema>;

/** Parse with a schema or throw an `invalid` OrchError whose message is the first issue, readable. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw zodToError(r.error);
}

export function zodToError(err: z.ZodError) {
  return invalidInput(formatZodIssues(err.issues), err.issues);
}
