/**
 * `orch generate status`: per-phase progress bars from stream views. Pure. A stream waits on
 * the dependencies that are not complete; an archived stream still counts (a foundation that was
 * completed and archived satisfies its dependents), so callers pass the archived ones too.
 */
import { unmetDependencies } from "../core/gate.ts";
import { progressBar } from "../core/progress.ts";
import { overallFromStreams } from "../core/summary.ts";
import { STREAM_PHASES, type StreamPhase } from "../core/schemas.ts";
import type { StreamView } from "../core/streams.ts";

const pctText = (p: number) => `${p.toFixed(1)}%`.padStart(6);

export interface PhaseStatus {
  phase: StreamPhase;
  totalTasks: number;
  completedTasks: number;
  inProgressTasks: number;
  blockedTasks: number;
  pendingTasks: number;
  progressPercentage: number;
  status: string;
  streams: (StreamView & { waitingOn: string[] })[];
}

export interface StatusReport {
  initiative: { id: string | null; name: string } | null;
  overall: ReturnType<typeof overallFromStreams>;
  phases: PhaseStatus[];
}

/** `streams` are shown; `archived` (the initiative's archived streams) only answer for dependencies. */
export function statusReport(
  initiative: StatusReport["initiative"],
  streams: readonly StreamView[],
  archived: readonly StreamView[] = [],
): StatusReport {
  const known = [...streams, ...archived];
  const phases = STREAM_PHASES.map((phase) => {
    const list = streams.filter((s) => s.streamPhase === phase);
    return {
      phase,
      ...overallFromStreams(list),
      streams: list.map((s) => ({
        ...s,
        waitingOn: s.status === "completed" ? [] : unmetDependencies(s, known).map((u) => u.streamId),
      })),
    };
  }).filter((p) => p.streams.length > 0);
  return { initiative, overall: overallFromStreams(streams), phases };
}

export function renderStatus(r: StatusReport): string {
  const label = (s: string, w: number) => s.padEnd(w);
  const idWidth = Math.max(8, ...r.phases.flatMap((p) => p.streams.map((s) => s.streamId.length + 2)));
  const w = Math.max(idWidth, 12);
  const counts = (c: { completedTasks: number; totalTasks: number }) => `(${c.completedTasks}/${c.totalTasks} tasks)`;
  const lines: string[] = [];
  if (r.initiative) lines.push(`${r.initiative.name}${r.initiative.id ? ` (${r.initiative.id})` : ""}`, "");
  lines.push(`${label("Overall", w)} ${progressBar(r.overall.progressPercentage)} ${pctText(r.overall.progressPercentage)} ${counts(r.overall)}`);
  for (const p of r.phases) {
    const name = p.phase[0]!.toUpperCase() + p.phase.slice(1);
    const done = p.status === "completed" ? " ✓ COMPLETE" : "";
    lines.push("", `${label(name, w)} ${progressBar(p.progressPercentage)} ${pctText(p.progressPercentage)} ${counts(p)}${done}`);
    for (const s of p.streams) {
      const tail =
        s.status === "completed"
          ? "✓ COMPLETE"
          : `${counts(s)}${s.blockedTasks ? ` ${s.blockedTasks} blocked` : ""}${s.waitingOn.length ? `  ⚠ Waiting on: ${s.waitingOn.join(", ")}` : ""}`;
      lines.push(`${label(`  ${s.streamId}`, w)} ${progressBar(s.progressPercentage)} ${pctText(s.progressPercentage)} ${tail}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
