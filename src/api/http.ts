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
    readonly status: 400 | 401 | 403 | 404 | 500,
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

export function badRequest(what: "query" | "path", issues: ParamIssue[]): ApiError {
  const line = issues.map((i) => `${i.param} ${i.message}${i.received !== undefined ? ` (got ${JSON.stringify(i.received)})` : ""}`).join("; ");
  return new ApiError(400, { error: `Invalid ${what} parameter${issues.length > 1 ? "s" : ""}: ${line}`, details: issues });
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

export const parseQuery = <S extends z.ZodType>(c: Context, schema: S): z.output<S> => parseParams("query", schema, c.req.query());

/** A JSON body already serialised (cached responses skip JSON.stringify and UTF-8 encoding). */
export function jsonBody(c: Context, body: Uint8Array, status: 200 | 404 = 200): Response {
  return c.body(body as Uint8Array<ArrayBuffer>, status, { "Content-Type": "application/json; charset=UTF-8" });
}

/** Map anything thrown to a status and a JSON body. Unknown errors become a bare 500. */
export function errorAnswer(err: unknown): { status: number; body: Record<string, unknown>; unexpected: boolean } {
  if (err instanceof ApiError) return { status: err.status, body: err.body, unexpected: false };
  if (isOrchError(err)) {
    const status = err.kind === "not_found" ? 404 : err.kind === "usage" || err.kind === "invalid" ? 400 : err.kind === "conflict" ? 409 : 500;
    if (status !== 500) return { status, body: { error: err.message }, unexpected: false };
  }
  return { status: 500, body: { error: "Internal server error" }, unexpected: true };
}
