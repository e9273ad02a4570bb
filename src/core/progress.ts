/** Pure progress maths shared by the API, MCP, CLI and monitor (SPEC: Data model). */
import type { StreamStatus } from "./schemas.ts";

export interface StatusCounts {
  totalTasks: number;
  completedTasks: number;
  inProgressTasks: number;
  blockedTasks: number;
  pendingTasks: number;
}

/**
 * One decimal, floored, so 99.96 % shows as 99.9 and never 100 before all are done.
 * Integer arithmetic: completed*1000/total is exact whenever the true value is an integer.
 */
export function progressPercentage(completed: number, total: number): number {
  if (total <= 0) return 0;
  return Math.floor((completed * 1000) / total) / 10;
}

export function streamStatus(c: StatusCounts): StreamStatus {
  if (c.totalTasks > 0 && c.completedTasks >= c.totalTasks) return "completed";
  if (c.blockedTasks > 0 && c.inProgressTasks === 0) return "blocked";
  if (c.inProgressTasks > 0 || c.completedTasks > 0) return "in_progress";
  return "pending";
}

/** Figures from per-status counts; cancelled tasks are excluded from the total. */
export function figuresFromStatusCounts(byStatus: Partial<Record<string, number>>): StatusCounts {
  const completed = byStatus.completed ?? 0;
  const inProgress = byStatus.in_progress ?? 0;
  const blocked = byStatus.blocked ?? 0;
  const pending = byStatus.pending ?? 0;
  return {
    totalTasks: completed + inProgress + blocked + pending,
    completedTasks: completed,
    inProgressTasks: inProgress,
    blockedTasks: blocked,
    pendingTasks: pending,
  };
}

export function withProgress<T extends StatusCounts>(c: T): T & { progressPercentage: number; status: StreamStatus } {
  return { ...c, progressPercentage: progressPercentage(c.completedTasks, c.totalTasks), status: streamStatus(c) };
}

/** The guide's 20-cell bar: █ done, ░ to do; full only at 100 %. */
export function progressBar(percentage: number, cells = 20): string {
  const filled = Math.max(0, Math.min(cells, Math.floor((percentage / 100) * cells)));
  return "█".repeat(filled) + "░".repeat(cells - filled);
}
