/**
 * File-conflict check between streams (the guide's `stream_conflict_check`).
 *
 * The system we re-create matched with `LIKE '%file%'` and ignored pending tasks; here every
 * non-archived stream's files count (its row carries the union of all its tasks' files, any
 * status), paths are compared after normalisation, and a directory claim owns everything below it.
 * The matching is pure; `checkStreamConflicts` is a thin service over `listStreams`.
 */
import { z } from "zod";
import type { Store } from "../db/client.ts";
import { notFound } from "../errors.ts";
import { parseInput, streamIdSchema } from "./schemas.ts";
import { findStreamRow, listStreams } from "./streams.ts";

/** A normalised path claim. `dir` claims own everything below `path` ("" is the whole project). */
export interface PathClaim {
  path: string;
  dir: boolean;
}

const GLOB_CHARS = /[*?[{]/;

/**
 * `./src//a.ts` → `src/a.ts`; `src/theme/` → dir `src/theme`; `src\\a.ts` → `src/a.ts`.
 * A glob claims the directory before its first wildcard (`src/**\/*.test.ts` → dir `src`):
 * over-reporting a conflict is cheap, missing one costs a merge.
 * An absolute path under one of `roots` (the project root, a worktree) becomes relative to it.
 * Returns null for an empty entry.
 */
export function normalizePath(raw: string, roots: readonly string[] = []): PathClaim | null {
  let p = raw.trim().replace(/\\/g, "/");
  if (!p) return null;
  let dir = p.endsWith("/") || p === "." || p === "..";
  const wildcard = p.search(GLOB_CHARS);
  if (wildcard !== -1) {
    p = p.slice(0, p.lastIndexOf("/", wildcard) + 1);
    dir = true;
  }
  if (p.startsWith("/")) {
    for (const root of roots) {
      const r = normalizeRoot(root);
      if (r && (p === r || p.startsWith(`${r}/`))) {
        p = p.slice(r.length + 1);
        break;
      }
    }
  }
  const absolute = p.startsWith("/");
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === ".." && parts.length && parts[parts.length - 1] !== "..") parts.pop();
    else if (seg === ".." && absolute) continue;
    else parts.push(seg);
  }
  const path = (absolute ? "/" : "") + parts.join("/");
  if (path === "" || path === "/") dir = true;
  return { path, dir };
}

function normalizeRoot(root: string): string {
  return root.replace(/\\/g, "/").replace(/\/+$/, "");
}

/** How a claim reads back to the user: directories end with `/`, the whole project is `.`. */
export function displayClaim(c: PathClaim): string {
  if (!c.dir) return c.path;
  if (c.path === "") return ".";
  return c.path.endsWith("/") ? c.path : `${c.path}/`;
}

/** True when `path` is `dir` itself or below it. */
function within(path: string, dir: string): boolean {
  if (dir === "") return !path.startsWith("/");
  if (dir === "/") return path.startsWith("/");
  return path === dir || path.startsWith(`${dir}/`);
}

/**
 * The claim both sides contend for, or null: the same path, or one claim inside the other's
 * directory (then the more specific one is reported: `src/theme/` vs `src/theme/a.ts` → the file).
 */
export function overlap(a: PathClaim, b: PathClaim): PathClaim | null {
  if (a.path === b.path) return a.dir ? b : a;
  if (a.dir && within(b.path, a.path)) return b;
  if (b.dir && within(a.path, b.path)) return a;
  return null;
}

export interface StreamFiles {
  streamId: string;
  streamName: string;
  files: readonly string[];
}

export interface ConflictingStream {
  streamId: string;
  streamName: string;
  conflictingFiles: string[];
}

export interface ConflictReport {
  hasConflicts: boolean;
  conflictingStreams: ConflictingStream[];
}

/** Pure: which of `others` contend for any of `files`. Order of `others` is kept; files are sorted. */
export function findConflicts(
  files: readonly string[],
  others: readonly StreamFiles[],
  roots: readonly string[] = [],
): ConflictReport {
  const mine = files.map((f) => normalizePath(f, roots)).filter((c): c is PathClaim => c !== null);
  const conflictingStreams: ConflictingStream[] = [];
  if (mine.length) {
    for (const s of others) {
      const hits = new Set<string>();
      for (const f of s.files) {
        const theirs = normalizePath(f, roots);
        if (!theirs) continue;
        for (const m of mine) {
          const o = overlap(m, theirs);
          if (o) hits.add(displayClaim(o));
        }
      }
      if (hits.size) conflictingStreams.push({ streamId: s.streamId, streamName: s.streamName, conflictingFiles: [...hits].sort() });
    }
  }
  return { hasConflicts: conflictingStreams.length > 0, conflictingStreams };
}

export const conflictCheckSchema = z.object({
  streamId: streamIdSchema.optional(),
  files: z.array(z.string().max(1024, "file path is longer than 1024 characters")).max(10_000),
  roots: z.array(z.string()).optional(),
});
export type ConflictCheckInput = z.input<typeof conflictCheckSchema>;

/**
 * Which other non-archived streams claim any of `files`. `streamId` (the caller's own stream,
 * left out of the comparison) must exist, archived or not, so a typo does not pass silently.
 */
export async function checkStreamConflicts(store: Store, input: ConflictCheckInput): Promise<ConflictReport> {
  const v = parseInput(conflictCheckSchema, input);
  if (v.streamId && !(await findStreamRow(store.db, v.streamId, true))) throw notFound(`Stream not found: ${v.streamId}`, { streamId: v.streamId });
  const others = (await listStreams(store)).filter((s) => s.streamId !== v.streamId);
  return findConflicts(v.files, others, v.roots);
}
