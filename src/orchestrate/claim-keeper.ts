/**
 * Claims outliving their run: `orch start` stopped (Ctrl+C) while agents still work leaves them
 * to `--resume`, and their claims to this keeper (`orch keep-claims`, a detached process of its
 * own), which renews them while each agent's process group lives and gives each back when its
 * agent is gone — so no other machine takes a stream over beside an agent still working it.
 * A `--resume` on this machine takes the claims back at once (their run's pid is gone); the
 * keeper then finds them no longer its own and ends.
 */
import { releaseClaim, renewClaims } from "../core/claims.ts";
import type { Store } from "../db/client.ts";
import { groupAlive, pidAlive } from "../sys/process.ts";
import type { TeamSettings } from "./config.ts";

export async function keepClaims(store: Store, holder: string, agents: ReadonlyMap<string, number>, team: TeamSettings): Promise<void> {
  const left = new Map(agents);
  while (left.size) {
    for (const [id, pid] of [...left]) {
      if (groupAlive(pid) || pidAlive(pid)) continue;
      left.delete(id);
      await releaseClaim(store, id, holder);
    }
    if (!left.size) break;
    const kept = new Set(await renewClaims(store, holder, team.leaseMs).catch(() => [...left.keys()]));
    // Taken back (a --resume) or over: no longer this keeper's to keep.
    for (const id of [...left.keys()]) if (!kept.has(id)) left.delete(id);
    await Bun.sleep(team.heartbeatMs);
  }
}
