/** The API's shapes as the dashboard reads them (src/api/shapes.ts is the source of truth). */
export type StreamStatus = "pending" | "in_progress" | "blocked" | "completed";
export interface Usage {
  sessions: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  turns: number;
  denials: number;
  lastDenial: string | null;
}
export interface Stream {
  streamId: string;
  streamName: string;
  streamPhase: "foundation" | "parallel" | "integration";
  totalTasks: number;
  completedTasks: number;
  inProgressTasks: number;
  blockedTasks: number;
  pendingTasks: number;
  progressPercentage: number;
  status: StreamStatus;
  dependencies: string[];
  worktreePath: string | null;
  branchName: string | null;
  files: string[];
  archived: boolean;
  initiativeId: string | null;
  usage?: Usage;
}
export interface Task {
  id: string;
  title: string;
  description: string | null;
  assignedAgent: string | null;
  status: string;
  blockedReason: string | null;
  notes: string | null;
  metadata: Record<string, unknown>;
  updatedAt: string;
}
export interface StreamDetail extends Stream {
  tasks: Task[];
}
export interface Activity {
  activityId: string;
  taskId: string;
  taskTitle: string;
  agentId: string;
  streamId: string | null;
  startedAt: string;
  lastHeartbeat: string;
  isActive: boolean;
  notes: string | null;
}
export interface Agent {
  sessionId: string;
  streamId: string | null;
  status: string;
  tool: string | null;
  lastMessage: string | null;
  pendingQuestion: string | null;
  costUsd: number | null;
  updatedAt: string;
  stale?: boolean;
}
export interface InboxEntry {
  id: number;
  kind: string;
  streamId: string | null;
  agent: string | null;
  toolName: string | null;
  toolInput: unknown;
  question: string;
  status: string;
  createdAt: string;
  expiresAt: string;
}
export interface Health {
  warnings: { type: string; taskId: string; message: string }[];
  currentTask: { id: string; title: string; status: string } | null;
  lastActivityAt: string | null;
}
export interface WorkProductSummary {
  id: string;
  taskId: string;
  type: string;
  title: string;
  createdAt: string;
}
export interface StreamWorkProducts {
  streamId: string;
  workProducts: WorkProductSummary[];
  total: number;
}
export interface WorkProduct extends WorkProductSummary {
  content: string;
  metadata: Record<string, unknown>;
}
export interface StreamWorktree {
  streamId: string;
  branch: string | null;
  baseBranch: string | null;
  path: string | null;
  exists: boolean;
  ahead: number | null;
  behind: number | null;
  dirty: { code: string; path: string }[];
  totalDirty: number;
}
export interface StreamConflicts {
  streamId: string;
  conflicts: {
    otherStream: string;
    branch: string | null;
    otherBranch: string | null;
    gitChecked: boolean;
    files: string[];
    totalFiles: number;
    declaredOverlap: string[];
    error: string | null;
  }[];
  totalConflicts: number;
}
export interface StreamLog {
  streamId: string;
  source: "transcript" | "headless-log" | null;
  lines: { at: string | null; kind: "text" | "tool" | "result" | "error" | "user"; text: string }[];
  truncated: boolean;
}
export interface RunState {
  run: {
    outcome: string;
    launcher: string;
    startedAt: string;
    lastUpdate: string;
    finishedAt: string | null;
    live: boolean;
    streams: Record<string, { status: "pending" | "running" | "completed" | "merged" | "failed"; paused: boolean; restarts: number; lastExitCode: number | null }>;
    conflict: { streamId: string; into: string; kind: string; files: string[]; totalFiles: number } | null;
  } | null;
  error?: string;
}
