/**
 * The orch dashboard: plain TypeScript over the REST API, one EventSource for live changes.
 *
 * Stable hooks for tests (test/browser/) — keep them when changing the markup:
 *   #app                         root; #nav with a[href="#/"], a[href="#/needs-you"]
 *   #connection                  role=status; has class "down" and text "API restarted, reconnecting…" while disconnected
 *   #overview                    the overview page; #overall (initiative progress), section[data-phase="foundation|parallel|integration"]
 *   [data-stream="Stream-B"]     a stream's card on the overview (a[data-stream-link] inside goes to its page)
 *   #graph                       the dependency graph (SVG); [data-node="Stream-B"][data-frontier="completed|in_progress|ready|waiting|blocked"]
 *   #empty                       an empty state ("No plan yet — run `orch prd import PRD.md`")
 *   #needs-you                   the inbox page; li[data-inbox="3"], input[data-reason="3"], button[data-allow="3"], button[data-deny="3"]
 *   #inbox-count                 pending count in the nav; document.title is "(N) orch" while N > 0
 *   #alerts                      alerts list, li[data-alert="blocked|stale|failed|denied|over-budget"]
 *   #stream[data-stream-page="Stream-B"]  a stream's page; tr[data-task="TASK-ID"] with td.status, td.agent, td.notes, td.files
 *   #activity, #spend, #work-products, #worktree, #conflicts, #stream-agents  sections of the stream page
 *   #worktree                    [data-branch], [data-ahead-behind], li[data-dirty="path"] (its git status code in code.code)
 *   #conflicts                   li[data-conflict="Stream-C"] with code.file per predicted conflicting file
 *   [data-run="failed|paused|running"]  a stream's run badge from orch start's state (GET /api/run), on its card and its page
 *   #work-products               li[data-work-product="WP-…"] each with button[data-open-work-product="WP-…"] (newest first);
 *                                the one opened below in article#work-product, its content as text in pre#work-product-content
 *   #log                         the agent's log tail, live: li[data-log-kind="text|tool|result|error|user"] in ol#log-lines
 *                                (kept scrolled to the end); with no log, p.empty "No agent log yet — orch start launches one."
 *   #actions                     button[data-action="merge|archive|unarchive|raise"], input[data-raise-usd];
 *                                merge and archive ask first: button[data-confirm="merge|archive"], button[data-cancel=…];
 *                                the outcome in #action-result (role=status, class ok|bad)
 *   #error                       a failed action or load, role=alert
 *   #signin                      on a server with ORCH_API_TOKEN, before sign-in: input#signin-token, button#signin-submit, #signin-error
 * Live: every event on /api/events marks what it touches stale; only that is fetched again.
 */
import { ago, bar, h, money, type Child } from "./dom.ts";
import { dependencyGraph } from "./graph.ts";
import { signInForm, signInHint, type SignIn } from "./signin.ts";
import type { Activity, Agent, Health, InboxEntry, Stream, StreamConflicts, StreamDetail, StreamLog, StreamWorkProducts, StreamWorktree, RunState, WorkProduct } from "./types.ts";

type Resource = "streams" | "agents" | "inbox" | "activity" | "blocked" | "stream" | "git" | "log" | "workProducts" | "run";

const state = {
  loaded: new Set<Resource>(),
  streams: [] as Stream[],
  agents: [] as Agent[],
  inbox: { entries: [] as InboxEntry[], pending: 0 },
  activities: [] as Activity[],
  blocked: [] as { id: string; title: string; blockedReason: string | null; metadata: Record<string, unknown> }[],
  detail: null as StreamDetail | null,
  health: null as Health | null,
  /** The stream page's git facts (null: not loaded, or the API could not tell). */
  worktree: null as StreamWorktree | null,
  conflicts: null as StreamConflicts | null,
  /** The tail of the stream's agent log (null: not loaded, or it could not be read). */
  log: null as StreamLog | null,
  /** orch start's run state (GET /api/run): which streams run, failed or are paused for their budget. */
  run: null as RunState | null,
  /** The stream's work products (summaries, newest first), and the one opened with its content. */
  workProducts: null as StreamWorkProducts | null,
  openWorkProduct: null as null | { id: string; item: WorkProduct | null; error: string | null },
  connected: false,
  authLost: false,
  /** Set by a 401: how this browser can get a session ("token": the sign-in form; "link": orch serve's printed link). */
  signIn: null as SignIn | null,
  everConnected: false,
  error: null as string | null,
  reasons: new Map<number, string>(),
  busy: new Set<number>(),
  /** The stream action awaiting its confirmation (merge, archive), its outcome, the raise typed. */
  confirming: null as null | "merge" | "archive",
  actionBusy: false,
  actionResult: null as null | { ok: boolean; text: string },
  raiseUsd: "",
  /** Streams paused at their budget, from `budget` events seen since the page opened (no route lists them). */
  paused: new Map<string, string>(),
};

// ---------- data ----------

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: "same-origin", headers: { accept: "application/json" } });
  const hint = await signInHint(res);
  if (hint) state.signIn = hint;
  if (!res.ok) throw new Error(`${path} answered HTTP ${res.status}${await errorText(res)}`);
  return (await res.json()) as T;
}

async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: string };
    return body.error ? `: ${body.error}` : "";
  } catch {
    return "";
  }
}

const route = () => {
  const m = /^#\/stream\/(.+)$/.exec(location.hash);
  if (m) return { page: "stream" as const, id: decodeURIComponent(m[1]!) };
  if (location.hash === "#/needs-you") return { page: "needs" as const, id: "" };
  return { page: "overview" as const, id: "" };
};

const loaders: Record<Resource, () => Promise<void>> = {
  streams: async () => {
    state.streams = (await getJson<{ streams: Stream[] }>("/api/streams?includeArchived=true")).streams;
  },
  agents: async () => {
    state.agents = (await getJson<{ agents: Agent[] }>("/api/agents")).agents;
  },
  inbox: async () => {
    state.inbox = await getJson<{ entries: InboxEntry[]; pending: number }>("/api/inbox");
  },
  activity: async () => {
    state.activities = (await getJson<{ activities: Activity[] }>("/api/activity?active=false")).activities;
  },
  blocked: async () => {
    state.blocked = (await getJson<{ tasks: typeof state.blocked }>("/api/tasks?status=blocked")).tasks;
  },
  stream: async () => {
    const r = route();
    if (r.page !== "stream") return;
    const id = encodeURIComponent(r.id);
    try {
      const [detail, health] = await Promise.all([
        getJson<StreamDetail>(`/api/streams/${id}?includeArchived=true`),
        getJson<Health>(`/api/streams/${id}/health?includeArchived=true`).catch(() => null),
      ]);
      state.detail = detail;
      state.health = health;
    } catch (err) {
      state.detail = null;
      state.health = null;
      if (!String(err).includes("HTTP 404")) throw err;
    }
  },
  // From git, not the database: fetched apart, also when the stream's agent reports a tool call
  // (an Edit or a commit changes the worktree without any database change).
  git: async () => {
    const r = route();
    if (r.page !== "stream") return;
    const id = encodeURIComponent(r.id);
    const [worktree, conflicts] = await Promise.all([
      getJson<StreamWorktree>(`/api/streams/${id}/worktree`).catch(() => null),
      getJson<StreamConflicts>(`/api/streams/${id}/conflicts`).catch(() => null),
    ]);
    state.worktree = worktree;
    state.conflicts = conflicts;
  },
  run: async () => {
    state.run = await getJson<RunState>("/api/run");
  },
  workProducts: async () => {
    const r = route();
    if (r.page !== "stream") return;
    try {
      state.workProducts = await getJson<StreamWorkProducts>(`/api/streams/${encodeURIComponent(r.id)}/work-products?limit=50`);
    } catch (err) {
      state.workProducts = null;
      if (!String(err).includes("HTTP 404")) throw err;
    }
  },
  log: async () => {
    const r = route();
    if (r.page !== "stream") return;
    try {
      state.log = await getJson<StreamLog>(`/api/streams/${encodeURIComponent(r.id)}/log?lines=200`);
    } catch (err) {
      state.log = null;
      if (!String(err).includes("HTTP 404")) throw err;
    }
  },
};

const dirty = new Set<Resource>();
let inFlight = false;

/** Fetch again what was marked stale; events arriving meanwhile are batched into the next round. */
function refresh(...what: Resource[]): void {
  for (const r of what) dirty.add(r);
  if (inFlight) return;
  inFlight = true;
  queueMicrotask(async () => {
    while (dirty.size) {
      const batch = [...dirty];
      dirty.clear();
      const results = await Promise.allSettled(batch.map((r) => loaders[r]().then(() => state.loaded.add(r))));
      const failed = results.find((x) => x.status === "rejected") as PromiseRejectedResult | undefined;
      state.error = failed ? String(failed.reason?.message ?? failed.reason) : null;
      render();
    }
    inFlight = false;
  });
}

const ALL: Resource[] = ["streams", "agents", "inbox", "activity", "blocked", "stream", "git", "log", "workProducts", "run"];

let runSettle: ReturnType<typeof setTimeout> | null = null;
/**
 * The run state changed, maybe: fetch it now, and once more a second after the last such event.
 * orch start saves its state file just after the database changes that announce it (an agent's
 * session closed, then the stream marked failed), so the first look can come too early. One
 * follow-up per burst of events, none while nothing happens: not a poll.
 */
function refreshRun(): void {
  refresh("run");
  if (runSettle !== null) clearTimeout(runSettle);
  runSettle = setTimeout(() => {
    runSettle = null;
    refresh("run");
  }, 1000);
}

function streamOfEvent(data: unknown): string | null {
  const d = (data as { data?: Record<string, unknown> } | null)?.data;
  const meta = d?.metadata as { streamId?: unknown } | undefined;
  const id = d?.streamId ?? meta?.streamId;
  return typeof id === "string" ? id : null;
}

let lastEventId = "";
let source: EventSource | null = null;

/**
 * One EventSource. It reconnects by itself after a dropped connection, sending Last-Event-ID, and
 * the server replays what was missed. A refused reconnect (an HTTP error: the server restarted and
 * no longer knows this browser's session, say) closes it for good: then a new one is opened, with
 * ?lastEventId= (the route reads it like the header), after a pause.
 */
function live(): void {
  const url = lastEventId ? `/api/events?lastEventId=${encodeURIComponent(lastEventId)}` : "/api/events";
  source?.close();
  const es = new EventSource(url, { withCredentials: true });
  source = es;
  es.onopen = () => {
    // Back after a break: what is not an event (expired questions, exited agents) may differ too.
    if (state.everConnected && !state.connected) refresh(...ALL);
    state.connected = true;
    state.everConnected = true;
    state.authLost = false;
    render();
  };
  es.onerror = () => {
    state.connected = false;
    render();
    if (es.readyState === EventSource.CLOSED && source === es) {
      source = null;
      void fetch("/api/streams", { credentials: "same-origin" })
        .then(async (r) => {
          state.authLost = r.status === 401 || r.status === 403;
          state.signIn = await signInHint(r);
          render();
        })
        .catch(() => {})
        .finally(() => setTimeout(live, 3000));
    }
  };
  const on = (kind: string, handler: (data: unknown) => void) =>
    es.addEventListener(kind, (e) => {
      let data: unknown = null;
      try {
        data = JSON.parse((e as MessageEvent<string>).data);
      } catch {
        return;
      }
      if ((e as MessageEvent).lastEventId) lastEventId = (e as MessageEvent).lastEventId;
      handler(data);
    });
  // A snapshot comes on the first connect or when replay was impossible: everything may differ.
  on("snapshot", (data) => {
    const snap = data as { streams: Stream[]; activities: Activity[] };
    clearTimeout(firstLoad);
    state.activities = snap.activities;
    state.loaded.add("activity");
    // Paint the live streams at once; the list with archived ones follows.
    if (!state.loaded.has("streams")) {
      state.streams = snap.streams;
      state.loaded.add("streams");
      render();
    }
    refresh("streams", "agents", "inbox", "blocked", "stream", "git", "log", "workProducts", "run");
  });
  const current = () => (route().page === "stream" ? route().id : null);
  /** The event is about the stream whose page is open: its agent's log may have grown, its worktree changed. */
  const logOf = (d: unknown): Resource[] => (current() !== null && streamOfEvent(d) === current() ? ["log", "git"] : []);
  const pageOf = (d: unknown): Resource[] => (streamOfEvent(d) === current() || !streamOfEvent(d) ? ["stream", "git"] : []);
  on("task", (d) => refresh("streams", "blocked", ...logOf(d), ...pageOf(d)));
  on("stream", (d) => {
    refresh("streams", ...logOf(d), ...pageOf(d));
    refreshRun();
  });
  on("activity", (d) => refresh("activity", "stream", ...logOf(d)));
  on("agent", (d) => {
    refresh("agents", ...logOf(d));
    refreshRun();
  });
  // An agent launched or ended by orch start (data.streamId: its stream).
  on("agent_session", (d) => {
    refresh(...logOf(d));
    refreshRun();
  });
  on("inbox", () => refresh("inbox"));
  on("budget", (d) => {
    const b = (d as { entityId?: string; data?: { pausedReason?: string | null } }).data;
    const sid = (d as { entityId?: string }).entityId;
    if (sid) {
      if (b?.pausedReason) state.paused.set(sid, b.pausedReason);
      else state.paused.delete(sid);
    }
    refresh("streams");
    refreshRun();
  });
  on("prd", () => refresh("streams"));
  on("initiative", () => refresh("streams"));
  // A work product names its task, not its stream: fetched again when the task is this stream's (or the tasks are not known yet).
  on("work_product", (d) => {
    const taskId = (d as { data?: { taskId?: unknown } }).data?.taskId;
    if (current() === null) return;
    if (!state.detail || state.detail.streamId !== current() || state.detail.tasks.some((t) => t.id === taskId)) refresh("workProducts");
  });
}

// ---------- actions ----------

async function answer(id: number, decision: "allow" | "deny"): Promise<void> {
  const reason = state.reasons.get(id)?.trim();
  state.busy.add(id);
  render();
  try {
    const res = await fetch(`/api/inbox/${id}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(decision === "deny" && reason ? { decision, reason, by: "dashboard" } : { decision, by: "dashboard" }),
    });
    if (!res.ok) {
      state.error =
        res.status === 409 ? `Question #${id} was already answered or has expired.` : `Could not ${decision} question #${id}: HTTP ${res.status}${await errorText(res)}`;
    } else {
      state.error = null;
      state.reasons.delete(id);
    }
  } catch (err) {
    state.error = `Could not ${decision} question #${id}: ${(err as Error).message}`;
  } finally {
    state.busy.delete(id);
    refresh("inbox", "agents");
  }
}

type StreamAction = "merge" | "archive" | "unarchive" | "raise";

async function streamAction(id: string, action: StreamAction): Promise<void> {
  const path =
    action === "raise" ? `/api/budget/${encodeURIComponent(id)}/raise` : `/api/streams/${encodeURIComponent(id)}/${action}`;
  let body: Record<string, unknown> = {};
  if (action === "raise") {
    const usd = Number(state.raiseUsd);
    if (!state.raiseUsd.trim() || !Number.isFinite(usd) || usd <= 0) {
      state.actionResult = { ok: false, text: "Type how many dollars to add, e.g. 5." };
      return render();
    }
    body = { usd: Math.round(usd * 100) / 100, by: "dashboard" };
  }
  state.confirming = null;
  state.actionBusy = true;
  render();
  try {
    const res = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    state.actionResult = { ok: res.ok, text: describeAction(action, res.status, json) };
    if (res.ok && action === "raise") state.raiseUsd = "";
  } catch (err) {
    state.actionResult = { ok: false, text: `${action} failed: ${(err as Error).message}` };
  } finally {
    state.actionBusy = false;
    refresh("streams", "stream", "inbox");
  }
}

function describeAction(action: StreamAction, status: number, json: Record<string, unknown>): string {
  const merge = (json.merge ?? json) as { status?: string; into?: string; commit?: string | null; conflictingFiles?: string[]; filesChanged?: string[]; worktreeUncommitted?: string[] };
  if (action === "merge" && (status === 200 || json.merge)) {
    if (merge.status === "merged") {
      const left = merge.worktreeUncommitted?.length ? ` Not merged (uncommitted in the stream's worktree): ${merge.worktreeUncommitted.join(", ")}.` : "";
      return `Merged into ${merge.into} (${(merge.commit ?? "").slice(0, 12)}), ${merge.filesChanged?.length ?? 0} file(s) changed.${left}`;
    }
    if (merge.status === "up_to_date") return `Already merged into ${merge.into}: nothing to do.`;
    if (merge.status === "conflict") return `Not merged: it would conflict in ${merge.conflictingFiles?.join(", ") || "some files"}. Nothing was changed.`;
  }
  if (status >= 400) return `${action} refused (HTTP ${status}): ${typeof json.error === "string" ? json.error : "no reason given"}`;
  if (action === "archive") return `Archived (${json.tasksAffected ?? 0} task(s)).`;
  if (action === "unarchive") return `Back from the archive (${json.tasksAffected ?? 0} task(s)).`;
  if (action === "raise") {
    const b = (json.stream ?? {}) as { limitUsd?: number | null; spentUsd?: number };
    return `Budget raised: ${money(b.spentUsd)} spent of ${b.limitUsd === null || b.limitUsd === undefined ? "no limit" : money(b.limitUsd)}${json.wasPaused ? "; the stream resumes" : ""}.`;
  }
  return `${action}: done.`;
}

function actions(d: StreamDetail): HTMLElement {
  const id = d.streamId;
  const busy = state.actionBusy;
  const confirm = (what: "merge" | "archive", question: string, verb: string) =>
    h(
      "div",
      { class: "confirm", role: "group", "aria-label": `Confirm ${what}` },
      h("span", {}, question, " "),
      h("button", { type: "button", class: "danger", "data-confirm": what, "data-key": `confirm-${what}`, disabled: busy, onclick: () => void streamAction(id, what) }, verb),
      h("button", { type: "button", "data-cancel": what, "data-key": `cancel-${what}`, onclick: () => ((state.confirming = null), render()) }, "Cancel"),
    );
  const raise = h("input", { id: "raise-usd", type: "number", min: "0.01", step: "0.01", inputmode: "decimal", "data-raise-usd": id, placeholder: "USD" });
  raise.value = state.raiseUsd;
  raise.addEventListener("input", () => (state.raiseUsd = raise.value));
  raise.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Enter") void streamAction(id, "raise");
  });
  return h(
    "section",
    { id: "actions" },
    h("h2", {}, "Actions"),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", "data-action": "merge", "data-key": "action-merge", disabled: busy || !d.worktreePath, title: d.worktreePath ? null : "no worktree branch to merge", onclick: () => ((state.confirming = "merge"), render()) }, "Merge…"),
      d.archived
        ? h("button", { type: "button", "data-action": "unarchive", "data-key": "action-unarchive", disabled: busy, onclick: () => void streamAction(id, "unarchive") }, "Unarchive")
        : h("button", { type: "button", "data-action": "archive", "data-key": "action-archive", disabled: busy, onclick: () => ((state.confirming = "archive"), render()) }, "Archive…"),
      h("label", { for: "raise-usd" }, "Raise budget by $"),
      raise,
      h("button", { type: "button", "data-action": "raise", "data-key": "action-raise", disabled: busy, onclick: () => void streamAction(id, "raise") }, "Raise"),
    ),
    state.confirming === "merge" ? confirm("merge", `Merge ${d.branchName ?? "its branch"} into the main checkout's branch?`, "Merge") : null,
    state.confirming === "archive" ? confirm("archive", `Archive ${id} and its ${d.totalTasks} task(s)? (Unarchive brings them back.)`, "Archive") : null,
    state.actionResult ? h("p", { id: "action-result", role: "status", class: state.actionResult.ok ? "ok" : "bad" }, state.actionResult.text) : null,
  );
}

// ---------- views ----------

const PHASES = ["foundation", "parallel", "integration"] as const;
const label = (s: string) => s.replace(/_/g, " ");
const streamLink = (id: string, text: Child = id) => h("a", { href: `#/stream/${encodeURIComponent(id)}`, "data-stream-link": id }, text);
const visible = () => state.streams.filter((st) => !st.archived);
const archivedDone = () => state.streams.filter((st) => st.archived && st.status === "completed").map((st) => st.streamId);
const agentsOf = (id: string) => state.agents.filter((a) => a.streamId === id);

function emptyPlan(): HTMLElement {
  return h("p", { id: "empty", class: "empty" }, "No plan yet — run ", h("code", {}, "orch prd import PRD.md"), ".");
}

function agentLine(agents: Agent[]): HTMLElement | null {
  if (!agents.length) return null;
  const a = agents[0]!;
  return h(
    "p",
    { class: `agent agent-${a.status}${a.stale ? " agent-stale" : ""}` },
    h("span", { class: "badge" }, label(a.status), a.stale ? " (stale)" : ""),
    a.tool ? [" ", h("code", {}, a.tool)] : null,
    agents.length > 1 ? ` +${agents.length - 1} more` : null,
  );
}

function overview(): HTMLElement {
  const streams = visible();
  if (state.loaded.has("streams") && !streams.length) return h("section", { id: "overview" }, h("h1", {}, "Overview"), emptyPlan());
  const total = streams.reduce((n, st) => n + st.totalTasks, 0);
  const doneTasks = streams.reduce((n, st) => n + st.completedTasks, 0);
  const pct = total ? Math.floor((doneTasks / total) * 1000) / 10 : 0;
  const cost = streams.reduce((n, st) => n + (st.usage?.costUsd ?? 0), 0);
  return h(
    "section",
    { id: "overview" },
    h("h1", {}, "Overview"),
    h(
      "div",
      { id: "overall", class: "overall" },
      bar(pct, "Initiative progress"),
      h("span", {}, `${pct}% · ${doneTasks}/${total} tasks · ${streams.filter((st) => st.status === "completed").length}/${streams.length} streams done · ${money(cost)}`),
    ),
    h(
      "div",
      { class: "lanes" },
      PHASES.map((phase) => {
        const lane = streams.filter((st) => st.streamPhase === phase);
        return h(
          "section",
          { class: "lane", "data-phase": phase, "aria-label": `${phase} phase` },
          h("h2", {}, label(phase)),
          lane.length ? lane.map(card) : h("p", { class: "muted" }, "No streams in this phase."),
        );
      }),
    ),
    streams.length
      ? h("section", { class: "graph-box" }, h("h2", {}, "Dependencies"), graphLegend(), h("div", { class: "graph-scroll" }, dependencyGraph(streams, archivedDone())))
      : h("p", { class: "muted" }, "Loading…"),
  );
}

function graphLegend(): HTMLElement {
  return h(
    "p",
    { class: "legend" },
    ["completed", "in_progress", "ready", "waiting", "blocked"].map((f) => h("span", { class: `key node-${f}` }, label(f === "waiting" ? "waiting on a dependency" : f))),
  );
}

/** What orch start says of the stream: failed, paused for its budget, or its agent running (only while the run is live). */
function runBadge(id: string): Child {
  const run = state.run?.run;
  const s = run?.streams[id];
  if (!run || !s) return null;
  const badge = (kind: string, text: string, title: string) => [" ", h("span", { class: `badge run-${kind}`, "data-run": kind, title }, text)];
  if (s.status === "failed") {
    const why = [s.lastExitCode !== null ? `last exit code ${s.lastExitCode}` : "", s.restarts ? `${s.restarts} restart${s.restarts === 1 ? "" : "s"}` : ""].filter(Boolean).join(", ");
    return badge("failed", "failed", `orch start gave up on it${why ? ` (${why})` : ""}`);
  }
  if (s.paused) return badge("paused", "paused (budget)", "paused at its budget: raise it to go on");
  if (s.status === "running" && run.live) return badge("running", "running", `its agent runs (${run.launcher})`);
  return null;
}

function card(st: Stream): HTMLElement {
  return h(
    "article",
    { class: `card status-${st.status}`, "data-stream": st.streamId },
    h("h3", {}, streamLink(st.streamId, [st.streamId, ": ", st.streamName])),
    bar(st.progressPercentage, `${st.streamId} progress`),
    h("p", { class: "counts" }, `${st.completedTasks}/${st.totalTasks} done · ${st.inProgressTasks} in progress · ${st.blockedTasks} blocked · ${st.pendingTasks} pending`),
    h("p", {}, h("span", { class: `badge status-${st.status}` }, label(st.status)), runBadge(st.streamId), " ", h("span", { class: "cost" }, money(st.usage?.costUsd))),
    agentLine(agentsOf(st.streamId)),
  );
}

function alerts(): HTMLElement {
  const items: HTMLElement[] = [];
  const add = (kind: string, ...body: Child[]) =>
    items.push(h("li", { "data-alert": kind.replace(/ /g, "-"), class: `alert alert-${kind.replace(/ /g, "-")}` }, h("strong", {}, label(kind)), " ", body));
  for (const t of state.blocked) {
    const sid = typeof t.metadata?.streamId === "string" ? t.metadata.streamId : null;
    add("blocked", sid ? [streamLink(sid), " "] : null, t.title, t.blockedReason ? ` — ${t.blockedReason}` : "");
  }
  for (const a of state.agents) {
    if (a.stale) add("stale", a.streamId ? [streamLink(a.streamId), " "] : null, `agent silent since ${ago(a.updatedAt)}`);
    if (a.status === "error") add("failed", a.streamId ? [streamLink(a.streamId), " "] : null, a.lastMessage ?? "the agent stopped with an error");
  }
  for (const e of state.inbox.entries.filter((x) => x.kind === "budget")) add("over budget", e.streamId ? [streamLink(e.streamId), " "] : null, e.question);
  for (const [sid, why] of state.paused) if (!state.inbox.entries.some((x) => x.kind === "budget" && x.streamId === sid)) add("over budget", streamLink(sid), ` paused (${why})`);
  for (const st of visible()) {
    if (st.usage?.denials) add("denied", streamLink(st.streamId), ` ${st.usage.denials} tool call(s) denied`, st.usage.lastDenial ? ` — last: ${st.usage.lastDenial}` : "");
  }
  return h(
    "section",
    { "aria-label": "Alerts" },
    h("h2", {}, "Alerts"),
    items.length ? h("ul", { id: "alerts" }, items) : h("p", { id: "alerts", class: "empty" }, "No alerts: nothing blocked, stale, failed, denied or over budget."),
  );
}

function needsYou(): HTMLElement {
  const entries = state.inbox.entries;
  return h(
    "section",
    { id: "needs-you" },
    h("h1", {}, "Needs you"),
    !state.loaded.has("inbox")
      ? h("p", { class: "muted" }, "Loading…")
      : entries.length
        ? h("ol", { class: "inbox" }, entries.map(inboxItem))
        : h("p", { class: "empty" }, "Nothing waits for you: no agent is asking a question."),
    alerts(),
  );
}

function inboxItem(e: InboxEntry): HTMLElement {
  const busy = state.busy.has(e.id);
  const reasonId = `reason-${e.id}`;
  const input = h("input", { id: reasonId, type: "text", "data-reason": e.id, "data-key": `reason-${e.id}`, maxlength: 2000, placeholder: "told to the agent when you deny" });
  input.value = state.reasons.get(e.id) ?? "";
  input.addEventListener("input", () => state.reasons.set(e.id, input.value));
  input.addEventListener("keydown", (ev) => {
    if ((ev as KeyboardEvent).key === "Enter") void answer(e.id, "deny");
  });
  const input_ = e.toolInput === null || e.toolInput === undefined ? null : JSON.stringify(e.toolInput, null, 2);
  return h(
    "li",
    { class: "inbox-entry", "data-inbox": e.id },
    h("p", { class: "question" }, e.question),
    h(
      "p",
      { class: "meta" },
      `#${e.id} · ${label(e.kind)} · `,
      e.streamId ? [streamLink(e.streamId), " · "] : null,
      e.agent ? `${e.agent} · ` : null,
      e.toolName ? [h("code", {}, e.toolName), " · "] : null,
      `asked ${ago(e.createdAt)} · expires ${ago(e.expiresAt).replace(" ago", "")}`,
    ),
    input_ ? h("details", {}, h("summary", {}, "Tool input"), h("pre", {}, input_)) : null,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "allow", "data-allow": e.id, "data-key": `allow-${e.id}`, disabled: busy, onclick: () => void answer(e.id, "allow") }, "Allow"),
      h("label", { for: reasonId }, "Reason"),
      input,
      h("button", { type: "button", class: "deny", "data-deny": e.id, "data-key": `deny-${e.id}`, disabled: busy, onclick: () => void answer(e.id, "deny") }, "Deny"),
    ),
  );
}

function streamPage(id: string): HTMLElement {
  const d = state.detail;
  if (!d || d.streamId !== id) {
    return h(
      "section",
      { id: "stream", "data-stream-page": id },
      h("h1", {}, id),
      h("p", { class: "empty" }, state.loaded.has("stream") ? ["No stream ", h("code", {}, id), ". ", h("a", { href: "#/" }, "Back to the overview")] : "Loading…"),
    );
  }
  const u = d.usage;
  const acts = state.activities.filter((a) => a.streamId === id);
  return h(
    "section",
    { id: "stream", "data-stream-page": id },
    h("h1", {}, `${d.streamId}: `, d.streamName),
    h(
      "p",
      {},
      h("span", { class: `badge status-${d.status}` }, label(d.status)),
      runBadge(d.streamId),
      ` ${label(d.streamPhase)} phase · ${d.completedTasks}/${d.totalTasks} tasks`,
      d.archived ? " · archived" : "",
    ),
    bar(d.progressPercentage, `${d.streamId} progress`),
    d.dependencies.length ? h("p", {}, "Depends on: ", d.dependencies.map((x, i) => [i ? ", " : "", streamLink(x)])) : h("p", { class: "muted" }, "No dependencies."),
    state.health?.warnings.length ? h("ul", { class: "warnings" }, state.health.warnings.map((w) => h("li", { class: "alert", "data-warning": w.type }, h("strong", {}, w.type), " ", w.message))) : null,
    h("h2", {}, "Tasks"),
    d.tasks.length
      ? h(
          "table",
          { class: "tasks" },
          h("thead", {}, h("tr", {}, ["Task", "Status", "Agent", "Notes", "Files"].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            {},
            d.tasks.map((t) => {
              const files = Array.isArray(t.metadata.files) ? (t.metadata.files as unknown[]).filter((f): f is string => typeof f === "string") : [];
              return h(
                "tr",
                { "data-task": t.id, class: `status-${t.status}` },
                h("td", { class: "title" }, h("code", {}, t.id), " ", t.title),
                h("td", { class: "status" }, h("span", { class: `badge status-${t.status}` }, label(t.status)), t.blockedReason ? h("div", { class: "muted" }, t.blockedReason) : null),
                h("td", { class: "agent" }, t.assignedAgent ?? "—"),
                h("td", { class: "notes" }, t.notes ?? ""),
                h("td", { class: "files" }, files.map((f) => h("code", {}, f))),
              );
            }),
          ),
        )
      : h("p", { class: "empty" }, "This stream has no tasks."),
    h(
      "section",
      { id: "stream-agents" },
      h("h2", {}, "Agents"),
      agentsOf(id).length
        ? h(
            "ul",
            {},
            agentsOf(id).map((a) =>
              h(
                "li",
                { "data-agent": a.sessionId },
                h("span", { class: `badge agent-${a.status}` }, label(a.status), a.stale ? " (stale)" : ""),
                a.tool ? [" ", h("code", {}, a.tool)] : null,
                a.pendingQuestion ? [" — waits on: ", a.pendingQuestion] : null,
                a.lastMessage ? h("div", { class: "muted" }, a.lastMessage) : null,
                h("div", { class: "muted" }, `updated ${ago(a.updatedAt)} · ${money(a.costUsd)}`),
              ),
            ),
          )
        : h("p", { class: "empty" }, "No live agent session reports to this stream."),
    ),
    h(
      "section",
      { id: "activity" },
      h("h2", {}, "Activity"),
      acts.length
        ? h("ul", {}, acts.map((a) => h("li", { "data-activity": a.activityId }, h("strong", {}, a.agentId), ` on ${a.taskId}: `, a.taskTitle, a.notes ? [" — ", a.notes] : null, h("span", { class: "muted" }, ` · ${a.isActive ? "active" : "idle"}, heartbeat ${ago(a.lastHeartbeat)}`))))
        : h("p", { class: "empty" }, "No activity recorded for this stream yet."),
    ),
    workProductsSection(id),
    h(
      "section",
      { id: "spend" },
      h("h2", {}, "Spend"),
      u
        ? h(
            "dl",
            {},
            h("dt", {}, "Cost"),
            h("dd", {}, money(u.costUsd)),
            h("dt", {}, "Sessions"),
            h("dd", {}, u.sessions),
            h("dt", {}, "Tokens in / out"),
            h("dd", {}, `${u.inputTokens.toLocaleString()} / ${u.outputTokens.toLocaleString()}`),
            h("dt", {}, "Turns"),
            h("dd", {}, u.turns),
            h("dt", {}, "Denied tool calls"),
            h("dd", {}, u.denials, u.lastDenial ? [" — last: ", u.lastDenial] : null),
          )
        : h("p", { class: "empty" }, "No spending recorded."),
    ),
    logSection(id),
    actions(d),
    worktreeSection(d),
    conflictsSection(),
  );
}

/** Show a work product's content below the list (again: hide it). */
async function openWorkProduct(id: string): Promise<void> {
  if (state.openWorkProduct?.id === id) {
    state.openWorkProduct = null;
    return render();
  }
  const opened = { id, item: null as WorkProduct | null, error: null as string | null };
  state.openWorkProduct = opened;
  render();
  try {
    opened.item = await getJson<WorkProduct>(`/api/work-products/${encodeURIComponent(id)}`);
  } catch (err) {
    opened.error = `Could not load ${id}: ${(err as Error).message}`;
  }
  if (state.openWorkProduct === opened) render();
}

function workProductsSection(id: string): HTMLElement {
  const list = state.workProducts && state.workProducts.streamId === id ? state.workProducts : null;
  const open = state.openWorkProduct;
  let shown: HTMLElement | null = null;
  if (open) {
    const content = h("pre", { id: "work-product-content", tabindex: 0 });
    content.textContent = open.item ? open.item.content : open.error ?? "Loading…";
    shown = h(
      "article",
      { id: "work-product", "data-open-work-product": open.id, "aria-live": "polite" },
      open.item ? h("h3", {}, h("span", { class: "badge" }, label(open.item.type)), " ", open.item.title) : null,
      open.item ? h("p", { class: "muted" }, `${open.item.id} · ${open.item.taskId} · ${ago(open.item.createdAt)}`) : null,
      content,
    );
  }
  return h(
    "section",
    { id: "work-products" },
    h("h2", {}, "Work products"),
    !list
      ? h("p", { class: "muted" }, state.loaded.has("workProducts") ? "The work products could not be listed." : "Loading…")
      : list.workProducts.length
        ? [
            list.total > list.workProducts.length ? h("p", { class: "muted" }, `The newest ${list.workProducts.length} of ${list.total}.`) : null,
            h(
              "ul",
              { class: "work-products" },
              list.workProducts.map((w) =>
                h(
                  "li",
                  { "data-work-product": w.id },
                  h(
                    "button",
                    { type: "button", class: "link", "data-open-work-product": w.id, "data-key": `wp-${w.id}`, "aria-expanded": open?.id === w.id ? "true" : "false", onclick: () => void openWorkProduct(w.id) },
                    h("span", { class: "badge" }, label(w.type)),
                    " ",
                    w.title,
                  ),
                  h("span", { class: "muted" }, ` · ${w.taskId} · ${ago(w.createdAt)}`),
                ),
              ),
            ),
          ]
        : h("p", { class: "empty" }, "No work products stored for this stream's tasks yet."),
    shown,
  );
}

const LOG_SOURCE = { transcript: "from the transcript of its latest agent session", "headless-log": "from the headless launcher's log" } as const;

function logSection(id: string): HTMLElement {
  const l = state.log && state.log.streamId === id ? state.log : null;
  const time = (at: string) => {
    const d = new Date(at);
    return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString();
  };
  return h(
    "section",
    { id: "log" },
    h("h2", {}, "Log"),
    !l
      ? h("p", { class: "muted" }, state.loaded.has("log") ? "The agent's log could not be read." : "Loading…")
      : !l.source
        ? h("p", { class: "empty" }, "No agent log yet — ", h("code", {}, "orch start"), " launches one.")
        : [
            h("p", { class: "muted" }, `Live, ${LOG_SOURCE[l.source]}`, l.truncated ? `: the last ${l.lines.length} lines.` : "."),
            l.lines.length
              ? h(
                  "ol",
                  { id: "log-lines", class: "log", tabindex: 0, "aria-label": `${id}'s agent log` },
                  l.lines.map((x) => h("li", { "data-log-kind": x.kind, class: `log-${x.kind}` }, x.at ? [h("time", { datetime: x.at }, time(x.at)), " "] : null, x.text)),
                )
              : h("p", { class: "empty" }, "Nothing in it to show yet."),
          ],
  );
}

function worktreeSection(d: StreamDetail): HTMLElement {
  const w = state.worktree && state.worktree.streamId === d.streamId ? state.worktree : null;
  const branch = w?.branch ?? d.branchName;
  const path = w ? w.path : d.worktreePath;
  return h(
    "section",
    { id: "worktree" },
    h("h2", {}, "Worktree"),
    h(
      "p",
      {},
      "Branch: ",
      h("span", { "data-branch": "" }, branch ? h("code", {}, branch) : "—"),
      w?.baseBranch && w.baseBranch !== branch ? [" into ", h("code", {}, w.baseBranch)] : null,
      w && w.ahead !== null && w.behind !== null ? [" · ", h("span", { "data-ahead-behind": "" }, `${w.ahead} ahead, ${w.behind} behind`)] : null,
      " · Path: ",
      path ? h("code", {}, path) : "none (works in the main checkout)",
      w && path && !w.exists ? " (not on disk)" : null,
    ),
    !w
      ? h("p", { class: "muted" }, state.loaded.has("git") ? "Git could not be asked about this worktree." : "Loading…")
      : !w.exists
        ? null
        : w.totalDirty
          ? [
              h("p", {}, `Uncommitted: ${w.totalDirty} file${w.totalDirty === 1 ? "" : "s"}`, w.totalDirty > w.dirty.length ? ` (first ${w.dirty.length} shown)` : ""),
              h("ul", { class: "dirty" }, w.dirty.map((f) => h("li", { "data-dirty": f.path }, h("code", { class: "code" }, f.code), " ", h("code", {}, f.path)))),
            ]
          : h("p", { class: "muted" }, "Nothing uncommitted."),
    d.files.length ? h("p", {}, "Files it owns: ", d.files.map((f) => h("code", {}, f))) : null,
  );
}

function conflictsSection(): HTMLElement {
  const c = state.conflicts;
  return h(
    "section",
    { id: "conflicts" },
    h("h2", {}, "Predicted conflicts"),
    !c
      ? h("p", { class: "muted" }, state.loaded.has("git") ? "Git could not be asked about conflicts." : "Loading…")
      : c.conflicts.length
        ? h(
            "ul",
            {},
            c.conflicts.map((x) =>
              h(
                "li",
                { "data-conflict": x.otherStream },
                "With ",
                streamLink(x.otherStream),
                x.otherBranch ? [" (", h("code", {}, x.otherBranch), ")"] : null,
                x.totalFiles ? [": ", x.files.map((f, i) => [i ? ", " : "", h("code", { class: "file" }, f)]), x.totalFiles > x.files.length ? ` … (${x.totalFiles} files)` : ""] : null,
                x.declaredOverlap.length ? h("div", { class: "muted" }, "Both declare: ", x.declaredOverlap.map((f, i) => [i ? ", " : "", h("code", {}, f)])) : null,
                x.error ? h("div", { class: "muted" }, "Not compared: ", x.error) : null,
              ),
            ),
          )
        : h("p", { class: "empty" }, "None: merging it with any other live stream would not conflict."),
  );
}

// ---------- shell ----------

function render(): void {
  const root = document.getElementById("app");
  if (!root) return;
  const r = route();
  // Keep focus and typed text across a redraw: keyboard users must not lose their place on an event.
  const active = document.activeElement as HTMLElement | null;
  const key = active?.getAttribute("data-key") ?? (active?.id ? `#${active.id}` : null);
  const selection = active instanceof HTMLInputElement ? [active.selectionStart, active.selectionEnd] : null;

  const pending = state.inbox.pending;
  document.title = pending > 0 ? `(${pending}) orch` : "orch";
  const down = state.everConnected ? !state.connected : false;
  const view = state.signIn === "token" ? signInForm(render, signedIn) : r.page === "stream" ? streamPage(r.id) : r.page === "needs" ? needsYou() : overview();
  // The log stays at its end as lines arrive, unless the reader scrolled up in it.
  const oldLog = document.getElementById("log-lines");
  const logKey = r.page === "stream" ? r.id : "";
  const logAt = oldLog && oldLog.dataset.for === logKey && oldLog.scrollHeight - oldLog.scrollTop - oldLog.clientHeight > 8 ? oldLog.scrollTop : null;
  root.replaceChildren(
    h(
      "header",
      {},
      h("span", { class: "brand" }, "orch"),
      h(
        "nav",
        { id: "nav", "aria-label": "Pages" },
        h("a", { href: "#/", "data-key": "nav-overview", "aria-current": r.page === "overview" ? "page" : null }, "Overview"),
        h("a", { href: "#/needs-you", "data-key": "nav-needs", "aria-current": r.page === "needs" ? "page" : null }, "Needs you ", h("span", { id: "inbox-count", class: pending ? "count hot" : "count" }, pending)),
      ),
      h("span", { id: "connection", role: "status", class: down ? "down" : state.connected ? "up" : "" }, down ? "API restarted, reconnecting…" : state.connected ? "Live" : "Connecting…"),
    ),
    ...(state.authLost && state.signIn !== "token"
      ? [h("p", { id: "auth-lost", role: "alert" }, "This browser is not logged in to this orch serve (it restarted, or this is a new browser): open the login link it printed.")]
      : []),
    ...(state.error && state.signIn !== "token" ? [h("p", { id: "error", role: "alert" }, state.error)] : []),
    h("main", { id: "view" }, view),
  );
  const newLog = document.getElementById("log-lines");
  if (newLog) {
    newLog.dataset.for = logKey;
    newLog.scrollTop = logAt ?? newLog.scrollHeight;
  }
  if (key) {
    const again = (key.startsWith("#") ? document.getElementById(key.slice(1)) : document.querySelector(`[data-key="${CSS.escape(key)}"]`)) as HTMLElement | null;
    if (again) {
      again.focus();
      if (selection && again instanceof HTMLInputElement) again.setSelectionRange(selection[0] ?? null, selection[1] ?? null);
    }
  }
}

/** The sign-in form got this browser its session: load everything, and reconnect at once. */
function signedIn(): void {
  state.signIn = null;
  state.authLost = false;
  state.error = null;
  refresh(...ALL);
  live();
}

window.addEventListener("hashchange", () => {
  state.confirming = null;
  state.actionResult = null;
  state.detail = null;
  state.health = null;
  state.worktree = null;
  state.conflicts = null;
  state.log = null;
  state.workProducts = null;
  state.openWorkProduct = null;
  state.loaded.delete("stream");
  state.loaded.delete("git");
  state.loaded.delete("log");
  state.loaded.delete("workProducts");
  render();
  refresh("stream", "git", "log", "workProducts");
});

render();
live();
// The first snapshot loads everything: the server subscribed this page to changes before taking
// it, so nothing between a load and the live feed is missed, and nothing is fetched twice. Should
// the feed not answer, load anyway.
const firstLoad = setTimeout(() => refresh(...ALL), 1500);
