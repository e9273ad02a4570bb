/**
 * Where the monitor's snapshots come from: the REST API (with /api/events as the "something
 * changed" signal) or, when no API answers, the local database directly.
 */
import { existsSync, readFileSync } from "node:fs";
import { listActivity, listStreams, listTasks, withUsage } from "../core/index.ts";
import { listAgents } from "../core/agents.ts";
import { countPending, listInbox } from "../core/inbox.ts";
import { sseMessages } from "../net/sse-client.ts";
import { createChangeFeed } from "../core/change-feed.ts";
import type { Store } from "../db/client.ts";
import type { Peer } from "../net/peer.ts";
import type { MonitorAgent, MonitorInbox, MonitorSnapshot } from "./render.ts";

export interface SnapshotSource {
  snapshot(): Promise<MonitorSnapshot>;
  /** Calls onChange whenever the data may have changed; returns a stop function. */
  watch(onChange: () => void, onError: (err: unknown) => void): () => void;
}

/** The streams to show, and the archived ones that were completed (they satisfy dependencies). */
function splitArchived<T extends { streamId: string; status: string; archived?: boolean }>(all: T[]): { streams: T[]; archivedDone: string[] } {
  return { streams: all.filter((s) => !s.archived), archivedDone: all.filter((s) => s.archived && s.status === "completed").map((s) => s.streamId) };
}

const stringsOf = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : []);

/** Failed streams, and streams paused for budget, recorded by `orch start` in orchestration-state.json. */
export function readRunMarks(stateFile: string | undefined): { failedStreams: string[]; pausedStreams: string[] } {
  if (!stateFile || !existsSync(stateFile)) return { failedStreams: [], pausedStreams: [] };
  try {
    const state = JSON.parse(readFileSync(stateFile, "utf8")) as { failedStreams?: unknown; pausedStreams?: unknown };
    return { failedStreams: stringsOf(state.failedStreams), pausedStreams: stringsOf(state.pausedStreams) };
  } catch {
    return { failedStreams: [], pausedStreams: [] }; // a half-written or hand-edited file must not take the monitor down
  }
}

interface TaskAgent {
  assignedAgent: string | null;
  metadata?: { streamId?: unknown };
}

/** Pure: each stream's agent name, from its in-progress tasks' assigned agent (the plan's `@agent-me`). */
export function agentNames(inProgress: readonly TaskAgent[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of inProgress) {
    const stream = t.metadata?.streamId;
    if (typeof stream === "string" && t.assignedAgent && !out.has(stream)) out.set(stream, t.assignedAgent);
  }
  return out;
}

/** Pure: the sessions as the monitor shows them, named after their stream's agent. */
export function namedAgents(agents: readonly Omit<MonitorAgent, "name">[], names: ReadonlyMap<string, string>): MonitorAgent[] {
  return agents.map((a) => ({ ...a, name: a.streamId ? (names.get(a.streamId) ?? null) : null }));
}

export function apiSource(baseUrl: string, opts: { token?: string; stateFile?: string; timeoutMs?: number } = {}): SnapshotSource {
  const base = baseUrl.replace(/\/+$/, "");
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 3000) });
    if (!res.ok) throw new Error(`${path} answered HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  /** A route an older orch serve does not have yet: absent, not "API down". */
  const getIfServed = async <T>(path: string): Promise<T | undefined> => {
    const res = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 3000) });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`${path} answered HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    async snapshot() {
      const [streams, activity, blocked, agents, inbox, working] = await Promise.all([
        get<{ streams: (MonitorSnapshot["streams"][number] & { archived?: boolean })[] }>("/api/streams?includeArchived=true"),
        get<{ activities: MonitorSnapshot["activities"] }>("/api/activity?active=false"),
        get<{ tasks: { id: string; blockedReason: string | null; metadata?: { streamId?: string } }[] }>("/api/tasks?status=blocked"),
        getIfServed<{ agents: MonitorAgent[] }>("/api/agents"),
        getIfServed<{ entries: MonitorInbox["oldest"][]; pending: number }>("/api/inbox?limit=1"),
        get<{ tasks: TaskAgent[] }>("/api/tasks?status=in_progress"),
      ]);
      return {
        ...splitArchived(streams.streams),
        activities: activity.activities,
        blockedTasks: blocked.tasks.map((t) => ({ id: t.id, blockedReason: t.blockedReason, streamId: t.metadata?.streamId ?? null })),
        ...readRunMarks(opts.stateFile),
        ...(agents ? { agents: namedAgents(agents.agents, agentNames(working.tasks)) } : {}),
        ...(inbox ? { inbox: { pending: inbox.pending, oldest: inbox.entries[0] ?? null } } : {}),
      };
    },
    watch(onChange, onError) {
      const ctrl = new AbortController();
      (async () => {
        const res = await fetch(`${base}/api/events`, { headers: { ...headers, accept: "text/event-stream" }, signal: ctrl.signal });
        if (!res.ok || !res.body) throw new Error(`/api/events answered HTTP ${res.status}`);
        // Every message (snapshot, task, stream, activity…) means "redraw"; comments are heartbeats.
        for await (const _message of sseMessages(res.body)) onChange();
        throw new Error("event stream closed");
      })().catch((err) => {
        if (!ctrl.signal.aborted) onError(err);
      });
      return () => ctrl.abort();
    },
  };
}

/**
 * Whether the API at `baseUrl` serves the dashboard page: `orch serve` does, the API an `orch mcp`
 * session shares does not. One GET of `/`, bounded; any failure means no.
 */
export async function servesDashboard(baseUrl: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl.replace(/\/+$/, "")}/`, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok && (res.headers.get("content-type") ?? "").startsWith("text/html");
  } catch {
    return false;
  }
}

export function dbSource(store: Store, opts: { stateFile?: string; pollMs?: number } = {}): SnapshotSource {
  return {
    snapshot() {
      // One transaction, so one moment: read statement by statement, a session could show
      // `working` beside the question that already holds it (PostgreSQL commits in between).
      return store.tx(async () => ({
        ...splitArchived(await withUsage(store, await listStreams(store, { includeArchived: true }))),
        activities: (await listActivity(store, { active: false })).activities,
        blockedTasks: (await listTasks(store, { status: "blocked" })).tasks.map((t) => ({
          id: t.id,
          blockedReason: t.blockedReason,
          streamId: typeof t.metadata.streamId === "string" ? t.metadata.streamId : null,
        })),
        ...readRunMarks(opts.stateFile),
        agents: namedAgents(await listAgents(store), agentNames((await listTasks(store, { status: "in_progress" })).tasks)),
        inbox: { pending: await countPending(store), oldest: (await listInbox(store, { limit: 1 }))[0] ?? null },
      }));
    },
    watch(onChange, onError) {
      // The same change feed as the API's SSE: the store's change nudge (a file watch), confirmed
      // by its change token, with a slow poll as the fallback.
      let stop: (() => void) | null = null;
      let stopped = false;
      createChangeFeed(store, { intervalMs: opts.pollMs ?? 250 }).then((feed) => {
        if (stopped) return;
        const unsubscribe = feed.subscribe(() => onChange());
        feed.start();
        stop = () => {
          unsubscribe();
          feed.stop();
        };
      }, onError);
      return () => {
        stopped = true;
        stop?.();
      };
    },
  };
}

/**
 * Pure: where the monitor reads from, given who answered on the API's address. The token goes
 * only to an orch that proved it holds it; without --api, an orch serving another database (another
 * project's, on the same default port) is passed over for the local database, and said so.
 */
export function chooseSource(
  peer: Peer,
  o: { explicitApi: boolean; hasToken: boolean; localDbId: () => string | null; url: string },
): { kind: "api" } | { kind: "db"; reason?: string } | { kind: "down"; reason?: string } {
  const fallback = (reason?: string) => (o.explicitApi ? { kind: "down" as const, reason } : { kind: "db" as const, reason });
  if (peer.kind !== "orch") return o.explicitApi ? { kind: "down" } : { kind: "db" };
  if (o.hasToken && !peer.proven)
    return fallback(`The server at ${o.url} did not prove it holds ORCH_API_TOKEN: the token was not sent${o.explicitApi ? "" : "; showing this project's database"}`);
  if (!o.explicitApi) {
    const local = o.localDbId();
    if (local !== null && local !== peer.dbId) return { kind: "db", reason: `The API at ${o.url} serves another project's database; showing this project's` };
  }
  return { kind: "api" };
}
