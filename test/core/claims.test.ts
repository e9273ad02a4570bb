/**
 * Claims with leases (core/claims.ts), on whichever backend the pass runs: one holder per stream,
 * renewals, takeover only once the lease ran out (or its holder is known dead), releases, the
 * change log, and many processes' worth of claimers racing for one stream.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { claimStream, claimsOfOthers, claimVerdict, leaseEnd, listClaims, releaseAllClaims, releaseClaim, renewClaims, type Claimant } from "../../src/core/claims.ts";
import { eventsSince } from "../../src/core/events.ts";
import { openTestStore } from "../backend.ts";
import { tempDir, tempStore } from "../helpers.ts";

const who = (machine: string, holder = `${machine}-run`, pid = 1000): Claimant => ({ machine, pid, holder, purpose: "start" });
const row = (holder: string, expiresAt: string) => ({
  streamId: "S",
  machine: "m",
  pid: 1,
  holder,
  purpose: "start",
  claimedAt: "2026-01-01T00:00:00.000Z",
  heartbeatAt: "2026-01-01T00:00:00.000Z",
  expiresAt,
});

describe("claimVerdict (pure)", () => {
  const now = "2026-01-01T00:01:00.000Z";
  test("nobody: new; the holder itself: renew; a live lease: held; a lease run out, or a holder known dead: take-over", () => {
    expect(claimVerdict(undefined, { holder: "a" }, now)).toBe("new");
    expect(claimVerdict(row("a", "2026-01-01T00:00:30.000Z"), { holder: "a" }, now)).toBe("renew");
    expect(claimVerdict(row("b", "2026-01-01T00:02:00.000Z"), { holder: "a" }, now)).toBe("held");
    expect(claimVerdict(row("b", now), { holder: "a" }, now)).toBe("take-over");
    expect(claimVerdict(row("b", "2026-01-01T00:00:59.999Z"), { holder: "a" }, now)).toBe("take-over");
    expect(claimVerdict(row("b", "2026-01-01T00:02:00.000Z"), { holder: "a" }, now, true)).toBe("take-over");
  });

  test("leaseEnd adds milliseconds in the database's own format", () => {
    expect(leaseEnd("2026-01-01T00:00:59.500Z", 60_000)).toBe("2026-01-01T00:01:59.500Z");
  });
});

describe("claims on the store", () => {
  test("one holder at a time; renewing keeps claimedAt; another machine is told who has it", async () => {
    const store = await tempStore();
    const a = await claimStream(store, "Stream-B", who("laptop"), 60_000);
    expect(a.ok).toBe(true);
    const b = await claimStream(store, "Stream-B", who("ci-runner"), 60_000);
    expect(b).toMatchObject({ ok: false, heldBy: { machine: "laptop", pid: 1000, live: true, streamId: "Stream-B" } });
    const again = await claimStream(store, "Stream-B", who("laptop"), 60_000);
    expect(again.ok && again.claim.claimedAt).toBe(a.ok && a.claim.claimedAt);
    expect((await claimsOfOthers(store, "ci-runner-run")).map((c) => c.streamId)).toEqual(["Stream-B"]);
    expect(await claimsOfOthers(store, "laptop-run")).toEqual([]);
  });

  test("a lease that ran out is taken over; the old holder's heartbeat no longer renews it; releases are the holder's own", async () => {
    const store = await tempStore();
    expect((await claimStream(store, "S1", who("m1"), 1)).ok).toBe(true);
    expect((await claimStream(store, "S2", who("m1"), 60_000)).ok).toBe(true);
    await Bun.sleep(15);
    const taken = await claimStream(store, "S1", who("m2"), 60_000);
    expect(taken).toMatchObject({ ok: true, tookOver: { machine: "m1", live: false } });
    // m1's heartbeat: S2 is still its own, S1 is not any more.
    expect(await renewClaims(store, "m1-run", 60_000)).toEqual(["S2"]);
    expect(await releaseClaim(store, "S1", "m1-run")).toBe(false);
    expect((await listClaims(store)).map((c) => [c.streamId, c.machine])).toEqual([
      ["S2", "m1"],
      ["S1", "m2"],
    ]);
    expect(await releaseAllClaims(store, "m1-run")).toBe(true);
    expect((await listClaims(store)).map((c) => c.streamId)).toEqual(["S1"]);
    // Every change is in the change log: create, take-over (update), delete.
    const log = (await eventsSince(store, 0)).filter((e) => e.kind === "claim").map((e) => `${e.entityId}:${e.op}`);
    expect(log).toEqual(["S1:create", "S2:create", "S1:update", "S2:delete"]);
  });

  test("a holder known dead is taken over before its lease runs out", async () => {
    const store = await tempStore();
    await claimStream(store, "S", who("m1", "old-run", 424242), 60_000);
    expect((await claimStream(store, "S", who("m1", "new-run"), 60_000)).ok).toBe(false);
    const r = await claimStream(store, "S", who("m1", "new-run"), 60_000, (c) => c.pid === 424242);
    expect(r).toMatchObject({ ok: true, tookOver: { holder: "old-run", live: true } });
  });

  test("twelve connections racing for one stream: exactly one gets it, the others are told who did, nobody errs", async () => {
    const path = join(tempDir(), "tasks.db");
    const stores = await Promise.all(Array.from({ length: 12 }, () => openTestStore(path)));
    try {
      const results = await Promise.all(stores.map((s, k) => claimStream(s, "Stream-X", who(`m${k}`), 60_000)));
      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.ok ? winners[0]!.claim.machine : "";
      for (const r of results) if (!r.ok) expect(r.heldBy.machine).toBe(winner);
      expect((await listClaims(stores[0]!)).map((c) => c.machine)).toEqual([winner]);
    } finally {
      for (const s of stores) await s.close();
    }
  });
});
