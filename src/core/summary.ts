import { and, count, eq } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { prds, tasks } from "../db/schema.ts";
import { currentInitiative, type InitiativeView } from "./initiatives.ts";
import { figuresFromStatusCounts, withProgress, type StatusCounts } from "./progress.ts";
import { TASK_STATUSES, type TaskStatus } from "./schemas.ts";
import { listStreams, type StreamView } from "./streams.ts";

/** Overall figures from stream figures (the monitor's "Overall" line): pure. */
export function overallFromStreams(list: ReadonlyArray<StatusCounts>) {
  const sum: StatusCounts = { totalTasks: 0, completedTasks: 0, inProgressTasks: 0, blockedTasks: 0, pendingTasks: 0 };
  for (const s of list) {
    sum.totalTasks += s.totalTasks;
    sum.completedTasks += s.completedTasks;
    sum.inProgressTasks += s.inProgressTasks;
    sum.blockedTasks += s.blockedTasks;
    sum.pendingTasks += s.pendingTasks;
  }
  return withProgress(sum);
}

export interface ProgressSummary {
  initiative: InitiativeView | null;
  prdCount: number;
  tasks: Record<TaskStatus, number> & { total: number };
  overall: ReturnType<typeof withProgress<StatusCounts>>;
  streams: StreamView[];
}

export async function progressSummary(store: Store, filter: { initiativeId?: string } = {}): Promise<ProgressSummary> {
  const initiative = await currentInitiative(store);
  const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  for (const r of await store.db.select({ status: tasks.status, n: count() }).from(tasks).where(eq(tasks.archived, false)).groupBy(tasks.status))
    byStatus[r.status] = r.n;
  const prdCount =
    (await store.db
      .select({ n: count() })
      .from(prds)
      .where(filter.initiativeId ? and(eq(prds.initiativeId, filter.initiativeId)) : undefined))[0]?.n ?? 0;
  return {
    initiative,
    prdCount,
    tasks: { ...byStatus, total: Object.values(byStatus).reduce((a, b) => a + b, 0) },
    overall: withProgress(figuresFromStatusCounts(byStatus)),
    streams: await listStreams(store, filter),
  };
}
