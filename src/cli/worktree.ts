/** `orch worktree create|list|remove|prune|merge`: thin over workspace/stream-worktrees.ts. */
import { commandGroup, commonFlags, type Action } from "./command.ts";
import { listFlag, storeFromFlags, str } from "./context.ts";
import { errOut } from "./io.ts";
import { printJson, printTable, say } from "./output.ts";
import { conflict } from "../errors.ts";
import { resolveWorktreeSetup } from "../workspace/config.ts";
import { renderWorktreeLines } from "../workspace/resume.ts";
import {
  createStreamWorktree,
  listStreamWorktrees,
  locateRepo,
  mergeStream,
  parseStreamId,
  pruneStreamWorktrees,
  removeStreamWorktree,
  type WorktreeRow,
} from "../workspace/stream-worktrees.ts";

const create: Action = {
  summary: "create (or reuse) .claude/worktrees/<STREAM> on branch <stream>",
  args: ["STREAM"],
  flags: {
    base: { type: "string", value: "BRANCH", description: "branch to start from (default: the main worktree's current branch)" },
    copy: { type: "string", value: "A,B", description: "files to copy from the main worktree besides .mcp.json (default: worktree.copy in orchestration-config.json)" },
    setup: { type: "string", value: "CMD", description: 'command to run in a new worktree, e.g. "bun install" or \'["bun","install"]\' (no shell; default: worktree.setup)' },
    ...commonFlags,
  },
  async run({ flags, positionals }) {
    const streamId = parseStreamId(positionals[0]);
    const store = storeFromFlags(flags);
    const { root } = locateRepo();
    const setup = resolveWorktreeSetup(root, { copy: listFlag(flags.copy), setup: str(flags.setup) });
    const r = await createStreamWorktree(store, { streamId, base: str(flags.base), setup, onOutput: errOut });
    if (flags.json) return printJson(r);
    say(`${renderWorktreeLines(r).join("\n")}\n`);
  },
};

const yesNo = (v: boolean | null) => (v === null ? "-" : v ? "yes" : "no");

const list: Action = {
  summary: "stream worktrees reconciled with git: branch, dirty, ahead/behind base, missing or orphaned",
  flags: { ...commonFlags },
  run({ flags }) {
    const r = listStreamWorktrees(storeFromFlags(flags));
    if (flags.json) return printJson({ worktrees: r.worktrees, totalWorktrees: r.totalWorktrees });
    printTable<WorktreeRow>(
      r.worktrees,
      [
        { header: "STREAM", value: (w) => w.streamId ?? "-", max: 24 },
        { header: "STATE", value: (w) => w.state + (w.mergeConflict ? " (merge conflict)" : "") },
        { header: "BRANCH", value: (w) => w.branchName ?? "-", max: 32 },
        { header: "BASE", value: (w) => w.baseBranch ?? "-", max: 24 },
        { header: "AHEAD", value: (w) => (w.ahead === null ? "-" : String(w.ahead)) },
        { header: "BEHIND", value: (w) => (w.behind === null ? "-" : String(w.behind)) },
        { header: "DIRTY", value: (w) => yesNo(w.dirty) + (w.dirty ? ` (${w.uncommittedFiles.length})` : "") },
        { header: "PATH", value: (w) => w.relativePath },
      ],
      "No stream worktrees.",
    );
    const missing = r.worktrees.filter((w) => w.state === "missing").length;
    if (missing) say(`\n${missing} missing: run "orch worktree prune" to forget them, then "orch worktree create STREAM" to recreate.\n`);
  },
};

const remove: Action = {
  summary: "remove a stream's worktree (and its branch once merged); refuses with uncommitted or unmerged work",
  args: ["STREAM"],
  flags: {
    force: { type: "boolean", description: "remove anyway, after saving everything to refs/orch/saved/<branch>/<timestamp>" },
    "keep-branch": { type: "boolean", description: "keep the stream's branch" },
    ...commonFlags,
  },
  run({ flags, positionals }) {
    const streamId = parseStreamId(positionals[0]);
    const r = removeStreamWorktree(storeFromFlags(flags), {
      streamId,
      force: flags.force === true,
      keepBranch: flags["keep-branch"] === true,
    });
    if (flags.json) return printJson(r);
    const lines: string[] = [];
    if (r.saved) {
      lines.push(`Saved everything to ${r.saved.ref}${r.saved.includesUncommitted ? " (including uncommitted changes)" : ""}`);
      lines.push("  to get it back:");
      for (const c of r.saved.restore) lines.push(`    ${c}`);
    }
    lines.push(r.removed ? `✓ Removed worktree ${r.worktreePath}` : `No worktree left at ${r.worktreePath}`);
    if (r.branchDeleted) lines.push(`✓ Branch deleted: ${r.branchName}`);
    else if (r.branchName) lines.push(`Branch kept: ${r.branchName}`);
    say(`${lines.join("\n")}\n`);
  },
};

const prune: Action = {
  summary: "forget worktrees whose folders are gone, and clear them from their streams",
  flags: { ...commonFlags },
  run({ flags }) {
    const r = pruneStreamWorktrees(storeFromFlags(flags));
    if (flags.json) return printJson(r);
    if (!r.pruned.length && !r.streamsCleared.length) return say("Nothing to prune.\n");
    const lines = [...r.pruned.map((p) => `✓ Pruned ${p}`), ...r.streamsCleared.map((s) => `✓ Cleared the worktree of ${s}`)];
    say(`${lines.join("\n")}\n`);
  },
};

const merge: Action = {
  summary: "merge a stream's branch (--no-ff) into the main worktree's branch; predicted first, a conflict changes nothing",
  args: ["STREAM"],
  flags: {
    into: { type: "string", value: "BRANCH", description: "target branch, checked out and clean in the main worktree (default: the stream's base)" },
    ...commonFlags,
  },
  run({ flags, positionals }) {
    const streamId = parseStreamId(positionals[0]);
    const r = mergeStream(storeFromFlags(flags), { streamId, into: str(flags.into) });
    if (flags.json) printJson(r);
    if (r.worktreeUncommitted.length)
      errOut(`note: ${streamId}'s worktree has uncommitted changes that are not part of this merge: ${r.worktreeUncommitted.join(", ")}\n`);
    if (r.status === "conflict") {
      if (!flags.json) {
        say(`Merging ${r.branchName} into ${r.into} would conflict in:\n${r.conflictingFiles.map((f) => `  ${f}`).join("\n")}\n`);
        say(`Nothing was changed. Resolve it on ${r.branchName} (e.g. merge ${r.into} into it in its worktree), then merge again.\n`);
      }
      throw conflict(`merge of ${r.branchName} into ${r.into} would conflict (${r.conflictingFiles.length} files); nothing was changed`);
    }
    if (flags.json) return;
    if (r.status === "up_to_date") return say(`${r.branchName} is already merged into ${r.into}: nothing to do\n`);
    say(`✓ Merged ${r.branchName} into ${r.into} (${r.commit!.slice(0, 12)}): ${r.filesChanged.length} files changed\n`);
  },
};

export const command = commandGroup("worktree", "create, list, merge and remove stream worktrees", { create, list, remove, prune, merge });
