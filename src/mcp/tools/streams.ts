import { z } from "zod";
import {
  archiveAllStreams,
  archiveStream,
  checkStreamConflicts,
  conflictCheckSchema,
  getStream,
  withUsage,
  idSchema,
  listStreams,
  streamIdSchema,
  unarchiveStream,
} from "../../core/index.ts";
import { defineTool } from "../tool.ts";

const includeArchived = z.boolean().optional();

export const tools = [
  defineTool({
    name: "stream_list",
    readOnly: true,
    description: "Streams with progress figures and dependencies (files with full: true).",
    input: z.strictObject({ initiativeId: idSchema.optional(), includeArchived, full: z.boolean().optional() }),
    run: async ({ store }, { full, ...a }) => {
      const streams = await listStreams(store, a);
      const shown = full ? streams : streams.map(({ files, ...s }) => ({ ...s, fileCount: files.length }));
      return { streams: shown, totalStreams: streams.length };
    },
  }),
  defineTool({
    name: "stream_get",
    readOnly: true,
    description: "One stream with its tasks.",
    input: z.strictObject({ streamId: streamIdSchema, includeArchived }),
    run: async ({ store }, a) => (await withUsage(store, [await getStream(store, a.streamId, a)]))[0],
  }),
  defineTool({
    name: "stream_conflict_check",
    readOnly: true,
    description: "Which other active streams claim any of these files (any task status; a dir/ claims all below it).",
    input: z.strictObject({
      streamId: streamIdSchema.optional().describe("your stream, left out"),
      files: conflictCheckSchema.shape.files,
    }),
    // Absolute paths inside the session's checkout compare as relative ones.
    run: ({ store, cwd }, a) => checkStreamConflicts(store, { ...a, roots: [cwd] }),
  }),
  defineTool({
    name: "stream_archive",
    description: "Archive a stream and its tasks.",
    input: z.strictObject({ streamId: streamIdSchema }),
    run: async ({ store }, a) => {
      const r = await archiveStream(store, a.streamId);
      return { streamId: r.streamId, archived: true, tasksArchived: r.tasksAffected };
    },
  }),
  defineTool({
    name: "stream_unarchive",
    description: "Restore an archived stream and its tasks.",
    input: z.strictObject({ streamId: streamIdSchema }),
    run: async ({ store }, a) => {
      const r = await unarchiveStream(store, a.streamId);
      return { streamId: r.streamId, archived: false, tasksUnarchived: r.tasksAffected };
    },
  }),
  defineTool({
    name: "stream_archive_all",
    description: "Archive every active stream (optionally one initiative's) and their tasks.",
    input: z.strictObject({ initiativeId: idSchema.optional() }),
    run: ({ store }, a) => archiveAllStreams(store, a),
  }),
];
