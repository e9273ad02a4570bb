/** `orch continue STREAM`: the guide's /continue (see workspace/resume.ts). */
import { commonFlags, singleAction } from "./command.ts";
import { storeFromFlags } from "./context.ts";
import { errOut, out } from "../sys/io.ts";
import { printJson, say } from "./output.ts";
import { continueStream, renderResume } from "../workspace/resume.ts";
import { parseStreamId } from "../workspace/stream-worktrees.ts";
import { randomUUID } from "node:crypto";
import { claimStream, listClaims } from "../core/claims.ts";
import { conflict } from "../errors.ts";
import { readEnv, findProjectRoot } from "../config.ts";
import { resolveTeamSettings } from "../orchestrate/config.ts";
import { machineId } from "../sys/machine.ts";

export const command = singleAction("continue", {
  summary: "resume a stream: check dependencies, create its worktree (parallel streams), print the context",
  args: ["STREAM"],
  flags: { ...commonFlags, force: { type: "boolean", description: "continue even though another machine's claim on the stream is live" } },
  async run({ flags, positionals }) {
    const streamId = parseStreamId(positionals[0]);
    const json = flags.json === true;
    const store = await storeFromFlags(flags);
    // Another machine's live claim: an agent works the stream there already. In a team (a remote
    // set) the stream is claimed here for its lease, the agent this starts being the claim's pid.
    const team = resolveTeamSettings(findProjectRoot(), readEnv());
    const me = machineId();
    const held = (await listClaims(store)).find((c) => c.streamId === streamId && c.live && c.machine !== me);
    if (held && flags.force !== true)
      throw conflict(
        `${streamId} is being worked on ${held.machine} (pid ${held.pid}, orch ${held.purpose}) until ${held.expiresAt}: continuing here would put a second agent on it (orch stream claims; --force to take it over)`,
      );
    if (team.remote) await claimStream(store, streamId, { machine: me, pid: process.ppid, holder: randomUUID(), purpose: "continue" }, team.leaseMs, () => true);
    const ctx = await continueStream(store, {
      streamId,
      onOutput: errOut,
      // Progress goes to stderr under --json so stdout stays one JSON document.
      onCreating: (id) => (json ? errOut : out)(`Creating worktree for ${id}...\n`),
    });
    if (json) return printJson(ctx);
    say(renderResume(ctx));
  },
});
