/**
 * Claims with leases: which machine works a stream now. Before orch launches an agent for a
 * stream (orch start, orch continue) it claims the stream; its heartbeat renews the lease; a
 * claim whose lease ran out (the machine died, or was cut off) may be taken over. Every time is
 * the database's clock (db/dialect.ts databaseNow), so the machines' clocks need not agree.
 *
 * The decisions are pure (`claimVerdict`); the functions below apply them in one transaction each.
 */
import { and, asc, eq, gt, ne } from "drizzle-orm";
import type { Db, Store } from "../db/client.ts";
import { databaseNow } from "../db/dialect.ts";
import { streamClaims, type StreamClaimRow } from "../db/schema.ts";
import { recordEvent } from "./events.ts";

export type ClaimPurpose = "start" | "continue";

/** Who claims: this machine, this process, and a random id of this run. */
export interface Claimant {
  machine: string;
  pid: number;
  holder: string;
  purpose: ClaimPurpose;
}

export interface Claim extends StreamClaimRow {
  /** The lease had not run out when it was read. */
  live: boolean;
}

export type ClaimResult =
  | { ok: true; claim: Claim; tookOver: Claim | null }
  | { ok: false; heldBy: Claim };

/**
 * Pure: may `who` have the stream, given its current claim (or none) at database time `now`?
 * `holderGone` says the current holder is known to be dead before its lease ran out (a process
 * of this very machine that is no longer there: only its own machine can tell).
 */
export function claimVerdict(current: StreamClaimRow | undefined, who: Pick<Claimant, "holder">, now: string, holderGone = false): "new" | "renew" | "take-over" | "held" {
  if (!current) return "new";
  if (current.holder === who.holder) return "renew";
  return current.expiresAt <= now || holderGone ? "take-over" : "held";
}

/** `now` plus `ms`, as the database writes times. */
export function leaseEnd(now: string, ms: number): string {
  return new Date(Date.parse(now) + ms).toISOString();
}

const withLive = (row: StreamClaimRow, now: string): Claim => ({ ...row, live: row.expiresAt > now });

/**
 * Claim `streamId` for `who` for `leaseMs`, unless another holder's lease still runs (or
 * `holderGone` says that holder is dead: see claimVerdict).
 */
export function claimStream(store: Store, streamId: string, who: Claimant, leaseMs: number, holderGone: (c: StreamClaimRow) => boolean = () => false): Promise<ClaimResult> {
  return store.tx(async (db) => {
    const now = await databaseNow(db);
    const current = (await db.select().from(streamClaims).where(eq(streamClaims.streamId, streamId)))[0];
    const verdict = claimVerdict(current, who, now, current !== undefined && current.holder !== who.holder && holderGone(current));
    if (verdict === "held") return { ok: false, heldBy: withLive(current!, now) };
    const row: StreamClaimRow = {
      streamId,
      machine: who.machine,
      pid: who.pid,
      holder: who.holder,
      purpose: who.purpose,
      claimedAt: verdict === "renew" ? current!.claimedAt : now,
      heartbeatAt: now,
      expiresAt: leaseEnd(now, leaseMs),
    };
    if (current) await db.update(streamClaims).set(row).where(eq(streamClaims.streamId, streamId));
    else await db.insert(streamClaims).values(row);
    if (verdict !== "renew") await recordEvent(db, "claim", streamId, verdict === "new" ? "create" : "update", { ...row, tookOverFrom: verdict === "take-over" ? current : null });
    return { ok: true, claim: withLive(row, now), tookOver: verdict === "take-over" ? withLive(current!, now) : null };
  });
}

/**
 * The heartbeat: extend every claim `holder` still has. Returns the streams it still holds; a
 * stream missing from the answer was taken over after this holder's lease ran out.
 */
export function renewClaims(store: Store, holder: string, leaseMs: number): Promise<string[]> {
  return store.tx(async (db) => {
    const now = await databaseNow(db);
    const rows = await db
      .update(streamClaims)
      .set({ heartbeatAt: now, expiresAt: leaseEnd(now, leaseMs) })
      .where(eq(streamClaims.holder, holder))
      .returning({ streamId: streamClaims.streamId });
    return rows.map((r) => r.streamId).sort();
  });
}

/** Give a stream up (its agent ended, the run stopped). Only the holder's own claim goes. */
export function releaseClaim(store: Store, streamId: string, holder: string): Promise<boolean> {
  return store.tx(async (db) => releaseWhere(db, and(eq(streamClaims.streamId, streamId), eq(streamClaims.holder, holder))!));
}

/** Give up every claim of `holder` (a run ending). */
export function releaseAllClaims(store: Store, holder: string): Promise<boolean> {
  return store.tx(async (db) => releaseWhere(db, eq(streamClaims.holder, holder)));
}

async function releaseWhere(db: Db, where: ReturnType<typeof eq>): Promise<boolean> {
  const gone = await db.delete(streamClaims).where(where).returning();
  for (const row of gone) await recordEvent(db, "claim", row.streamId, "delete", row);
  return gone.length > 0;
}

// The reads below take no transaction: on SQLite that would queue every run's tick behind the
// writers' lock, and a claim read a moment stale is judged again on the next tick anyway.

/** Every claim, oldest first, each marked live or run out at the database's time. */
export async function listClaims(store: Store): Promise<Claim[]> {
  const now = await databaseNow(store.db);
  return (await store.db.select().from(streamClaims).orderBy(asc(streamClaims.claimedAt), asc(streamClaims.streamId))).map((r) => withLive(r, now));
}

/** Live claims of holders other than `holder`: streams being worked elsewhere. */
export async function claimsOfOthers(store: Store, holder: string): Promise<Claim[]> {
  const now = await databaseNow(store.db);
  const rows = await store.db
    .select()
    .from(streamClaims)
    .where(and(ne(streamClaims.holder, holder), gt(streamClaims.expiresAt, now)));
  return rows.map((r) => withLive(r, now));
}
