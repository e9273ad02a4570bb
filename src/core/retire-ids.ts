/**
 * Reusing the guide's ids (Stream-A, TASK-001) in a later initiative. Ids are unique in a
 * workspace, so every command, route and tool that names one stays unambiguous; a finished
 * initiative — every one of its streams archived, its worktrees removed — gives its ids up instead: its streams and
 * tasks are renamed `<id>.<initiative>` (Stream-A → Stream-A.INIT-one), everywhere they are
 * referred to, in the importing transaction. An initiative still at work keeps its ids, and
 * the import says how to free them.
 */
import { and, eq, inArray, isNotNull, or } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { deferForeignKeys } from "../db/dialect.ts";
import { agentActivity, agentSessions, streams, tasks, workProducts } from "../db/schema.ts";
import { recordEvent } from "./events.ts";

export interface Retired {
  initiativeId: string;
  streams: Record<string, string>;
  tasks: Record<string, string>;
}

const MAX_ID = 128;

/** `Stream-A` of `INIT-one` → `Stream-A.INIT-one` (cut to the id limit, still unique by the caller's check). */
export const retiredId = (id: string, initiativeId: string) => `${id}.${initiativeId}`.slice(0, MAX_ID);

/** What a refused import says to do about ids another initiative holds. */
export const wayOut = (owner: string) =>
  `or, once ${owner} is finished, archive its streams and remove their worktrees: its ids are then renamed <id>.${owner} to make room`;

/** Every stream archived, no worktree left (it would be taken for a new stream of the same name). */
async function finished(db: Db, initiativeId: string): Promise<boolean> {
  return !(await db
    .select({ id: streams.id })
    .from(streams)
    .where(and(eq(streams.initiativeId, initiativeId), or(eq(streams.archived, false), isNotNull(streams.worktreePath))))
    .limit(1))[0];
}

/**
 * Make room for `streamIds` and `taskIds` of `initiativeId`: rows of other, finished initiatives
 * holding them are renamed. Returns what was renamed (for the import's report).
 */
export async function retireConflictingIds(db: Db, initiativeId: string, streamIds: readonly string[], taskIds: readonly string[]): Promise<Retired[]> {
  const clashStreams = streamIds.length ? await db.select().from(streams).where(inArray(streams.id, [...streamIds])) : [];
  const clashTasks = taskIds.length ? await db.select({ id: tasks.id, streamId: tasks.streamId }).from(tasks).where(inArray(tasks.id, [...taskIds])) : [];
  const owners = new Set<string>();
  for (const s of clashStreams) if (s.initiativeId && s.initiativeId !== initiativeId) owners.add(s.initiativeId);
  for (const t of clashTasks) {
    const owner = t.streamId ? (await db.select({ i: streams.initiativeId }).from(streams).where(eq(streams.id, t.streamId)))[0]?.i : null;
    if (owner && owner !== initiativeId) owners.add(owner);
  }
  const out: Retired[] = [];
  // An initiative still at work (or with worktrees left) keeps its ids: the import's own
  // line-numbered refusal then names the clash and this way out (wayOut below).
  for (const owner of owners) if (await finished(db, owner)) out.push(await retireInitiative(db, owner));
  return out;
}

/** Rename every stream and task of a finished initiative to `<id>.<initiative>`. */
async function retireInitiative(db: Db, initiativeId: string): Promise<Retired> {
  const own = await db.select().from(streams).where(eq(streams.initiativeId, initiativeId));
  const streamMap = Object.fromEntries(own.map((s) => [s.id, retiredId(s.id, initiativeId)]));
  const taskRows = own.length ? await db.select({ id: tasks.id, metadata: tasks.metadata, parentId: tasks.parentId }).from(tasks).where(inArray(tasks.streamId, own.map((s) => s.id))) : [];
  const taskMap = Object.fromEntries(taskRows.map((t) => [t.id, retiredId(t.id, initiativeId)]));
  const renameStream = (id: string) => streamMap[id] ?? id;
  // Renames cascade by hand (the schema has no ON UPDATE CASCADE): checked at commit, not per row.
  await deferForeignKeys(db);
  for (const s of own) {
    await db.update(streams).set({ id: streamMap[s.id]!, dependencies: s.dependencies.map(renameStream) }).where(eq(streams.id, s.id));
    await db.update(agentSessions).set({ streamId: streamMap[s.id]! }).where(eq(agentSessions.streamId, s.id));
    await recordEvent(db, "stream", streamMap[s.id]!, "update", { streamId: streamMap[s.id]!, renamedFrom: s.id, archived: true });
  }
  for (const t of taskRows) {
    const metadata = { ...t.metadata };
    if (typeof metadata.streamId === "string") metadata.streamId = renameStream(metadata.streamId);
    for (const key of ["dependencies", "streamDependencies"] as const)
      if (Array.isArray(metadata[key])) metadata[key] = (metadata[key] as unknown[]).map((d) => (typeof d === "string" ? renameStream(d) : d));
    await db.update(tasks)
      .set({
        id: taskMap[t.id]!,
        metadata,
        streamId: typeof metadata.streamId === "string" ? metadata.streamId : null,
        parentId: t.parentId ? (taskMap[t.parentId] ?? t.parentId) : null,
      })
      .where(eq(tasks.id, t.id));
    await db.update(workProducts).set({ taskId: taskMap[t.id]! }).where(eq(workProducts.taskId, t.id));
    await db.update(agentActivity).set({ taskId: taskMap[t.id]! }).where(eq(agentActivity.taskId, t.id));
  }
  // Subtasks outside the retired streams that point at a renamed parent.
  for (const [from, to] of Object.entries(taskMap)) await db.update(tasks).set({ parentId: to }).where(eq(tasks.parentId, from));
  return { initiativeId, streams: streamMap, tasks: taskMap };
}
