/**
 * Importing a PRD: a parsed plan → initiative, PRD, streams and tasks, in ONE transaction, after
 * the graph has been validated (so a PRD that fails writes nothing). Ids are derived from the
 * initiative's name, so importing the same PRD again finds what the last import made: titles and
 * stream facts are updated, new tasks added, tasks that vanished from the PRD reported (never
 * deleted: they may carry work), and nothing is duplicated. Task status is never touched.
 */
import { createHash } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { events, initiatives, prds, streams, tasks, type StreamRow, type TaskRow } from "../db/schema.ts";
import { conflict, invalidInput } from "../errors.ts";
import { recordEvent } from "./events.ts";
import { executionPlan, validateGraph, type ExecutionPlan } from "./graph.ts";
import { formatPrdError, parsePrd, type Plan, type PlanStream, type PlanTask } from "./prd-markdown.ts";
import { parseInput, taskCreateSchema } from "./schemas.ts";
import { refreshStreamFigures, upsertStream } from "./streams.ts";
import { taskView } from "./task-view.ts";
import { applyTaskUpdate } from "./tasks.ts";
import { retireConflictingIds, wayOut, type Retired } from "./retire-ids.ts";

export interface PlanImportReport {
  initiative: { id: string; name: string; created: boolean };
  prd: { id: string; title: string; created: boolean };
  streams: { created: string[]; updated: string[]; unchanged: string[]; vanished: string[] };
  tasks: {
    created: string[];
    updated: string[];
    unchanged: string[];
    /** In this PRD before, not any more: kept as they are, reported so a person can decide. */
    vanished: { id: string; title: string; streamId: string | null; status: string }[];
    /** Made for streams that state their number of tasks without listing them (`Stream-A-1` …). */
    placeholders: string[];
    /** Checked in the PRD (`- [x] …`) and so marked completed by this import. */
    completed: string[];
  };
  /** Finished initiatives whose ids this plan reuses: their streams and tasks renamed `<id>.<initiative>`. */
  retired: Retired[];
  totalStreams: number;
  totalTasks: number;
  executionPlan: ExecutionPlan;
  dryRun: boolean;
}

export interface PlanImportOptions {
  /** The PRD text, stored as the PRD's content. */
  content?: string;
  maxParallel?: number;
  /** Where the PRD came from (a file path), kept in the PRD's metadata. */
  source?: string;
  /** The PRD file's path relative to the repository, when it is in it: what a CI job imports again. */
  repoPath?: string;
  /** Do everything, report, then roll back. */
  dryRun?: boolean;
}

const MAX_SLUG = 60;

/** `Add Dark Mode Support` → `add-dark-mode-support`; long or non-Latin names get a hash so they stay unique. */
export function slugFor(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const hash = () => createHash("sha1").update(name.trim()).digest("hex").slice(0, 8);
  if (!slug) return hash();
  if (slug.length > MAX_SLUG) return `${slug.slice(0, MAX_SLUG - 9).replace(/-+$/, "")}-${hash()}`;
  return slug;
}

export const initiativeIdFor = (name: string) => `INIT-${slugFor(name)}`;
export const prdIdFor = (initiativeName: string) => `PRD-${slugFor(initiativeName)}`;

class DryRun extends Error {
  constructor(readonly report: PlanImportReport) {
    super("dry run");
  }
}

/** `plans/Dark Mode.md` → `Dark Mode`: the initiative's name for a PRD that names none. */
export function initiativeFromSource(source: string | undefined): string | undefined {
  if (!source || source === "stdin" || source === "-") return undefined;
  const name = (source.split(/[\\/]/).pop() ?? "").replace(/\.(md|markdown|mdown|txt)$/i, "").trim();
  return name || undefined;
}

/** Parse, validate and import PRD markdown. Parse errors name their line; the first is the message. */
export function importPrdMarkdown(store: Store, text: string, opts: Omit<PlanImportOptions, "content"> = {}): Promise<PlanImportReport> {
  const parsed = parsePrd(text, { defaultInitiative: initiativeFromSource(opts.source) });
  if (!parsed.ok) throw invalidInput(formatPrdError(parsed.errors[0]!), parsed.errors);
  return importPlan(store, parsed.plan, { ...opts, content: text });
}

export async function importPlan(store: Store, plan: Plan, opts: PlanImportOptions = {}): Promise<PlanImportReport> {
  validateGraph(plan.streams, { maxParallel: opts.maxParallel });
  try {
    return await store.tx(async (db) => {
      const report = await applyPlan(db, store.now(), plan, opts);
      if (opts.dryRun) throw new DryRun(report);
      return report;
    });
  } catch (err) {
    if (err instanceof DryRun) return err.report;
    throw err;
  }
}

function taskMetadata(s: PlanStream, t: PlanTask): Record<string, unknown> {
  const meta: Record<string, unknown> = {
    streamId: s.id,
    streamName: s.name,
    streamPhase: s.phase,
    dependencies: s.dependencies,
  };
  if (t.files) meta.files = t.files;
  return meta;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function chunks<T>(xs: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

async function applyPlan(db: Db, now: string, plan: Plan, opts: PlanImportOptions): Promise<PlanImportReport> {
  const initiative = await upsertInitiative(db, now, plan.initiative);
  const prd = await upsertPrd(db, now, plan.initiative, initiative.id, opts);
  const streamIds = plan.streams.map((s) => s.id);
  const taskIds = plan.streams.flatMap((s) => s.tasks.map((t) => t.id));
  const report: PlanImportReport = {
    initiative: { id: initiative.id, name: plan.initiative, created: initiative.created },
    prd: { id: prd.id, title: plan.initiative, created: prd.created },
    streams: { created: [], updated: [], unchanged: [], vanished: [] },
    tasks: { created: [], updated: [], unchanged: [], vanished: [], placeholders: [], completed: [] },
    retired: await retireConflictingIds(db, initiative.id, streamIds, taskIds),
    totalStreams: plan.streams.length,
    totalTasks: taskIds.length,
    executionPlan: executionPlan(plan.streams),
    dryRun: opts.dryRun === true,
  };
  await applyStreams(db, now, plan, initiative.id, report);
  await applyTasks(db, now, plan, prd.id, report);
  await reportVanished(db, prd.id, initiative.id, new Set(taskIds), new Set(streamIds), report);
  return report;
}

/** Create or rename; importing makes it the current initiative (latest linkedAt). */
async function upsertInitiative(db: Db, now: string, name: string): Promise<{ id: string; created: boolean }> {
  const id = initiativeIdFor(name);
  const init = (await db.select().from(initiatives).where(eq(initiatives.id, id)))[0];
  if (init) await db.update(initiatives).set({ name, linkedAt: now, updatedAt: now }).where(eq(initiatives.id, id));
  else await db.insert(initiatives).values({ id, name, description: null, linkedAt: now, createdAt: now, updatedAt: now });
  await recordEvent(db, "initiative", id, init ? "update" : "create", (await db.select().from(initiatives).where(eq(initiatives.id, id)))[0]);
  return { id, created: !init };
}

/** One PRD per initiative, its content the latest import. */
async function upsertPrd(db: Db, now: string, name: string, initiativeId: string, opts: PlanImportOptions): Promise<{ id: string; created: boolean }> {
  const id = prdIdFor(name);
  const prd = (await db.select().from(prds).where(eq(prds.id, id)))[0];
  const metadata = {
    ...(prd?.metadata ?? {}),
    format: "orch-prd-markdown",
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.repoPath ? { repoPath: opts.repoPath } : {}),
    ...(opts.maxParallel !== undefined ? { maxParallelStreams: opts.maxParallel } : {}),
  };
  const content = opts.content ?? prd?.content ?? "";
  if (prd) await db.update(prds).set({ title: name, content, metadata, updatedAt: now }).where(eq(prds.id, id));
  else await db.insert(prds).values({ id, initiativeId, title: name, content, metadata, createdAt: now, updatedAt: now });
  const { content: _c, ...prdView } = (await db.select().from(prds).where(eq(prds.id, id)))[0]!;
  await recordEvent(db, "prd", id, prd ? "update" : "create", prdView);
  return { id, created: !prd };
}

/** Rows by id, fetched in bulk (ids are unique per workspace). */
async function existingRows<R extends { id: string }>(db: Db, table: typeof streams | typeof tasks, ids: readonly string[]): Promise<Map<string, R>> {
  const found = new Map<string, R>();
  for (const part of chunks(ids)) for (const r of await db.select().from(table).where(inArray(table.id, part))) found.set(r.id, r as R);
  return found;
}

async function applyStreams(db: Db, now: string, plan: Plan, initiativeId: string, report: PlanImportReport): Promise<void> {
  const existing = await existingRows<StreamRow>(db, streams, plan.streams.map((s) => s.id));
  for (const s of plan.streams) {
    const row = existing.get(s.id);
    if (row?.initiativeId && row.initiativeId !== initiativeId)
      throw conflict(
        `PRD line ${s.line}: stream ${s.id} already belongs to initiative ${row.initiativeId}; give this stream another id, ${wayOut(row.initiativeId)}`,
      );
    if (!row) report.streams.created.push(s.id);
    else if (row.name !== s.name || row.phase !== s.phase || !same(row.dependencies, s.dependencies))
      report.streams.updated.push(s.id);
    else report.streams.unchanged.push(s.id);
    await upsertStream(db, now, { streamId: s.id, streamName: s.name, streamPhase: s.phase, dependencies: s.dependencies }, initiativeId);
  }
}

type FreshTask = Omit<TaskRow, "blockedReason" | "notes" | "archived">;

const PLACEHOLDER_NOTE = "Placeholder: the PRD states this stream's number of tasks without listing them. Refine its title and description as the work becomes clear.";

async function applyTasks(db: Db, now: string, plan: Plan, prdId: string, report: PlanImportReport): Promise<void> {
  const existing = await existingRows<TaskRow>(db, tasks, plan.streams.flatMap((s) => s.tasks.map((t) => t.id)));
  const fresh: FreshTask[] = [];
  const touched = new Set<string>();
  const parents: [string, string | null][] = [];
  for (const s of plan.streams) {
    for (const t of s.tasks) {
      if (t.placeholder) report.tasks.placeholders.push(t.id);
      const row = existing.get(t.id);
      if (!row) {
        fresh.push(freshTask(s, t, prdId, now));
        touched.add(s.id);
        report.tasks.created.push(t.id);
        if (t.done) report.tasks.completed.push(t.id);
        continue;
      }
      if (row.prdId !== prdId)
        throw conflict(
          `PRD line ${t.line}: task ${t.id} already exists ${row.prdId ? `in ${row.prdId}` : "outside any PRD"}; task ids are unique per workspace${await ownerOf(db, row.streamId) ? `: give it another id, ${wayOut((await ownerOf(db, row.streamId))!)}` : ""}`,
        );
      if ((row.parentId ?? null) !== (t.parentId ?? null)) parents.push([t.id, t.parentId ?? null]);
      const outcome = await updateTask(db, now, s, t, row);
      report.tasks[outcome === "unchanged" && row.parentId === (t.parentId ?? null) ? "unchanged" : "updated"].push(t.id);
      if (outcome === "completed") report.tasks.completed.push(t.id);
    }
  }
  await insertFresh(db, fresh);
  for (const id of touched) await refreshStreamFigures(db, now, id);
  // Set after every task exists, so a subtask may come before its parent in the database.
  for (const [id, parentId] of parents) {
    const row = (await db.update(tasks).set({ parentId, updatedAt: now }).where(eq(tasks.id, id)).returning())[0]!;
    await recordEvent(db, "task", id, "update", taskView(row));
  }
}

function freshTask(s: PlanStream, t: PlanTask, prdId: string, now: string): FreshTask {
  const meta = taskMetadata(s, t);
  const description = t.description ?? (t.placeholder ? PLACEHOLDER_NOTE : undefined);
  const v = parseInput(taskCreateSchema, {
    id: t.id,
    prdId,
    title: t.title,
    ...(description !== undefined ? { description } : {}),
    ...(t.assignedAgent !== undefined ? { assignedAgent: t.assignedAgent } : {}),
    metadata: meta,
  });
  return {
    id: t.id,
    prdId,
    parentId: t.parentId ?? null,
    title: v.title,
    description: v.description ?? null,
    assignedAgent: v.assignedAgent ?? null,
    status: t.done ? "completed" : "pending",
    metadata: v.metadata ?? meta,
    streamId: s.id,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * An existing task brought in line with the PRD: title (not a placeholder's: agents refine it),
 * description, agent, stream facts; checked in the PRD → completed. Its status is otherwise left
 * alone, and never moved back.
 */
async function updateTask(db: Db, now: string, s: PlanStream, t: PlanTask, row: TaskRow): Promise<"unchanged" | "updated" | "completed"> {
  const meta = taskMetadata(s, t);
  // Files dropped from the PRD are cleared; other metadata keys (worktreePath…) are kept.
  if (!t.files && Array.isArray(row.metadata.files) && row.metadata.files.length) meta.files = [];
  const complete = t.done === true && row.status !== "completed" && row.status !== "cancelled";
  const title = t.placeholder ? row.title : t.title;
  const changed =
    complete ||
    row.title !== title ||
    (t.description !== undefined && row.description !== t.description) ||
    (t.assignedAgent !== undefined && row.assignedAgent !== t.assignedAgent) ||
    row.streamId !== s.id ||
    Object.entries(meta).some(([k, v]) => !same(row.metadata[k], v));
  if (!changed) return "unchanged";
  await applyTaskUpdate(db, now, {
    id: t.id,
    title,
    ...(t.description !== undefined ? { description: t.description } : {}),
    ...(t.assignedAgent !== undefined ? { assignedAgent: t.assignedAgent } : {}),
    ...(complete ? { status: "completed" as const } : {}),
    metadata: meta,
  });
  return complete ? "completed" : "updated";
}

/**
 * New tasks go in as multi-row inserts, each stream's figures refreshed once after: the same rows
 * and `task` events insertTask writes (a new task opens no activity), but one `stream` event per
 * stream instead of one per task (20,000 tasks: 0.7 s, not 7 s). Prepared once, run per row.
 */
async function insertFresh(db: Db, fresh: readonly FreshTask[]): Promise<void> {
  if (!fresh.length) return;
  const p = <K extends string>(k: K) => sql.placeholder(k);
  const insertRow = db
    .insert(tasks)
    .values({
      id: p("id"), prdId: p("prdId"), parentId: p("parentId"), title: p("title"), description: p("description"),
      assignedAgent: p("assignedAgent"), status: p("status"), metadata: p("metadata"), streamId: p("streamId"),
      createdAt: p("createdAt"), updatedAt: p("updatedAt"),
    })
    .prepare();
  const insertEvent = db.insert(events).values({ kind: "task", entityId: p("entityId"), op: "create", payload: p("payload") }).prepare();
  for (const r of fresh) {
    await insertRow.execute(r);
    await insertEvent.execute({ entityId: r.id, payload: taskView({ ...r, blockedReason: null, notes: null, archived: false }) });
  }
}

async function reportVanished(db: Db, prdId: string, initiativeId: string, planned: Set<string>, plannedStreams: Set<string>, report: PlanImportReport): Promise<void> {
  for (const r of await db.select().from(tasks).where(eq(tasks.prdId, prdId)))
    if (!planned.has(r.id)) report.tasks.vanished.push({ id: r.id, title: r.title, streamId: r.streamId, status: r.status });
  for (const r of await db.select({ id: streams.id, archived: streams.archived }).from(streams).where(eq(streams.initiativeId, initiativeId)))
    if (!plannedStreams.has(r.id) && !r.archived) report.streams.vanished.push(r.id);
}

/** The initiative a stream belongs to, if any. */
async function ownerOf(db: Db, streamId: string | null): Promise<string | null> {
  return streamId ? ((await db.select({ i: streams.initiativeId }).from(streams).where(eq(streams.id, streamId)))[0]?.i ?? null) : null;
}
