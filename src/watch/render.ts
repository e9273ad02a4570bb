/**
 * Pure monitor rendering: snapshot → frame (the guide's watch-status.py display). No I/O, no
 * clock: everything it shows comes in through the arguments, so frames are golden-testable.
 */
import { oneLine } from "../text/neutralise.ts";
import { displayWidth, truncateDisplay } from "../text/width.ts";
import { progressBar } from "../core/progress.ts";
import { ageText, shortSession, statusLine, type AgentStatusFields } from "./needs-you.ts";

export interface MonitorStream {
  streamId: string;
  streamName: string;
  streamPhase: string;
  totalTasks: number;
  completedTasks: number;
  inProgressTasks: number;
  blockedTasks: number;
  progressPercentage: number;
  status: string;
  dependencies: string[];
  /** What its agents cost so far (the API's `usage`). */
  usage?: { sessions: number; costUsd: number; denials: number; lastDenial: string | null };
}

export interface MonitorActivity {
  agentId: string;
  streamId: string | null;
  taskId: string;
  taskTitle: string;
  notes: string | null;
  isActive: boolean;
  lastHeartbeat: string;
}

export interface MonitorBlockedTask {
  id: string;
  streamId: string | null;
  blockedReason: string | null;
}

/** A live Claude Code session (GET /api/agents), with the name its stream's task gives its agent. */
export interface MonitorAgent extends AgentStatusFields {
  streamId: string | null;
  /** The in-progress task's assigned agent (`me` → `@agent-me`); null: the session id is shown. */
  name?: string | null;
}

/** The inbox at a glance: how many questions wait, and the one waiting longest. */
export interface MonitorInbox {
  pending: number;
  oldest: { id: number; streamId: string | null; question: string; createdAt: string } | null;
}

export interface MonitorSnapshot {
  streams: MonitorStream[];
  activities: MonitorActivity[];
  blockedTasks: MonitorBlockedTask[];
  /** Streams the orchestrator gave up on (orchestration-state.json). */
  failedStreams: string[];
  /** Streams `orch start` paused at their budget (waiting for `orch budget raise`). */
  pausedStreams?: string[];
  /** Archived streams that were completed: dependencies on them are satisfied (not shown). */
  archivedDone?: string[];
  /** Live agent sessions, newest first (absent from an API that predates them). */
  agents?: MonitorAgent[];
  inbox?: MonitorInbox;
}

export type SourceState =
  | { kind: "api"; url: string }
  | { kind: "db"; path: string; /** Why not the API, when one answers (another project's orch). */ reason?: string }
  | { kind: "down"; url: string; reason?: string };

export interface RenderOptions {
  width: number;
  color: boolean;
  refreshSeconds: number;
  source: SourceState;
  /** Milliseconds since epoch, for "idle for 12m". */
  now: number;
}

export const MIN_WIDTH = 60;
const BAR_CELLS = 20;

const ANSI = { green: "\x1b[32m", yellow: "\x1b[33m", red: "\x1b[31m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m" };
type Tone = "green" | "yellow" | "red" | "dim" | "bold" | null;

/** A piece of text with an optional colour; width is measured on the text alone. */
interface Span {
  text: string;
  tone?: Tone;
}

function paint(spans: Span[], color: boolean): string {
  return spans.map((s) => (color && s.tone ? `${ANSI[s.tone]}${s.text}${ANSI.reset}` : s.text)).join("");
}

const spansWidth = (spans: Span[]) => spans.reduce((w, s) => w + displayWidth(s.text), 0);

export const bar = (percentage: number) => progressBar(percentage, BAR_CELLS);

/** "50.0%", " 0.0%", "100.0%" — aligned as in the guide's frames. */
export const pct = (p: number) => `${p.toFixed(1).padStart(4)}%`;

function streamTone(s: MonitorStream, failed: boolean): Tone {
  if (failed || s.status === "blocked") return "red";
  if (s.status === "completed") return "green";
  if (s.status === "in_progress") return "yellow";
  return null;
}

/** Dependencies of `s` that are not complete (unknown ones count as not complete). */
export function waitingOn(s: MonitorStream, byId: Map<string, MonitorStream>, archivedDone: ReadonlySet<string> = new Set()): string[] {
  return s.dependencies.filter((d) => byId.get(d)?.status !== "completed" && !archivedDone.has(d));
}

function ago(iso: string, now: number): string {
  const mins = Math.max(0, Math.floor((now - Date.parse(iso)) / 60_000));
  return mins >= 60 ? `${Math.floor(mins / 60)}h${String(mins % 60).padStart(2, "0")}m` : `${mins}m`;
}

const agentLabel = (id: string) => (id.startsWith("agent-") ? `@${id}` : `@agent-${id}`);

function agentTone(a: MonitorAgent): Tone {
  if (a.status === "waiting_permission" || a.status === "waiting_input") return "yellow";
  if (a.status === "error") return "red";
  return a.stale || a.status === "idle" ? "dim" : null;
}

/** The newest live session of each stream: the one whose state the stream is in. */
function latestAgentByStream(agents: readonly MonitorAgent[]): Map<string, MonitorAgent> {
  const out = new Map<string, MonitorAgent>();
  const newestFirst = [...agents].sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt));
  for (const a of newestFirst) if (a.streamId && a.status !== "exited" && !out.has(a.streamId)) out.set(a.streamId, a);
  return out;
}

export function renderFrame(snap: MonitorSnapshot, o: RenderOptions): string {
  const width = Math.max(MIN_WIDTH, Math.floor(o.width));
  const inner = width - 2; // between the two ║
  const content = inner - 4; // two spaces of margin each side
  const rows: string[] = [];
  const line = (raw: Span[]) => {
    // Names, titles, notes and reasons are agent-written: one line each, no control characters.
    const spans = raw.map((s) => ({ ...s, text: oneLine(s.text) }));
    let fitted = spans;
    if (spansWidth(spans) > content) {
      // Cut the last spans to fit, keeping colours of what remains.
      fitted = [];
      let room = content;
      for (const s of spans) {
        const w = displayWidth(s.text);
        if (w <= room) {
          fitted.push(s);
          room -= w;
        } else {
          if (room > 0) fitted.push({ text: truncateDisplay(s.text, room), tone: s.tone });
          room = 0;
          break;
        }
      }
    }
    const pad = " ".repeat(content - spansWidth(fitted));
    rows.push(`║  ${paint(fitted, o.color)}${pad}  ║`);
  };
  /** A one-colour message that wraps at spaces instead of being cut (alerts, the API-down line). */
  const wrapped = (text: string, tone: Tone = null, indent = "  ") => {
    let rest = oneLine(text);
    let first = true;
    while (rest) {
      const room = content - (first ? 0 : indent.length);
      let piece = rest;
      if (displayWidth(rest) > room) {
        const cut = rest.lastIndexOf(" ", room);
        piece = cut > room / 3 ? rest.slice(0, cut) : truncateDisplay(rest, room).slice(0, -1);
      }
      line([{ text: (first ? "" : indent) + piece, tone }]);
      rest = rest.slice(piece.length).trimStart();
      first = false;
    }
  };
  const rule = (l: string, r: string) => rows.push(`${l}${"═".repeat(inner)}${r}`);

  rule("╔", "╗");
  const sourceTag =
    o.source.kind === "db" ? "[local DB] " : o.source.kind === "down" ? "[API down] " : "";
  const right = `${sourceTag}[Refresh: ${o.refreshSeconds}s]`;
  const title = "ORCHESTRATION STATUS";
  const gap = Math.max(1, Math.min(content - displayWidth(title) - displayWidth(right), 15));
  line([{ text: title, tone: "bold" }, { text: " ".repeat(gap) }, { text: right, tone: o.source.kind === "api" ? null : "dim" }]);
  rule("╠", "╣");

  if (o.source.kind === "db" && o.source.reason) wrapped(o.source.reason, "yellow");
  if (o.source.kind === "down") {
    wrapped(o.source.reason ?? `Cannot connect to Task Copilot API at ${o.source.url} — retrying`, "red");
    rule("╚", "╝");
    return `${rows.join("\n")}\n\nPress Ctrl+C to exit\n`;
  }

  const total = snap.streams.reduce((n, s) => n + s.totalTasks, 0);
  const done = snap.streams.reduce((n, s) => n + s.completedTasks, 0);
  const overallPct = total > 0 ? Math.floor((done * 1000) / total) / 10 : 0;
  const allDone = total > 0 && done === total;
  line([
    { text: "Overall: " },
    { text: bar(overallPct), tone: allDone ? "green" : null },
    { text: ` ${pct(overallPct)} (${done}/${total} tasks)` },
    ...(allDone ? [{ text: " ✓ COMPLETE", tone: "green" as Tone }] : []),
  ]);
  rule("╠", "╣");

  const byId = new Map(snap.streams.map((s) => [s.streamId, s]));
  const failed = new Set(snap.failedStreams);
  const paused = new Set(snap.pausedStreams ?? []);
  const alerts: Span[] = [];
  if (snap.streams.length === 0) {
    line([{ text: "No streams yet — import a PRD (orch prd import FILE.md)", tone: "dim" }]);
  } else {
    const labels = snap.streams.map((s) => `${s.streamId} (${s.streamPhase})`);
    const tails = snap.streams.map((s): Span[] => {
      const tone = streamTone(s, failed.has(s.streamId));
      const head: Span = { text: ` ${pct(s.progressPercentage)}`, tone };
      const cost: Span[] = s.usage?.costUsd ? [{ text: ` $${s.usage.costUsd.toFixed(2)}`, tone: "dim" }] : [];
      if (s.status === "completed") return [head, { text: " ✓ COMPLETE", tone: "green" }, ...cost];
      if (failed.has(s.streamId)) return [head, { text: ` (${s.completedTasks}/${s.totalTasks} tasks) ✖ FAILED`, tone: "red" }, ...cost];
      if (paused.has(s.streamId)) return [head, { text: ` (${s.completedTasks}/${s.totalTasks} tasks) ⏸ PAUSED: budget`, tone: "yellow" }, ...cost];
      return [head, { text: ` (${s.completedTasks}/${s.totalTasks} tasks)` }, ...cost];
    });
    const suffixWidth = Math.max(...tails.map(spansWidth));
    // Names give way first: the bar and the figures always fit.
    const labelWidth = Math.max(8, Math.min(content - BAR_CELLS - 1 - suffixWidth, Math.max(...labels.map(displayWidth))));
    const activityByStream = new Map<string, MonitorActivity[]>();
    for (const a of snap.activities) {
      if (!a.isActive || !a.streamId) continue;
      const list = activityByStream.get(a.streamId) ?? [];
      list.push(a);
      activityByStream.set(a.streamId, list);
    }
    const agentOf = latestAgentByStream(snap.agents ?? []);
    snap.streams.forEach((s, i) => {
      const isFailed = failed.has(s.streamId);
      const tone = streamTone(s, isFailed);
      const label = truncateDisplay(labels[i]!, labelWidth);
      line([
        { text: label + " ".repeat(labelWidth - displayWidth(label) + 1) },
        { text: bar(s.progressPercentage), tone },
        ...tails[i]!,
      ]);
      for (const a of activityByStream.get(s.streamId) ?? []) {
        line([{ text: `  └─ ${agentLabel(a.agentId)}: ${a.notes || a.taskTitle}` }]);
      }
      const session = agentOf.get(s.streamId);
      if (session) {
        line([
          { text: `  └─ ${agentLabel(session.name || shortSession(session.sessionId))} ` },
          { text: statusLine(session), tone: agentTone(session) },
        ]);
      }
      const waiting = s.status === "pending" ? waitingOn(s, byId, new Set(snap.archivedDone ?? [])) : [];
      if (waiting.length) {
        line([{ text: `  ⚠ Waiting on: ${waiting.join(", ")}`, tone: "yellow" }]);
        alerts.push({ text: `⚠ ${s.streamId}: Waiting on dependencies`, tone: "yellow" });
      }
      if (isFailed) alerts.unshift({ text: `✖ ${s.streamId}: failed — agent gave up with the stream unfinished`, tone: "red" });
      if (paused.has(s.streamId) && s.status !== "completed")
        alerts.push({ text: `⏸ ${s.streamId}: paused at its budget — orch budget raise ${s.streamId} USD`, tone: "yellow" });
      if (s.usage?.lastDenial)
        alerts.push({
          text: `⚠ ${s.streamId}: Claude Code denied ${s.usage.denials === 1 ? "" : `${s.usage.denials} calls, last `}${s.usage.lastDenial}`,
          tone: "yellow",
        });
      if (s.status === "blocked") {
        const reasons = snap.blockedTasks.filter((t) => t.streamId === s.streamId);
        const why = reasons.map((t) => `${t.id}${t.blockedReason ? `: ${t.blockedReason}` : ""}`).join("; ");
        alerts.unshift({ text: `✖ ${s.streamId}: blocked${why ? ` — ${why}` : ""}`, tone: "red" });
      }
    });
    for (const a of snap.activities) {
      if (a.isActive) continue;
      alerts.push({
        text: `⚠ ${agentLabel(a.agentId)} stalled on ${a.taskId}${a.streamId ? ` (${a.streamId})` : ""}: no heartbeat for ${ago(a.lastHeartbeat, o.now)}`,
        tone: "yellow",
      });
    }
  }
  if (snap.inbox && snap.inbox.pending > 0) {
    const { pending, oldest } = snap.inbox;
    rule("╠", "╣");
    line([{ text: "INBOX", tone: "bold" }, { text: `  ${pending === 1 ? "1 question waits" : `${pending} questions wait`} for you`, tone: "yellow" }]);
    if (oldest) {
      wrapped(`${pending === 1 ? "" : "oldest: "}#${oldest.id}${oldest.streamId ? ` ${oldest.streamId}` : ""} ${oldest.question} (${ageText(oldest.createdAt, o.now)})`);
      line([{ text: `orch allow ${oldest.id} / orch deny ${oldest.id}`, tone: "dim" }]);
    }
  }
  if (alerts.length) {
    rule("╠", "╣");
    line([{ text: "ALERTS", tone: "bold" }]);
    for (const a of alerts) wrapped(a.text, a.tone ?? null);
  }
  rule("╚", "╝");
  return `${rows.join("\n")}\n\nPress Ctrl+C to exit\n`;
}
