/**
 * The run's claims (core/claims.ts): a stream is claimed before its agent is launched and kept
 * by a heartbeat while the agent runs; streams other machines hold are left to them and count
 * against the team's limit; a claim this run lost — taken over after its lease ran out, or about
 * to run out because the database cannot be reached — stops the agent here, so two machines never
 * run an agent for one stream at once. Decisions are core/claims.ts's; this only does what they say.
 */
import { randomUUID } from "node:crypto";
import { claimsOfOthers, claimStream, releaseAllClaims, releaseClaim, renewClaims, type Claim, type Claimant } from "../core/claims.ts";
import type { Store } from "../db/client.ts";
import type { TeamSettings } from "./config.ts";
import type { RunNote } from "./messages.ts";
import { processAlive } from "./state.ts";

export interface ClaimStep {
  /** Streams other machines hold now (said once per holder). */
  elsewhere(): Promise<ReadonlySet<string>>;
  /** Claim before launching: false when another machine has it (said). */
  claim(streamId: string): Promise<boolean>;
  /** Give up claims on streams no longer running here. */
  keepOnly(running: ReadonlySet<string>): Promise<void>;
  /**
   * Run `fn` holding the team-wide lock `name` (a claim no stream has: `~merge`), waiting for
   * whoever holds it; its lease covers a holder that dies with it.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** The heartbeat; stops on `stop()`. */
  start(): void;
  /**
   * End of the run: claims given up, but those of agents still running here (a stopped run
   * leaves them to `--resume`, which takes them back at once on this machine): a keeper process
   * (claim-keeper.ts) renews those while their agents live.
   */
  stop(stillRunning: ReadonlyMap<string, number | null>): Promise<void>;
}

export interface ClaimStepOptions {
  team: TeamSettings;
  machine: string;
  note(n: RunNote): void;
  /** Stop the agent running a stream here (the claim is lost); returns its pid and where its work is. */
  stopAgent(streamId: string): { pid: number | null; worktree: string | null };
  /** An error the heartbeat hit (the run goes on: the next beat tries again). */
  onError?(err: unknown): void;
  /** Hand claims of agents still running to a process that outlives the run (claim-keeper.ts). */
  keepAfterExit?(holder: string, agents: ReadonlyMap<string, number>): void;
}

export function claimStep(store: Store, o: ClaimStepOptions): ClaimStep {
  const me: Claimant = { machine: o.machine, pid: process.pid, holder: randomUUID(), purpose: "start" };
  const held = new Set<string>();
  const said = new Map<string, string>();
  let timer: ReturnType<typeof setInterval> | null = null;
  let lastRenewed = Date.now();
  let beating = false;

  // A claim of this machine whose process is gone (a killed run, before --resume) need not wait out its lease.
  const holderGone = (c: { machine: string; pid: number }) => c.machine === me.machine && c.pid !== process.pid && !processAlive(c.pid);

  const sayElsewhere = (c: Claim) => {
    if (said.get(c.streamId) === c.holder) return;
    said.set(c.streamId, c.holder);
    o.note({ kind: "claimed-elsewhere", streamId: c.streamId, machine: c.machine, pid: c.pid, expiresAt: c.expiresAt });
  };

  const lose = (streamId: string) => {
    held.delete(streamId);
    const { pid, worktree } = o.stopAgent(streamId);
    o.note({ kind: "claim-lost", streamId, pid, worktree });
  };

  async function beat(): Promise<void> {
    if (beating) return;
    if (held.size === 0) {
      lastRenewed = Date.now();
      return;
    }
    beating = true;
    try {
      const kept = await renewClaims(store, me.holder, o.team.leaseMs);
      lastRenewed = Date.now();
      for (const id of [...held]) if (!kept.includes(id)) lose(id);
      // Renewed after all, but given up here meanwhile (cut off too long): let others have them now.
      for (const id of kept) if (!held.has(id)) await releaseClaim(store, id, me.holder);
    } catch (err) {
      o.onError?.(err);
    } finally {
      beating = false;
    }
  }

  /**
   * Each heartbeat: cut off from the database (a renewal failing, or still retrying), the agents
   * here stop before the lease can run out and another machine take their streams over; their
   * work stays where it is.
   */
  function heartbeat(): void {
    const silent = Date.now() - lastRenewed;
    if (held.size && silent >= o.team.leaseMs - o.team.heartbeatMs) for (const id of [...held]) if (!id.startsWith("~")) lose(id);
    void beat();
  }

  return {
    async elsewhere() {
      // Streams only: a `~…` lock of another machine is no stream being worked.
      const others = (await claimsOfOthers(store, me.holder)).filter((c) => !c.streamId.startsWith("~") && !holderGone(c));
      for (const c of others) sayElsewhere(c);
      return new Set(others.map((c) => c.streamId));
    },
    async claim(streamId) {
      const r = await claimStream(store, streamId, me, o.team.leaseMs, holderGone);
      if (!r.ok) {
        sayElsewhere(r.heldBy);
        return false;
      }
      held.add(streamId);
      said.delete(streamId);
      if (r.tookOver && r.tookOver.machine !== me.machine) o.note({ kind: "took-over", streamId, machine: r.tookOver.machine, pid: r.tookOver.pid });
      return true;
    },
    async keepOnly(running) {
      for (const id of [...held]) {
        // `~…`: a lock withLock holds (no stream id starts so).
        if (running.has(id) || id.startsWith("~")) continue;
        held.delete(id);
        await releaseClaim(store, id, me.holder);
      }
    },
    async withLock(name, fn) {
      for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
        const r = await claimStream(store, name, me, o.team.leaseMs, holderGone);
        if (r.ok) break;
        await Bun.sleep(delay);
      }
      held.add(name);
      try {
        return await fn();
      } finally {
        held.delete(name);
        await releaseClaim(store, name, me.holder);
      }
    },
    start() {
      timer ??= setInterval(heartbeat, o.team.heartbeatMs);
    },
    async stop(stillRunning) {
      if (timer) clearInterval(timer);
      timer = null;
      const kept = new Map<string, number>();
      for (const id of held) {
        const pid = stillRunning.get(id);
        if (pid) kept.set(id, pid);
        else await releaseClaim(store, id, me.holder);
      }
      held.clear();
      if (kept.size) o.keepAfterExit?.(me.holder, kept);
    },
  };
}
