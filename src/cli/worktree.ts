/** `orch worktree create|list|remove|prune|merge`: thin over src/workspace (create, list, remove, merge). */
import { commandGroup, commonFlags, type Action } from "./command.ts";
import { listFlag, storeFromFlags, str } from "./context.ts";
import { errOut } from "../sys/io.ts";
import { printJson, printTable, say } from "./output.ts";
import { conflict } from "../errors.ts";
import { resolveWorktreeSetup } from "../workspace/config.ts";
import { renderWorktreeLines } from "../workspace/resume.ts";
import { createStreamWorktree } from "../workspace/create.ts";
import { listStreamWorktrees, type WorktreeRow } from "../workspace/list.ts";
import { mergeStream } from "../workspace/merge.ts";
import { locateRepo, parseStreamId } from "../workspace/naming.ts";
import { pruneStreamWorktrees, removeStreamWorktree, type PrunedSave, type WorktreeRemoveResult } from "../workspace/remove.ts";

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
    const store = await storeFromFlags(flags);
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
  async run({ flags }) {
    const r = await listStreamWorktrees(await storeFromFlags(flags));
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

/** What `orch worktree remove` prints: what was saved and how to get it back, what was not, what went. */
export function renderRemoval(r: WorktreeRemoveResult): string[] {
  const lines: string[] = [...r.pruneSaved.flatMap(renderPruneSave)];
  if (r.saved) {
    const all = r.skipped.length ? "Saved all but what is listed under \"Not saved\"" : "Saved everything";
    lines.push(`${all} to ${r.saved.ref}${r.saved.includesUncommitted ? " (including uncommitted changes)" : ""}:`);
    for (const i of r.saved.items) lines.push(`  - ${i}`);
    for (const m of r.saved.moved) lines.push(`  - ${m.path}: moved to ${m.to}`);
    lines.push(`  to get it back, run in ${r.saved.restoreIn}:`);
    for (const c of r.saved.restore) lines.push(`    ${c}`);
  }
  if (r.skipped.length) {
    lines.push("Not saved (deleted with the worktree):");
    for (const s of r.skipped) lines.push(`  - ${s.path}: ${s.why}`);
  }
  lines.push(r.removed ? `✓ Removed worktree ${r.worktreePath}` : `No worktree left at ${r.worktreePath}`);
  if (r.branchDeleted) lines.push(`✓ Branch deleted: ${r.branchName}`);
  else if (r.branchName) lines.push(`Branch kept: ${r.branchName}`);
  return lines;
}

function renderPruneSave(p: PrunedSave): string[] {
  return [
    `Saved what ${p.worktreePath} alone held (${p.items.join(", ")}) to ${p.ref} before forgetting it:`,
    `  to get it back, run in ${p.restoreIn}:`,
    ...p.restore.map((c) => `    ${c}`),
  ];
}

const remove: Action = {
  summary: "remove a stream's worktree (and its branch when nothing only it holds would go); refuses, naming it, while anything would be lost",
  args: ["STREAM"],
  flags: {
    force: { type: "boolean", description: "remove anyway, after saving the work to refs/orch/saved/<branch>/<timestamp> (and nested repositories beside it)" },
    "keep-branch": { type: "boolean", description: "keep the stream's branch" },
    ...commonFlags,
  },
  async run({ flags, positionals }) {
    const streamId = parseStreamId(positionals[0]);
    const r = await removeStreamWorktree(await storeFromFlags(flags), {
      streamId,
      force: flags.force === true,
      keepBranch: flags["keep-branch"] === true,
      orchFlags: typeof flags.db === "string" ? ["--db", flags.db] : [],
    });
    if (flags.json) return printJson(r);
    say(`${renderRemoval(r).join("\n")}\n`);
  },
};

const prune: Action = {
  summary: "forget worktrees whose folders are gone, and clear them from their streams",
  flags: { ...commonFlags },
  async run({ flags }) {
    const r = await pruneStreamWorktrees(await storeFromFlags(flags));
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
  async run({ flags, positionals }) {
    const streamId = parseStreamId(positionals[0]);
    const r = await mergeStream(await storeFromFlags(flags), { streamId, into: str(flags.into) });
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
