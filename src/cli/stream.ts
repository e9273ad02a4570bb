import { archiveStream, getStream, listStreams, unarchiveStream, type StreamView } from "../core/index.ts";
import { withUsage } from "../core/index.ts";
import { commandGroup, commonFlags, type Action } from "./command.ts";
import { storeFromFlags, str } from "./context.ts";
import { type Column, printJson, printTable, say } from "./output.ts";
import { taskColumns } from "./task.ts";
import type { StreamPairConflict } from "../workspace/stream-conflicts.ts";
import { listClaims, type Claim } from "../core/claims.ts";
import { findProjectRoot, readEnv } from "../config.ts";
import { resolveTeamSettings } from "../orchestrate/config.ts";

const streamColumns: Column<StreamView>[] = [
  { header: "STREAM", value: (s) => s.streamId, max: 24 },
  { header: "NAME", value: (s) => s.streamName, max: 32 },
  { header: "PHASE", value: (s) => s.streamPhase },
  { header: "PROGRESS", value: (s) => `${s.progressPercentage.toFixed(1)}%` },
  { header: "TASKS", value: (s) => `${s.completedTasks}/${s.totalTasks}` },
  { header: "STATUS", value: (s) => s.status + (s.archived ? " (archived)" : "") },
  { header: "DEPENDS ON", value: (s) => s.dependencies.join(", ") || "-", max: 40 },
];

const list: Action = {
  summary: "list streams with their progress",
  flags: {
    initiative: { type: "string", value: "ID", description: "only this initiative's streams" },
    all: { type: "boolean", description: "include archived streams" },
    ...commonFlags,
  },
  async run({ flags }) {
    const store = await storeFromFlags(flags);
    const list = await listStreams(store, { initiativeId: str(flags.initiative), includeArchived: flags.all === true });
    if (flags.json) printJson({ streams: await withUsage(store, list), totalStreams: list.length });
    else printTable(list, streamColumns, "No streams.");
  },
};

const get: Action = {
  summary: "show one stream and its tasks",
  args: ["ID"],
  flags: { all: { type: "boolean", description: "show it even if archived" }, ...commonFlags },
  async run({ flags, positionals }) {
    const store = await storeFromFlags(flags);
    const s = await getStream(store, positionals[0]!, { includeArchived: flags.all === true });
    if (flags.json) return printJson((await withUsage(store, [s]))[0]);
    say(
      [
        `${s.streamId}: ${s.streamName} (${s.streamPhase})${s.archived ? " [archived]" : ""}`,
        `  progress:     ${s.progressPercentage.toFixed(1)}% (${s.completedTasks}/${s.totalTasks} tasks) ${s.status}`,
        `  dependencies: ${s.dependencies.join(", ") || "none"}`,
        `  worktree:     ${s.worktreePath ?? "main worktree"}${s.branchName ? ` (branch ${s.branchName})` : ""}`,
        ...(s.files.length ? [`  files:        ${s.files.join(", ")}`] : []),
        "",
      ].join("\n"),
    );
    printTable(s.tasks, taskColumns, "No tasks.");
  },
};

const archive: Action = {
  summary: "archive a stream and its tasks",
  args: ["ID"],
  flags: { ...commonFlags },
  async run({ flags, positionals }) {
    const r = await archiveStream(await storeFromFlags(flags), positionals[0]!);
    if (flags.json) printJson({ streamId: r.streamId, archived: true, tasksArchived: r.tasksAffected });
    else say(`Archived ${r.streamId} (${r.tasksAffected} tasks)\n`);
  },
};

const unarchive: Action = {
  summary: "bring an archived stream back",
  args: ["ID"],
  flags: { ...commonFlags },
  async run({ flags, positionals }) {
    const r = await unarchiveStream(await storeFromFlags(flags), positionals[0]!);
    if (flags.json) printJson({ streamId: r.streamId, archived: false, tasksUnarchived: r.tasksAffected });
    else say(`Unarchived ${r.streamId} (${r.tasksAffected} tasks)\n`);
  },
};

const conflicts: Action = {
  summary: "files that would conflict between active streams' branches (merge-tree, nothing touched) and overlapping declared files",
  flags: {
    initiative: { type: "string", value: "ID", description: "only this initiative's streams" },
    ...commonFlags,
  },
  async run({ flags }) {
    // Loaded on use: `stream list`, which the monitor's users run often, does not parse the git layer.
    const { streamConflicts } = await import("../workspace/stream-conflicts.ts");
    const remote = resolveTeamSettings(findProjectRoot(), readEnv()).remote;
    const r = await streamConflicts(await storeFromFlags(flags), { initiativeId: str(flags.initiative), remote });
    if (flags.json) return printJson(r);
    const shown = r.pairs.filter((p) => p.conflictingFiles.length || p.declaredOverlap.length || p.error);
    const files = (xs: string[]) => (xs.length ? xs.join(", ") : "-");
    printTable<StreamPairConflict>(
      shown,
      [
        { header: "STREAMS", value: (p) => `${p.streams[0]} ↔ ${p.streams[1]}`, max: 40 },
        { header: "WOULD CONFLICT", value: (p) => (p.error ? `? ${p.error}` : p.gitChecked ? files(p.conflictingFiles) : "(no branches)"), max: 60 },
        { header: "DECLARED OVERLAP", value: (p) => files(p.declaredOverlap), max: 60 },
      ],
      `No conflicts among ${r.streams.length} active streams (${r.totalPairs} pairs checked).`,
    );
    if (shown.length)
      say(`\n${r.totalPairs} pairs checked: ${r.conflictingPairs} would conflict, ${r.overlappingPairs} declare the same files.\n`);
  },
};

const claimColumns: Column<Claim>[] = [
  { header: "STREAM", value: (c) => c.streamId, max: 24 },
  { header: "MACHINE", value: (c) => c.machine, max: 32 },
  { header: "PID", value: (c) => String(c.pid) },
  { header: "BY", value: (c) => `orch ${c.purpose}` },
  { header: "HEARTBEAT", value: (c) => c.heartbeatAt },
  { header: "LEASE", value: (c) => (c.live ? `until ${c.expiresAt}` : `ran out ${c.expiresAt}`) },
];

const claims: Action = {
  summary: "which machine works which stream now (claims and their leases)",
  flags: { ...commonFlags },
  async run({ flags }) {
    const list = await listClaims(await storeFromFlags(flags));
    if (flags.json) printJson({ claims: list });
    else printTable(list, claimColumns, "No stream is claimed.");
  },
};

export const command = commandGroup("stream", "list, get and archive streams; find conflicts; who works what", { list, get, archive, unarchive, conflicts, claims });
