/** What every route needs, built once by createApp, plus the route description /openapi.json reads. */
import type { z } from "zod";
import type { ChangeFeed } from "../core/change-feed.ts";
import type { StreamView } from "../core/streams.ts";
import type { Store } from "../db/client.ts";
import type { BrowserAuth } from "./browser-auth.ts";
import type { ResponseCache } from "./cache.ts";

export interface ApiDeps {
  store: Store;
  feed: ChangeFeed;
  cache: ResponseCache;
  /** Shown as `branchName` of a stream that has no worktree of its own (it works in the main checkout). */
  readonly mainBranch: string | null;
  version: string;
  dbId: string;
  /** SSE comment heartbeat period. */
  heartbeatMs: number;
  now: () => number;
  /** The login codes and sessions of browsers (browser-auth.ts; dashboardLoginUrl mints links). */
  auth: BrowserAuth;
  /** Where the repository and project are looked up for actions (merge, budget); default process.cwd(). */
  cwd?: string;
}

export interface RouteDoc {
  path: string;
  /** Default "get". */
  method?: "get" | "post";
  summary: string;
  description?: string;
  query?: z.ZodObject;
  pathParams?: z.ZodObject;
  /** A JSON request body (application/json). */
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType; oneOf?: z.ZodType[]; contentType?: string }>;
}

/** A core stream as the API shows it (the guide: a foundation stream in the main checkout shows "main"). */
export function apiStream<T extends StreamView>(s: T, mainBranch: string | null): T {
  return s.branchName === null && s.worktreePath === null && mainBranch !== null ? { ...s, branchName: mainBranch } : s;
}
