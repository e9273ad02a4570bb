/**
 * Request parsing and error answers shared by every route: a bad query is a 400 naming each
 * parameter; an error thrown anywhere becomes JSON, never a stack trace.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { isOrchError } from "../errors.ts";

/** An answer decided deep inside a handler (thrown, turned into JSON by the app's onError). */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.error));
    this.name = "ApiError";
  }
}

export interface ParamIssue {
  param: string;
  message: string;
  received?: string;
}

export function badRequest(what: "query" | "path" | "body", issues: ParamIssue[]): ApiError {
  const line = issues.map((i) => `${i.param} ${i.message}${i.received !== undefined ? ` (got ${JSON.stringify(i.received)})` : ""}`).join("; ");
  const noun = what === "body" ? "body field" : `${what} parameter`;
  return new ApiError(400, { error: `Invalid ${noun}${issues.length > 1 ? "s" : ""}: ${line}`, details: issues });
}

/** Validate one flat record of strings (query or path params) with a zod object schema. */
export function parseParams<S extends z.ZodType>(what: "query" | "path", schema: S, raw: Record<string, string>): z.output<S> {
  // `?status=` (an empty value, as URL builders leave it) means "no filter", not a bad value.
  const present: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (v !== "") present[k] = v;
  const r = schema.safeParse(present);
  if (r.success) return r.data;
  const seen = new Set<string>();
  const issues: ParamIssue[] = [];
  for (const i of r.error.issues) {
    const param = String(i.path[0] ?? "");
    if (seen.has(param)) continue; // one line per parameter is enough
    seen.add(param);
    const value = raw[param];
    const received = value !== undefined && value.length > 200 ? `${value.slice(0, 200)}…` : value;
    issues.push(received === undefined ? { param, message: i.message } : { param, message: i.message, received });
  }
  throw badRequest(what, issues);
}

/** Largest JSON body a write route reads (Bun.serve refuses bigger ones before orch sees them). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * A write route's JSON body, validated with a zod schema. Only `application/json` is read: a
 * page on another site can send a form or text/plain without asking, but JSON needs a CORS
 * preflight, which this API never grants.
 */
export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new ApiError(415, { error: `Unsupported Media Type: send the body as JSON with Content-Type: application/json${type ? ` (got ${JSON.stringify(type.slice(0, 100))})` : ""}` });
  }
  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES) throw new ApiError(413, { error: `Payload Too Large: a body is at most ${MAX_BODY_BYTES} bytes` });
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) throw new ApiError(413, { error: `Payload Too Large: a body is at most ${MAX_BODY_BYTES} bytes` });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ApiError(400, { error: "Invalid body: not JSON" });
  }
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const seen = new Set<string>();
  const issues: ParamIssue[] = [];
  for (const i of r.error.issues) {
    // An unknown key names itself in `keys`; everything else by its path ("" for the body itself).
    const keys = (i as { keys?: string[] }).keys;
    const param = keys?.length ? keys.join(", ") : i.path.map(String).join(".") || "body";
    if (seen.has(param)) continue;
    seen.add(param);
    issues.push({ param, message: i.message });
  }
  throw badRequest("body", issues);
}

export const parseQuery = <S extends z.ZodType>(c: Context, schema: S): z.output<S> => parseParams("query", schema, c.req.query());

/** A JSON body already serialised (cached responses skip JSON.stringify and UTF-8 encoding). */
export function jsonBody(c: Context, body: Uint8Array, status: 200 | 404 = 200): Response {
  return c.body(body as Uint8Array<ArrayBuffer>, status, { "Content-Type": "application/json; charset=UTF-8" });
}

/**
 * Characters JSON.stringify leaves raw that a terminal or a script could take for something else:
 * DEL and the C1 controls (0x9b is CSI to some terminals, for someone who curls the API), the
 * line and paragraph separators (line breaks to JavaScript before ES2019) and the bidi overrides.
 */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text with those written as \u escapes: the same value to any JSON parser, inert on a screen. */
export function safeJsonText(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A JSON answer whose text is agents' own words (questions, tool input, messages): see safeJsonText. */
export function safeJson(c: Context, value: unknown): Response {
  return c.body(safeJsonText(value), 200, { "Content-Type": "application/json; charset=UTF-8" });
}

/** Map anything thrown to a status and a JSON body. Unknown errors become a bare 500. */
export function errorAnswer(err: unknown): { status: number; body: Record<string, unknown>; unexpected: boolean } {
  if (err instanceof ApiError) return { status: err.status, body: err.body, unexpected: false };
  if (isOrchError(err)) {
    const status =
      err.kind === "not_found" ? 404 : err.kind === "usage" || err.kind === "invalid" ? 400 : err.kind === "conflict" ? 409 : err.kind === "unavailable" ? 503 : 500;
    if (status !== 500) return { status, body: { error: err.message }, unexpected: false };
  }
  return { status: 500, body: { error: "Internal server error" }, unexpected: true };
}
