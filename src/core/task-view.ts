import type { TaskRow } from "../db/schema.ts";
import type { TaskStatus } from "./schemas.ts";

/** The task shape every face returns (the guide's /api/tasks item). */
export interface TaskView {
  id: string;
  prdId: string | null;
  parentId: string | null;
  title: string;
  description: string | null;
  assignedAgent: string | null;
  status: TaskStatus;
  blockedReason: string | null;
  notes: string | null;
  metadata: Record<string, unknown>;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

export function taskView(r: TaskRow): TaskView {
  return {
    id: r.id,
    prdId: r.prdId,
    parentId: r.parentId,
    title: r.title,
    description: r.description,
    assignedAgent: r.assignedAgent,
    status: r.status,
    blockedReason: r.blockedReason,
    notes: r.notes,
    metadata: r.metadata,
    archived: r.archived,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** What an agent needs of a task in a list or an acknowledgement: a few hundred bytes, not kilobytes. */
export interface TaskSummary {
  id: string;
  title: string;
  status: TaskStatus;
  assignedAgent: string | null;
  streamId: string | null;
  files?: string[];
  blockedReason?: string;
}

export function taskSummary(t: TaskView): TaskSummary {
  const streamId = typeof t.metadata.streamId === "string" ? t.metadata.streamId : null;
  const files = Array.isArray(t.metadata.files) ? (t.metadata.files as unknown[]).filter((f): f is string => typeof f === "string") : [];
  return {
    id: t.id,
    title: t.title,
    status: t.status,
    assignedAgent: t.assignedAgent,
    streamId,
    ...(files.length ? { files } : {}),
    ...(t.blockedReason ? { blockedReason: t.blockedReason } : {}),
  };
}
