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

export function progressSummary(store: Store, filter: { initiativeId?: string } = {}): ProgressSummary {
  const initiative = currentInitiative(store);
  const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  for (const r of store.db.select({ status: tasks.status, n: count() }).from(tasks).where(eq(tasks.archived, false)).groupBy(tasks.status).all())
    byStatus[r.status] = r.n;
  const prdCount =
    store.db
      .select({ n: count() })
      .from(prds)
      .where(filter.initiativeId ? and(eq(prds.initiativeId, filter.initiativeId)) : undefined)
      .get()?.n ?? 0;
  return {
    initiative,
    prdCount,
    tasks: { ...byStatus, total: Object.values(byStatus).reduce((a, b) => a + b, 0) },
    overall: withProgress(figuresFromStatusCounts(byStatus)),
    streams: listStreams(store, filter),
  };
}
