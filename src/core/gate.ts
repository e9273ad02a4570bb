/**
 * May a stream start? Pure: the stream, the stream list → its unmet dependencies and the exact
 * SPEC message. A dependency is met when its stream is completed (every task done, at least one);
 * an archived stream still counts, so callers pass the list including archived streams.
 */
import type { StreamView } from "./streams.ts";

export interface UnmetDependency {
  streamId: string;
  /** null when no such stream exists. */
  progressPercentage: number | null;
  status: StreamView["status"] | "missing";
}

export type GateResult =
  | { ok: true; stream: StreamView; unmet: [] }
  | { ok: false; reason: "not_found"; stream: null; unmet: []; message: string }
  | { ok: false; reason: "dependencies"; stream: StreamView; unmet: UnmetDependency[]; message: string };

export const streamNotFoundMessage = (streamId: string) => `Stream not found: ${streamId}`;

/** `Stream cannot start - dependencies incomplete: Stream-A (75.0%), Stream-X (not found)` */
export function dependenciesMessage(unmet: readonly UnmetDependency[]): string {
  const parts = unmet.map((u) => `${u.streamId} (${u.progressPercentage === null ? "not found" : `${u.progressPercentage.toFixed(1)}%`})`);
  return `Stream cannot start - dependencies incomplete: ${parts.join(", ")}`;
}

export function unmetDependencies(stream: StreamView, all: readonly StreamView[]): UnmetDependency[] {
  const byId = new Map(all.map((s) => [s.streamId, s]));
  const unmet: UnmetDependency[] = [];
  for (const dep of new Set(stream.dependencies)) {
    if (dep === stream.streamId) continue;
    const d = byId.get(dep);
    if (!d) unmet.push({ streamId: dep, progressPercentage: null, status: "missing" });
    else if (d.status !== "completed") unmet.push({ streamId: dep, progressPercentage: d.progressPercentage, status: d.status });
  }
  return unmet;
}

export function checkStreamGate(streamId: string, all: readonly StreamView[]): GateResult {
  const stream = all.find((s) => s.streamId === streamId);
  if (!stream) return { ok: false, reason: "not_found", stream: null, unmet: [], message: streamNotFoundMessage(streamId) };
  const unmet = unmetDependencies(stream, all);
  if (unmet.length) return { ok: false, reason: "dependencies", stream, unmet, message: dependenciesMessage(unmet) };
  return { ok: true, stream, unmet: [] };
}
