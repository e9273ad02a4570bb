/**
 * The inbox: every question an agent waits on, and who answered it, how and when. A permission
 * request is answered by a policy rule at once, or waits for a person (`orch allow|deny`, the
 * API) until it expires to a deny the agent is told about. Entries are never deleted.
 */
import { and, asc, desc, eq, gte, inArray, isNull, lt, ne, or, sql } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { jsonEquals } from "../db/dialect.ts";
import { agents, inbox, policyRules, type InboxRow } from "../db/schema.ts";
import { conflict, notFound, usageError } from "../errors.ts";
import { getAgent, setAgentStatus } from "./agents.ts";
import { recordEvent } from "./events.ts";
import { decide, ruleForCall, toolLabel, type Policy, type ToolCall } from "./policy.ts";

export type Decision = "allow" | "deny";

export interface QuestionInput {
  kind: InboxRow["kind"];
  source: InboxRow["source"];
  sessionId: string | null;
  streamId: string | null;
  agent?: string | null;
  toolName?: string | null;
  toolInput?: unknown;
  toolUseId?: string | null;
  question: string;
  timeoutMs: number;
}

export interface Answer {
  decision: Decision;
  /** Who: a person's name, `policy`, or `orch`. */
  by: string;
  how: NonNullable<InboxRow["answeredHow"]>;
  reason?: string | null;
  always?: boolean;
  /** Set by a budget raise: the only allow a "raise the budget?" entry takes (it needs an amount). */
  raise?: boolean;
}

/** How long a question waits for a person unless the config says otherwise. */
export const DEFAULT_QUESTION_TIMEOUT_MS = 10 * 60_000;
/** A pending entry this far past its expiry has lost its waiter (killed hook or agent). */
const ORPHAN_GRACE_MS = 30_000;
const MAX_INPUT_CHARS = 16_000;

const statusFor = (d: Decision): InboxRow["status"] => (d === "allow" ? "allowed" : "denied");

/** A tool input kept bounded: an agent's 1 MB Write content is not a question's business. */
function boundedInput(input: unknown): unknown {
  if (input === undefined) return null;
  const text = JSON.stringify(input) ?? "null";
  return text.length <= MAX_INPUT_CHARS ? input : { truncated: true, preview: text.slice(0, MAX_INPUT_CHARS) };
}

/**
 * Claude Code may ask twice about one tool call: in print mode it asks the permission tool and
 * then runs the PermissionRequest hook. A question about the same call from the same stream that
 * is still pending, or that the other channel had answered moments ago, is that call: the second
 * asker shares its answer. (The same channel asking again is a new question.)
 */
const TWIN_WINDOW_MS = 5_000;

async function findTwin(db: Db, q: QuestionInput, inputJson: string, now: string): Promise<InboxRow | undefined> {
  const since = new Date(Date.parse(now) - TWIN_WINDOW_MS).toISOString();
  return (await db
    .select()
    .from(inbox)
    .where(
      and(
        q.streamId === null ? isNull(inbox.streamId) : eq(inbox.streamId, q.streamId),
        eq(inbox.kind, "permission"),
        eq(inbox.question, q.question),
        jsonEquals(inbox.toolInput, inputJson),
        or(eq(inbox.status, "pending"), and(ne(inbox.source, q.source), gte(inbox.answeredAt, since))),
      ),
    )
    .orderBy(desc(inbox.id))
    .limit(1))[0];
}

export function openQuestion(store: Store, q: QuestionInput, answered?: Answer): Promise<InboxRow> {
  return store.tx(async (db) => {
    const now = store.now();
    const toolInput = boundedInput(q.toolInput);
    if (q.kind === "permission") {
      const twin = await findTwin(db, q, JSON.stringify(toolInput), now);
      if (twin) return twin;
    }
    const row = (await db
      .insert(inbox)
      .values({
        kind: q.kind,
        source: q.source,
        sessionId: q.sessionId,
        streamId: q.streamId,
        agent: q.agent ?? null,
        toolName: q.toolName ?? null,
        toolInput,
        toolUseId: q.toolUseId ?? null,
        question: q.question,
        status: answered ? statusFor(answered.decision) : "pending",
        answeredBy: answered?.by ?? null,
        answeredHow: answered?.how ?? null,
        reason: answered?.reason ?? null,
        createdAt: now,
        expiresAt: new Date(Date.parse(now) + q.timeoutMs).toISOString(),
        answeredAt: answered ? now : null,
      })
      .returning())[0]!;
    await recordEvent(db, "inbox", String(row.id), "create", row);
    return row;
  });
}

export async function getQuestion(store: Store, id: number): Promise<InboxRow | null> {
  return (await store.db.select().from(inbox).where(eq(inbox.id, id)))[0] ?? null;
}

/** Answer a pending entry; an unknown, answered or expired one is refused with what it was. */
export async function answerQuestion(store: Store, id: number, a: Answer): Promise<InboxRow> {
  let lapsed: InboxRow | null = null;
  const row = await store.tx(async (db) => {
    const prior = (await db.select().from(inbox).where(eq(inbox.id, id)))[0];
    if (!prior) throw notFound(`inbox entry ${id} not found`);
    if (prior.status !== "pending") throw conflict(alreadyClosed(prior));
    if (prior.kind === "budget" && a.decision === "allow" && !a.raise)
      throw conflict(`inbox entry ${id} asks for more budget: answer it with orch budget raise ${prior.streamId ?? "STREAM"} USD (or deny it)`);
    const rule = a.always && prior.toolName ? ruleForCall({ toolName: prior.toolName, input: prior.toolInput }) : null;
    if (a.always && prior.toolName && rule === null)
      throw usageError(`inbox entry ${id}: no rule can name exactly ${prior.question} (a * in it, or its input cut short, would cover other calls); answer it without always`);
    const now = store.now();
    // Closed after this transaction: a throw here would roll the close back with it.
    if (Date.parse(prior.expiresAt) <= Date.parse(now)) {
      lapsed = prior;
      return null;
    }
    const next = (await db
      .update(inbox)
      .set({ status: statusFor(a.decision), answeredBy: a.by, answeredHow: a.how, reason: a.reason ?? null, always: a.always ?? false, answeredAt: now })
      .where(and(eq(inbox.id, id), eq(inbox.status, "pending")))
      .returning())[0]!;
    if (rule !== null) {
      await db.insert(policyRules).values({ rule, effect: a.decision, createdBy: a.by, createdAt: now }).onConflictDoUpdate({ target: policyRules.rule, set: { effect: a.decision, createdBy: a.by, createdAt: now } });
    }
    await recordEvent(db, "inbox", String(id), "update", next);
    return next;
  });
  if (!row) {
    await closeExpired(store, lapsed!, "timeout");
    throw conflict(`inbox entry ${id} expired at ${lapsed!.expiresAt}; it was denied`);
  }
  if (row.sessionId) await setAgentStatus(store, row.sessionId, "working", { pendingQuestion: null });
  return row;
}

function alreadyClosed(row: InboxRow): string {
  if (row.status === "expired") return `inbox entry ${row.id} already expired at ${row.answeredAt ?? row.expiresAt}`;
  return `inbox entry ${row.id} was already answered: ${row.status} by ${row.answeredBy ?? "?"} at ${row.answeredAt ?? "?"}`;
}

const EXPIRED_REASON: Record<"timeout" | "gone", string> = {
  timeout: "nobody answered in time",
  gone: "the agent that asked is gone",
};

function closeExpired(store: Store, row: InboxRow, how: "timeout" | "gone"): Promise<InboxRow | null> {
  return store.tx(async (db) => {
    const next = (await db
      .update(inbox)
      .set({ status: "expired", answeredBy: "orch", answeredHow: how, reason: EXPIRED_REASON[how], answeredAt: store.now() })
      .where(and(eq(inbox.id, row.id), eq(inbox.status, "pending")))
      .returning())[0];
    if (next) await recordEvent(db, "inbox", String(row.id), "update", next);
    if (next?.sessionId) await releaseSession(store, next.sessionId);
    return next ?? null;
  });
}

/**
 * A session shown waiting for permission whose questions are all closed waits no more: its
 * asker timed out or is gone (a killed hook), and nothing else would ever clear it. Back to
 * `working`, where the stale and pid checks apply.
 */
async function releaseSession(store: Store, sessionId: string): Promise<void> {
  if ((await getAgent(store, sessionId))?.status !== "waiting_permission") return;
  const open = (await store.db.select({ id: inbox.id }).from(inbox).where(and(eq(inbox.sessionId, sessionId), eq(inbox.status, "pending"))).limit(1))[0];
  if (!open) await setAgentStatus(store, sessionId, "working", { pendingQuestion: null });
}

/** Close pending entries whose waiter cannot be there any more. */
export async function expireOrphans(store: Store): Promise<number> {
  const cutoff = new Date(Date.now() - ORPHAN_GRACE_MS).toISOString();
  // Past expiry with nobody to close them, or asked by a session that has ended since.
  const endedSession = inArray(inbox.sessionId, store.db.select({ id: agents.sessionId }).from(agents).where(eq(agents.status, "exited")));
  const rows = await store.db.select().from(inbox).where(and(eq(inbox.status, "pending"), or(lt(inbox.expiresAt, cutoff), endedSession))).limit(1000);
  let closed = 0;
  for (const r of rows) if (await closeExpired(store, r, "gone")) closed++;
  return closed;
}

/** Pending entries oldest first; with `all`, every entry newest first. Bounded. */
export async function listInbox(store: Store, opts: { all?: boolean; streamId?: string; limit?: number } = {}): Promise<InboxRow[]> {
  await expireOrphans(store);
  const limit = Math.min(Math.max(opts.limit ?? 200, 1), 1000);
  const byStream = opts.streamId ? eq(inbox.streamId, opts.streamId) : undefined;
  if (opts.all) return await store.db.select().from(inbox).where(byStream).orderBy(desc(inbox.id)).limit(limit);
  return await store.db.select().from(inbox).where(and(eq(inbox.status, "pending"), byStream)).orderBy(asc(inbox.id)).limit(limit);
}

/** How many entries wait for an answer (for a stream, with `streamId`), however many a list shows. */
export async function countPending(store: Store, opts: { streamId?: string } = {}): Promise<number> {
  const row = (await store.db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(inbox)
    .where(and(eq(inbox.status, "pending"), opts.streamId ? eq(inbox.streamId, opts.streamId) : undefined)))[0];
  return row?.n ?? 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until the entry is answered or expires (then it is closed as a deny). Polls the store's
 * change token, which costs nothing until something is committed: an answer is seen within
 * one poll.
 */
export async function waitForAnswer(store: Store, id: number, pollMs = 20): Promise<InboxRow> {
  let version: string | undefined;
  let readAt = 0;
  for (;;) {
    const v = await store.changeToken();
    // Re-read on any commit, and twice a second anyway so expiry is noticed without one.
    if (v !== version || Date.now() - readAt >= 500) {
      version = v;
      readAt = Date.now();
      const row = await getQuestion(store, id);
      if (!row) throw notFound(`inbox entry ${id} not found`);
      if (row.status !== "pending") return row;
      if (Date.parse(row.expiresAt) <= Date.now()) return await closeExpired(store, row, "timeout") ?? (await getQuestion(store, id))!;
    }
    await sleep(pollMs);
  }
}

/** The config's policy plus the rules added with `--always`. */
export async function effectivePolicy(store: Store, configured: Policy): Promise<Policy> {
  const added = await store.db.select().from(policyRules);
  return {
    allow: [...configured.allow, ...added.filter((r) => r.effect === "allow").map((r) => r.rule)],
    deny: [...configured.deny, ...added.filter((r) => r.effect === "deny").map((r) => r.rule)],
  };
}

export interface PermissionAsk {
  call: ToolCall;
  source: "hook" | "prompt_tool";
  sessionId: string | null;
  streamId: string | null;
  toolUseId?: string | null;
  policy: Policy;
  timeoutMs: number;
}

export interface PermissionAnswer {
  behavior: Decision;
  /** What the agent is told on a deny. */
  message: string;
  entry: InboxRow;
}

/** Decide a tool call: a policy rule at once, else a question that waits for a person. */
export async function askPermission(store: Store, ask: PermissionAsk): Promise<PermissionAnswer> {
  const label = toolLabel(ask.call);
  const question: QuestionInput = {
    kind: "permission",
    source: ask.source,
    sessionId: ask.sessionId,
    streamId: ask.streamId,
    toolName: ask.call.toolName,
    toolInput: ask.call.input,
    toolUseId: ask.toolUseId ?? null,
    question: label,
    timeoutMs: ask.timeoutMs,
  };
  const verdict = decide(await effectivePolicy(store, ask.policy), ask.call);
  if (verdict) {
    const entry = await openQuestion(store, question, { decision: verdict.effect, by: "policy", how: "policy", reason: `rule ${verdict.rule}` });
    return { behavior: verdict.effect, message: `orch policy ${verdict.effect === "deny" ? "denies" : "allows"} ${label} (rule ${verdict.rule})`, entry };
  }
  // One commit: no reader ever sees the question pending while its session still shows working.
  const opened = await store.tx(async () => {
    const row = await openQuestion(store, question);
    if (row.status === "pending" && ask.sessionId) await setAgentStatus(store, ask.sessionId, "waiting_permission", { tool: label, pendingQuestion: `permission: ${label}` });
    return row;
  });
  if (opened.status !== "pending") return { behavior: opened.status === "allowed" ? "allow" : "deny", message: denyMessage(opened, label), entry: opened };
  const entry = await waitForAnswer(store, opened.id);
  if (ask.sessionId && entry.status === "expired") await setAgentStatus(store, ask.sessionId, "working", { pendingQuestion: null });
  const behavior: Decision = entry.status === "allowed" ? "allow" : "deny";
  return { behavior, message: denyMessage(entry, label), entry };
}

function denyMessage(entry: InboxRow, label: string): string {
  if (entry.status === "allowed") return `allowed by ${entry.answeredBy}`;
  if (entry.status === "expired") return `orch: no answer to ${label} within the time allowed; denied. Do without it or ask the user.`;
  return `Denied by ${entry.answeredBy} through orch${entry.reason ? `: ${entry.reason}` : ""}`;
}
