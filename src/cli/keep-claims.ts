/** `orch keep-claims` (hidden): the claim keeper a stopped `orch start` leaves behind (orchestrate/claim-keeper.ts). */
import { usageError } from "../errors.ts";
import { keepClaims } from "../orchestrate/claim-keeper.ts";
import { singleAction } from "./command.ts";
import { intFlag, storeFromFlags, str } from "./context.ts";

export const command = singleAction("keep-claims", {
  summary: "renew a stopped run's claims while its agents still work",
  optionalArgs: ["STREAM=PID…"],
  flags: {
    holder: { type: "string", value: "ID", description: "the run whose claims these are" },
    "lease-ms": { type: "string", value: "MS", description: "the lease" },
    "heartbeat-ms": { type: "string", value: "MS", description: "how often to renew" },
    db: { type: "string", value: "PATH|URL", description: "database file or postgres:// URL (else ORCH_DB)" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  async run({ flags, positionals }) {
    const holder = str(flags.holder);
    if (!holder) throw usageError("orch keep-claims needs --holder");
    const agents = new Map<string, number>();
    for (const p of positionals) {
      const m = /^(.+)=(\d+)$/.exec(p);
      if (!m) throw usageError(`orch keep-claims: "${p}" is not STREAM=PID`);
      agents.set(m[1]!, Number(m[2]));
    }
    const team = {
      leaseMs: intFlag("lease-ms", flags["lease-ms"], { min: 1000, max: 86_400_000 }, 60_000),
      heartbeatMs: intFlag("heartbeat-ms", flags["heartbeat-ms"], { min: 100, max: 86_400_000 }, 15_000),
    };
    const store = await storeFromFlags(flags);
    await keepClaims(store, holder, agents, team);
    await store.close();
  },
});
