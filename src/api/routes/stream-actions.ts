/**
 * The stream actions the CLI has, as writes: POST /api/streams/:streamId/merge (`orch worktree
 * merge`), /archive and /unarchive (`orch stream archive|unarchive`). Each is a thin adapter over
 * the function the CLI calls. The app's writeGuard (security.ts) has already refused cross-site
 * requests, browsers without a session and, off loopback, requests without the token.
 */
import { Hono } from "hono";
import { z } from "zod";
import { archiveStream, unarchiveStream } from "../../core/streams.ts";
import { isOrchError } from "../../errors.ts";
import { mergeStreamAsync } from "../../workspace/merge.ts";
import type { ApiDeps, RouteDoc } from "../context.ts";
import { ApiError, parseJsonBody, parseParams, safeJson } from "../http.ts";
import { archiveResultShape, errorShape, mergeConflictShape, mergeResultShape } from "../shapes.ts";
import { streamPath } from "./streams.ts";

/** How long a merge waits for another merge (of this stream, or into this repository) to finish. */
export const MERGE_LOCK_WAIT_MS = 30_000;

const branchName = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(250, { error: "must be at most 250 characters" })
  .regex(/^[^\p{Cc} ~^:?*[\\]+$/u, { error: "must be a branch name" })
  .refine((b) => !b.startsWith("-"), { error: "must be a branch name" });

export const mergeBody = z
  .strictObject(
    { into: branchName.optional().meta({ description: "target branch, checked out and clean in the main worktree (default: the stream's base)" }) },
    { error: (i) => (i.code === "unrecognized_keys" ? "is not a field of a merge (into)" : "must be a JSON object") },
  )
  .meta({ description: "A merge request; `{}` merges into the stream's base branch" });

export const emptyBody = z
  .strictObject({}, { error: (i) => (i.code === "unrecognized_keys" ? "is not a field of this action (send {})" : "must be a JSON object") })
  .meta({ description: "No fields: send `{}`" });

const writeErrors = {
  400: { description: "invalid stream id or body", schema: errorShape },
  401: { description: "missing or wrong bearer token", schema: errorShape },
  403: { description: "a cross-site request, a browser without a session, or a write without a token off loopback", schema: errorShape },
  404: { description: "no such stream", schema: errorShape },
  415: { description: "the body is not application/json", schema: errorShape },
};

const guard =
  "Same rules as every write: the bearer token when the server has one; from a browser, this server's own Origin and its session cookie (the login link). The body must be `application/json`.";

export const streamActionDocs: RouteDoc[] = [
  {
    path: "/api/streams/{streamId}/merge",
    method: "post",
    summary: "Merge the stream's branch into the main worktree's branch (orch worktree merge)",
    description: `Predicted with git merge-tree first: a conflict changes nothing (409, with the files). The main worktree must be on the target branch with nothing uncommitted; untracked or ignored files in the merge's way refuse it (409). Waits up to ${MERGE_LOCK_WAIT_MS / 1000} s for another merge of the stream or into the repository. ${guard}`,
    pathParams: streamPath,
    body: mergeBody,
    responses: {
      200: { description: "merged (status merged, with the commit) or already merged (status up_to_date)", schema: mergeResultShape },
      ...writeErrors,
      404: { description: "no such stream, or its branch does not exist", schema: errorShape },
      409: {
        description: "the merge would conflict (nothing changed: `merge` has the files), or the main worktree is not ready (another branch, uncommitted changes, files in the way), or another merge is still under way",
        oneOf: [mergeConflictShape, errorShape],
      },
    },
  },
  {
    path: "/api/streams/{streamId}/archive",
    method: "post",
    summary: "Archive a stream and its tasks (orch stream archive)",
    description: `Archived streams leave the lists (\`includeArchived\` shows them). ${guard}`,
    pathParams: streamPath,
    body: emptyBody,
    responses: { 200: { description: "the stream is archived", schema: archiveResultShape }, ...writeErrors },
  },
  {
    path: "/api/streams/{streamId}/unarchive",
    method: "post",
    summary: "Bring an archived stream and its tasks back (orch stream unarchive)",
    description: guard,
    pathParams: streamPath,
    body: emptyBody,
    responses: { 200: { description: "the stream is back", schema: archiveResultShape }, ...writeErrors },
  },
];

/** A merge that waited too long for another one: try again later (409, not a server failure). */
function lockTimeout(err: unknown): boolean {
  return isOrchError(err) && err.kind === "failed" && err.message.startsWith("timed out waiting for another orch");
}

export function streamActionRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const archive = async (c: import("hono").Context, archived: boolean) => {
    const { streamId } = parseParams("path", streamPath, { streamId: c.req.param("streamId") ?? "" });
    await parseJsonBody(c, emptyBody);
    const r = archived ? await archiveStream(store, streamId) : await unarchiveStream(store, streamId);
    return safeJson(c, { streamId: r.streamId, archived: r.archived, tasksAffected: r.tasksAffected });
  };
  return new Hono()
    .post("/:streamId/merge", async (c) => {
      const { streamId } = parseParams("path", streamPath, { streamId: c.req.param("streamId") });
      const body = await parseJsonBody(c, mergeBody);
      let r;
      try {
        r = await mergeStreamAsync(store, { streamId, into: body.into, cwd: deps.cwd }, MERGE_LOCK_WAIT_MS);
      } catch (err) {
        if (lockTimeout(err)) throw new ApiError(409, { error: `another merge is still under way: try again when it has finished (${(err as Error).message})` });
        throw err;
      }
      if (r.status === "conflict")
        throw new ApiError(409, {
          error: `merge of ${r.branchName} into ${r.into} would conflict (${r.conflictingFiles.length} files); nothing was changed`,
          merge: r,
        });
      return safeJson(c, r);
    })
    .post("/:streamId/archive", (c) => archive(c, true))
    .post("/:streamId/unarchive", (c) => archive(c, false));
}
