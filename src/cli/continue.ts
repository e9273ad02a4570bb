/** `orch continue STREAM`: the guide's /continue (see workspace/resume.ts). */
import { commonFlags, singleAction } from "./command.ts";
import { storeFromFlags } from "./context.ts";
import { errOut, out } from "../sys/io.ts";
import { printJson, say } from "./output.ts";
import { continueStream, renderResume } from "../workspace/resume.ts";
import { parseStreamId } from "../workspace/stream-worktrees.ts";

export const command = singleAction("continue", {
  summary: "resume a stream: check dependencies, create its worktree (parallel streams), print the context",
  args: ["STREAM"],
  flags: { ...commonFlags },
  async run({ flags, positionals }) {
    const streamId = parseStreamId(positionals[0]);
    const json = flags.json === true;
    const ctx = await continueStream(await storeFromFlags(flags), {
      streamId,
      onOutput: errOut,
      // Progress goes to stderr under --json so stdout stays one JSON document.
      onCreating: (id) => (json ? errOut : out)(`Creating worktree for ${id}...\n`),
    });
    if (json) return printJson(ctx);
    say(renderResume(ctx));
  },
});
