/**
 * The guide's `/continue STREAM`: refuse until the stream's dependencies are complete, give a
 * parallel stream its worktree (created or reused), and gather the resume context — current
 * focus, next task, files to load, dependencies; for an integration stream, the parallel streams
 * and whether their branches are merged yet. `renderResume` is pure.
 */
import type { Store } from "../db/client.ts";
import { checkStreamGate } from "../core/gate.ts";
import { getStream, listStreams, type StreamView } from "../core/streams.ts";
import type { TaskView } from "../core/task-view.ts";
import { conflict, notFound } from "../errors.ts";
import { branchCommit, currentBranch, isAncestor, resolveCommit } from "../git/repo.ts";
import { resolveWorktreeSetup } from "./config.ts";
import { createStreamWorktree, type WorktreeCreateResult } from "./create.ts";
import { locateRepo, parseStreamId, streamBranchName } from "./naming.ts";

export interface ResumeTask {
  id: string;
  title: string;
  status: TaskView["status"];
  assignedAgent: string | null;
}

export interface ResumeDependency {
  streamId: string;
  streamName: string;
  status: StreamView["status"] | "missing";
  progressPercentage: number;
  complete: boolean;
}

export interface ResumeParallelStream extends ResumeDependency {
  branchName: string | null;
  /** Whether its branch is merged into the main worktree's HEAD; null when it has no branch. */
  merged: boolean | null;
}

export interface ResumeContext {
  streamId: string;
  streamName: string;
  streamPhase: StreamView["streamPhase"];
  status: StreamView["status"];
  progressPercentage: number;
  completedTasks: number;
  totalTasks: number;
  currentFocus: string | null;
  nextTask: ResumeTask | null;
  blockedTasks: (ResumeTask & { blockedReason: string | null })[];
  /** Files to load: the next task's declared files, else the stream's. */
  files: string[];
  dependencies: ResumeDependency[];
  /** Integration streams: the parallel streams they integrate. */
  parallelStreams: ResumeParallelStream[] | null;
  worktree: WorktreeCreateResult | null;
  /** Where the agent should work: the stream's worktree, else the main worktree. */
  workingDirectory: string;
}

const toTask = (t: TaskView): ResumeTask => ({ id: t.id, title: t.title, status: t.status, assignedAgent: t.assignedAgent });

/** The task to pick up: one already in progress, else the first pending one (in creation order). */
export function pickNextTask(tasks: readonly TaskView[]): TaskView | null {
  return tasks.find((t) => t.status === "in_progress") ?? tasks.find((t) => t.status === "pending") ?? null;
}

export interface ContinueInput {
  streamId: string;
  cwd?: string;
  onOutput?: (chunk: string) => void;
  /** Called before a worktree is created, so a face can say so first (the guide's "Creating worktree…"). */
  onCreating?: (streamId: string) => void;
}

export async function continueStream(store: Store, input: ContinueInput): Promise<ResumeContext> {
  const streamId = parseStreamId(input.streamId);
  const all = await listStreams(store, { includeArchived: true });
  const gate = checkStreamGate(streamId, all);
  if (!gate.ok) {
    if (gate.reason === "not_found") throw notFound(gate.message, { streamId });
    throw conflict(gate.message, { unmet: gate.unmet });
  }
  if (gate.stream.archived) throw conflict(`Stream ${streamId} is archived: run "orch stream unarchive ${streamId}" to work on it again`);

  let worktree: WorktreeCreateResult | null = null;
  let root: string | null = null;
  const needsRepo = gate.stream.streamPhase === "parallel" || gate.stream.streamPhase === "integration";
  if (needsRepo || gate.stream.worktreePath) {
    try {
      root = locateRepo(input.cwd).root;
    } catch (err) {
      // A parallel stream cannot run without its worktree; the others can run outside git.
      if (gate.stream.streamPhase === "parallel") throw err;
    }
  }
  if (gate.stream.streamPhase === "parallel") {
    if (!gate.stream.worktreePath) input.onCreating?.(streamId);
    worktree = await createStreamWorktree(store, {
      streamId,
      cwd: input.cwd,
      setup: resolveWorktreeSetup(root!),
      onOutput: input.onOutput,
    });
  }

  const detail = await getStream(store, streamId, { includeArchived: true });
  const next = pickNextTask(detail.tasks);
  const nextFiles = Array.isArray(next?.metadata.files) ? (next!.metadata.files as unknown[]).filter((f): f is string => typeof f === "string") : [];
  const byId = new Map(all.map((s) => [s.streamId, s]));
  const dependencies: ResumeDependency[] = detail.dependencies.map((id) => {
    const d = byId.get(id);
    return d
      ? { streamId: id, streamName: d.streamName, status: d.status, progressPercentage: d.progressPercentage, complete: d.status === "completed" }
      : { streamId: id, streamName: id, status: "missing", progressPercentage: 0, complete: false };
  });

  let parallelStreams: ResumeParallelStream[] | null = null;
  if (detail.streamPhase === "integration") {
    const head = root ? resolveCommit(root, "HEAD") : null;
    parallelStreams = all
      .filter((s) => s.streamPhase === "parallel" && !s.archived && (!detail.initiativeId || !s.initiativeId || s.initiativeId === detail.initiativeId))
      .map((s) => {
        const branch = root ? [s.branchName, streamBranchName(s.streamId)].find((b) => b && branchCommit(root!, b)) ?? null : null;
        const merged = root && head && branch && branch !== currentBranch(root) ? isAncestor(root, branchCommit(root, branch)!, head) : null;
        return {
          streamId: s.streamId,
          streamName: s.streamName,
          status: s.status,
          progressPercentage: s.progressPercentage,
          complete: s.status === "completed",
          branchName: branch,
          merged,
        };
      });
  }

  return {
    streamId,
    streamName: detail.streamName,
    streamPhase: detail.streamPhase,
    status: detail.status,
    progressPercentage: detail.progressPercentage,
    completedTasks: detail.completedTasks,
    totalTasks: detail.totalTasks,
    currentFocus: next?.title ?? null,
    nextTask: next ? toTask(next) : null,
    blockedTasks: detail.tasks.filter((t) => t.status === "blocked").map((t) => ({ ...toTask(t), blockedReason: t.blockedReason })),
    files: nextFiles.length ? nextFiles : detail.files,
    dependencies,
    parallelStreams,
    worktree,
    workingDirectory: worktree?.worktreePath ?? root ?? input.cwd ?? process.cwd(),
  };
}

/** The worktree lines the guide shows ("Creating worktree…" is printed before the work starts). */
export function renderWorktreeLines(w: WorktreeCreateResult): string[] {
  if (w.reused) return [`✓ Worktree ready: ${w.relativePath} (branch ${w.branchName})`];
  const lines = w.pruneSaved.flatMap((p) => [
    `Saved what the stale registration ${p.worktreePath} alone held (${p.items.join(", ")}) to ${p.ref}; to get it back, in ${p.restoreIn}: ${p.restore.join(" && ")}`,
  ]);
  lines.push(`✓ Worktree created: ${w.relativePath}`);
  lines.push(w.branchCreated ? `✓ Branch created: ${w.branchName} (from ${w.baseBranch})` : `✓ Branch reused: ${w.branchName}`);
  if (w.copied.length) lines.push(`✓ Copied: ${w.copied.join(", ")}`);
  if (w.setup) lines.push(`✓ Setup: ${w.setup.command.join(" ")} (${(w.setup.durationMs / 1000).toFixed(1)} s)`);
  return lines;
}

export function renderResume(c: ResumeContext): string {
  const lines: string[] = [];
  if (c.worktree) lines.push(...renderWorktreeLines(c.worktree), "");
  lines.push(`Resuming ${c.streamId}: ${c.streamName}`);
  if (c.nextTask) {
    lines.push(`Current focus: ${c.currentFocus}`);
    lines.push(`Next task: ${c.nextTask.id}`);
  } else if (c.status === "completed") {
    lines.push(`All ${c.totalTasks} tasks complete (100.0%).`);
  } else {
    lines.push(`Next task: none pending`);
  }
  lines.push(`Progress: ${c.progressPercentage.toFixed(1)}% (${c.completedTasks}/${c.totalTasks} tasks)`);
  if (c.blockedTasks.length) {
    lines.push("", "Blocked:");
    for (const t of c.blockedTasks) lines.push(`  ⚠ ${t.id}: ${t.title}${t.blockedReason ? ` (${t.blockedReason})` : ""}`);
  }
  if (c.files.length) {
    lines.push("", "Loading files:");
    for (const f of c.files) lines.push(`  - ${f}`);
  }
  lines.push("");
  if (c.parallelStreams) {
    const done = c.parallelStreams.filter((p) => p.complete);
    lines.push(done.length === c.parallelStreams.length ? "Parallel streams completed:" : "Parallel streams:");
    for (const p of c.parallelStreams) {
      const mark = p.complete ? "✓" : "…";
      const merge =
        p.merged === true ? " (merged)" : p.merged === false ? ` (branch ${p.branchName} not merged yet: orch worktree merge ${p.streamId})` : "";
      lines.push(`  ${mark} ${p.streamId}: ${p.streamName}${p.complete ? "" : ` (${p.progressPercentage.toFixed(1)}%)`}${merge}`);
    }
    lines.push("", "Ready for integration work.");
  } else if (c.dependencies.length === 0) {
    lines.push(c.streamPhase === "foundation" ? "Dependencies: None (foundation stream)" : "Dependencies: None");
  } else {
    lines.push("Dependencies:");
    for (const d of c.dependencies) lines.push(`  ${d.complete ? "✓" : "…"} ${d.streamId}: ${d.streamName} (${d.progressPercentage.toFixed(1)}%)`);
  }
  lines.push("", `Working directory: ${c.workingDirectory}`);
  return `${lines.join("\n")}\n`;
}
