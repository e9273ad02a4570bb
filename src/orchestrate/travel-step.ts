/**
 * How a team run's work travels between machines through the git remote (`team.remote`):
 * - a stream finished here is pushed: a parallel stream's branch, or the main branch for work
 *   done in the main checkout (under the team's merge lock, fast-forward only), and the pushed
 *   commit is recorded in the shared database (core/merge-record.ts recordPushed);
 * - a stream finished on another machine counts as done here only once that commit has arrived:
 *   fetched, and for main-checkout work, the main checkout fast-forwarded to it — so nothing here
 *   builds on work this machine does not have;
 * - a parallel stream is merged by whichever run gets to it, under the merge lock: main brought
 *   up to the remote's, the stream's pushed commit merged, main pushed. A merge another machine
 *   made and pushed is taken as it is.
 * Nothing is forced: a remote main that moved in a way that is not a fast-forward stops the run.
 */
import type { StreamView } from "../core/streams.ts";
import { lastMergeState } from "../core/merge-record.ts";
import { recordPushed } from "../core/merge-record.ts";
import type { Store } from "../db/client.ts";
import { fastForwardCheckout, fetchRemote, pushBranch, remoteTip, setBranch } from "../git/remote.ts";
import { currentBranch, isAncestor, resolveCommit } from "../git/repo.ts";
import { branchFor } from "../paths.ts";
import type { ClaimStep } from "./claim-step.ts";
import type { RunNote } from "./messages.ts";
import { isDone } from "./plan.ts";
import type { RunState } from "./state.ts";

/** The team's lock for anything that moves the remote's main branch. */
export const MERGE_LOCK = "~merge";
/** Fetches at most this often while waiting for another machine's work. */
const FETCH_EVERY_MS = 1000;

export type TravelStop = { stop: NonNullable<RunState["conflict"]>; note: RunNote };

export interface TravelStep {
  /** Streams done on another machine whose work is not here yet (fetching, and fast-forwarding main, as it arrives). */
  notArrived(streams: readonly StreamView[], state: RunState): Promise<{ waiting: ReadonlySet<string>; stop?: TravelStop }>;
  /** A stream finished here: push its work; a stop when it cannot go. */
  publish(s: StreamView, state: RunState): Promise<TravelStop | null>;
  /**
   * Before launching a parallel stream here: its branch as the team last pushed it, when that is
   * ahead of (or missing) here — a machine that died mid-stream leaves its pushed work to the next.
   */
  adoptPushed(s: StreamView): void;
  /** While agents work here: their streams' branches pushed as they grow (no-op while unchanged). */
  pushProgress(streamIds: readonly string[]): void;
  /** Merge a finished parallel stream the team's way: `merge` does the local merge once main and the branch are ready. */
  merge(id: string, state: RunState, mergeHere: () => Promise<{ ok: boolean; commit: string | null }>): Promise<"merged" | "stopped" | "waiting">;
}

export interface TravelOptions {
  root: string;
  remote: string;
  machine: string;
  claims: ClaimStep;
  note(n: RunNote): void;
}

export function travelStep(store: Store, o: TravelOptions): TravelStep {
  const { root, remote } = o;
  let fetchedAt = 0;
  const said = new Set<string>();
  const fetchSoon = (force = false) => {
    if (!force && Date.now() - fetchedAt < FETCH_EVERY_MS) return;
    fetchRemote(root, remote);
    fetchedAt = Date.now();
  };
  const mainBranch = (state: RunState) => state.mainBranch ?? currentBranch(root) ?? "main";
  const stopWith = (streamId: string, message: string): TravelStop => ({ stop: { streamId, into: "", files: [], kind: "error" }, note: { kind: "merge-error", streamId, message } });
  // A commit not fetched yet is not had (the next fetch may bring it).
  const has = (commit: string, ref: string | null) => ref !== null && (ref === commit || (resolveCommit(root, commit) !== null && isAncestor(root, commit, ref)));

  /** Bring the main checkout to `commit` (the remote's main or a pushed commit in it). */
  function catchUp(streamId: string, state: RunState, commit: string): TravelStop | null {
    const ff = fastForwardCheckout(root, mainBranch(state), commit);
    if (ff.result === "diverged")
      return stopWith(streamId, `${mainBranch(state)} here and on ${remote} have both moved on: merge ${remote}/${mainBranch(state)} into it, then orch start --resume`);
    if (ff.result === "blocked") return stopWith(streamId, `cannot bring ${mainBranch(state)} up to ${remote}'s: ${ff.message}`);
    return null;
  }

  return {
    async notArrived(streams, state) {
      const waiting = new Set<string>();
      for (const s of streams) {
        const r = state.streams[s.streamId];
        // Only work done elsewhere, not yet taken in here.
        if (!isDone(s) || !r || r.launches > 0 || r.status === "completed" || r.status === "merged") continue;
        const m = await lastMergeState(store, s.streamId);
        const commit = m?.merged?.commit ?? m?.pushed?.commit ?? null;
        if (!commit) {
          // Done with no tasks at all (nothing to push), or its machine has not pushed yet.
          if (s.totalTasks > 0) waiting.add(s.streamId);
          continue;
        }
        fetchSoon();
        const onMain = has(commit, remoteTip(root, remote, mainBranch(state)));
        if (s.streamPhase === "parallel" && !m?.merged) {
          // Its branch must hold the pushed commit before anyone merges it.
          if (!has(commit, remoteTip(root, remote, m!.pushed!.branch))) waiting.add(s.streamId);
          continue;
        }
        if (!onMain) {
          waiting.add(s.streamId);
          continue;
        }
        const stop = catchUp(s.streamId, state, remoteTip(root, remote, mainBranch(state))!);
        if (stop) return { waiting, stop };
        if (!said.has(s.streamId)) {
          said.add(s.streamId);
          o.note({ kind: "arrived", streamId: s.streamId, remote, commit });
        }
        // A parallel stream merged elsewhere is merged here too, now that main has it.
        if (s.streamPhase === "parallel") Object.assign(r, { status: "merged", mergeCommit: commit });
      }
      return { waiting };
    },

    adoptPushed(s) {
      if (s.streamPhase !== "parallel") return;
      fetchSoon(true);
      const branch = branchFor(s.streamId);
      const theirs = remoteTip(root, remote, branch);
      const mine = resolveCommit(root, `refs/heads/${branch}`);
      if (!theirs || theirs === mine || (mine && !isAncestor(root, mine, theirs))) return;
      try {
        setBranch(root, branch, theirs);
        o.note({ kind: "adopted-push", streamId: s.streamId, remote, commit: theirs });
      } catch {
        // Checked out in a worktree here: that worktree's own work goes on as it is.
      }
    },

    pushProgress(streamIds) {
      for (const id of streamIds) {
        const branch = branchFor(id);
        const mine = resolveCommit(root, `refs/heads/${branch}`);
        if (!mine || mine === remoteTip(root, remote, branch)) continue;
        // Best effort: a machine cut off pushes on a later beat; a branch another machine moved is left alone.
        pushBranch(root, remote, branch);
      }
    },

    async publish(s, state) {
      const branch = s.streamPhase === "parallel" ? branchFor(s.streamId) : mainBranch(state);
      const push = async (): Promise<TravelStop | null> => {
        if (s.streamPhase !== "parallel") {
          // Main-checkout work goes on top of the remote's main, never over it.
          fetchSoon(true);
          const theirs = remoteTip(root, remote, branch);
          const ours = resolveCommit(root, `refs/heads/${branch}`);
          if (theirs && ours && !isAncestor(root, theirs, ours)) return stopWith(s.streamId, `${remote}/${branch} has moved on since this machine took it: merge it into ${branch}, then orch start --resume`);
        }
        const p = pushBranch(root, remote, branch);
        if (!p.ok) return stopWith(s.streamId, `cannot push ${branch} to ${remote}: ${p.message}`);
        await recordPushed(store, s.streamId, { remote, branch, commit: p.commit, machine: o.machine });
        o.note({ kind: "pushed", streamId: s.streamId, remote, branch, commit: p.commit });
        return null;
      };
      return s.streamPhase === "parallel" ? push() : o.claims.withLock(MERGE_LOCK, push);
    },

    merge(id, state, mergeHere) {
      return o.claims.withLock(MERGE_LOCK, async () => {
        fetchSoon(true);
        const m = await lastMergeState(store, id);
        const main = mainBranch(state);
        const remoteMain = remoteTip(root, remote, main);
        if (remoteMain) {
          const stop = catchUp(id, state, remoteMain);
          if (stop) {
            o.note(stop.note);
            state.conflict = stop.stop;
            return "stopped";
          }
        }
        // Merged and pushed by another machine meanwhile: nothing to do but take it.
        if (m?.merged && has(m.merged.commit, remoteMain)) return "merged";
        const pushed = m?.pushed;
        if (!pushed) return "waiting";
        const tip = remoteTip(root, remote, pushed.branch);
        if (!has(pushed.commit, tip)) return "waiting";
        // Run elsewhere: the branch here is the pushed one (run here, it is already).
        if (state.streams[id]?.launches === 0) setBranch(root, pushed.branch, pushed.commit);
        const done = await mergeHere();
        if (!done.ok) return "stopped";
        const p = pushBranch(root, remote, main);
        if (!p.ok) {
          const stop = stopWith(id, `merged here, but cannot push ${main} to ${remote}: ${p.message}`);
          o.note(stop.note);
          state.conflict = stop.stop;
          return "stopped";
        }
        return "merged";
      });
    },
  };
}
