/**
 * Fuzzing the REST API (issue #9): random paths and query strings — traversal, bad and double
 * percent-encoding, NUL bytes, huge and repeated parameters, unicode, odd methods, hostile Host,
 * Last-Event-ID and Authorization headers — sent byte for byte to a real `orch serve`.
 *
 * Never a 5xx, never a stack trace or a file path from the server in a body, always a JSON body
 * from orch (an event stream for /api/events), and the server answers normally afterwards.
 *
 * Quick: 3,000 requests. STRESS=full: 20,000.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { importPrdMarkdown, updateTask } from "../../src/core/index.ts";
import { openStore } from "../../src/db/client.ts";
import { tempDir } from "../helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { HOSTILE_IDS, randomUnicode } from "./harness/hostile.ts";
import { rawRequest, type RawResponse } from "./harness/http-raw.ts";
import { serve } from "./harness/orch.ts";
import { Random, seeded } from "./harness/prng.ts";

const REQUESTS = size(3000, 20_000);
const CONCURRENCY = 12;

const PRD = `# Initiative: API fuzz
## Foundation Phase
### Stream-A: Core
- TASK-001: one [files: src/a.ts]
- TASK-002: two
## Parallel Phase
### Stream-B: Side
- TASK-003: three @agent-x
`;

const ROUTES = ["/health", "/openapi.json", "/api/streams", "/api/streams/Stream-A", "/api/streams/Stream-B/health", "/api/streams/Stream-B/log", "/api/streams/Stream-B/work-products", "/api/work-products/WP-000000000000", "/api/run", "/api/tasks", "/api/activity", "/api/events"];
const PARAMS = ["status", "streamId", "assignedAgent", "prdId", "parentId", "includeArchived", "limit", "lines", "initiativeId", "active", "lastEventId", "all", "format", "__proto__", "constructor"];
const VALUES = ["pending", "in_progress", "completed", "true", "false", "1", "0", "Stream-A", "TASK-001", "PRD-api-fuzz", "100000", "100001", "-1", "1e3", "0x10", " 1", "NaN", "Infinity", "99999999999999999999", ""];

/** Percent-encode some characters, leave others raw, sometimes break the encoding. */
function mangle(rnd: Random, s: string): string {
  let out = "";
  for (const ch of s) {
    const r = rnd.next();
    if (r < 0.15) out += encodeURIComponent(ch);
    else if (r < 0.18) out += rnd.pick(["%", "%z", "%zz", "%2", "%00", "%ff", "%C0%AE", "%25", "%2e%2e%2f", "%5c"]);
    else if (/[\s\x00-\x1f\x7f]/.test(ch)) out += encodeURIComponent(ch); // raw whitespace would end the request line
    else out += ch;
  }
  return out;
}

function randomPath(rnd: Random): string {
  const r = rnd.next();
  if (r < 0.35) return rnd.pick(ROUTES);
  if (r < 0.6) return `/api/streams/${mangle(rnd, rnd.pick(HOSTILE_IDS))}${rnd.chance(0.3) ? rnd.pick(["/health", "/log", "/work-products"]) : ""}`;
  if (r < 0.65) return `/api/work-products/${mangle(rnd, rnd.pick(HOSTILE_IDS))}`;
  if (r < 0.7) return `${rnd.pick(ROUTES)}${rnd.pick(["/", "//", "/..", "/../..", "/%2e%2e", "/.", "/x", "/%00", ";jsessionid=1", "/../../../../etc/passwd"])}`;
  if (r < 0.8) {
    const segs = Array.from({ length: rnd.range(1, 6) }, () => mangle(rnd, rnd.chance(0.5) ? rnd.pick(["api", "streams", "tasks", "..", ".", "", "health", "events"]) : randomUnicode(rnd, rnd.range(1, 12))));
    return `/${segs.join("/")}`;
  }
  if (r < 0.85) return `/${"a/".repeat(rnd.range(100, 2000))}`;
  if (r < 0.9) return `/api/streams/${"S".repeat(rnd.range(129, 6000))}`;
  if (r < 0.95) return rnd.pick(["*", "http://127.0.0.1/api/tasks", "//api/tasks", "/API/TASKS", "/api/tasks/", "/api/Streams", "/api", "/"]);
  return `/${mangle(rnd, randomUnicode(rnd, rnd.range(1, 60)))}`;
}

function randomQuery(rnd: Random): string {
  if (rnd.chance(0.25)) return "";
  const n = rnd.range(0, 6);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = rnd.chance(0.8) ? rnd.pick(PARAMS) : mangle(rnd, randomUnicode(rnd, rnd.range(0, 10)));
    const r = rnd.next();
    const value = r < 0.5 ? rnd.pick(VALUES) : r < 0.8 ? rnd.pick(HOSTILE_IDS) : r < 0.95 ? randomUnicode(rnd, rnd.range(0, 30)) : "v".repeat(rnd.range(200, 20_000));
    parts.push(rnd.chance(0.1) ? mangle(rnd, key) : `${mangle(rnd, key)}=${mangle(rnd, value)}`);
  }
  if (rnd.chance(0.1)) parts.push(rnd.pick(["", "&", "=", "==", "&&&", "a=1&a=2&a=3", "status[]=pending", "limit=1&limit=2"]));
  return `?${parts.join("&")}`;
}

function randomHeaders(rnd: Random, port: number): string[] {
  const h: string[] = [];
  const r = rnd.next();
  if (r < 0.05) h.push(`Host: ${rnd.pick(["evil.example", "127.0.0.1.evil.example", "localhost:1", "[::1]", "", `127.0.0.1:${port}, evil.example`, "LOCALHOST"])}`);
  if (rnd.chance(0.1)) h.push(`Last-Event-ID: ${rnd.pick(["0", "-1", "abc", "99999999999999999999", "1e5", " 5", "\u00e9", "1".repeat(400)])}`);
  if (rnd.chance(0.05)) h.push(`Authorization: ${rnd.pick(["Bearer x", "Basic Zm9vOmJhcg==", "Bearer", "x".repeat(5000)])}`);
  if (rnd.chance(0.05)) h.push(`Accept: ${rnd.pick(["text/event-stream", "*/*", "application/xml", "\u00ff"])}`);
  return h;
}

const STANDARD_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"]);

/** Signs of a leaked internal error: a JS stack frame, a source path, an exception's name. */
const LEAK = /\n\s+at |\bat .+:\d+:\d+\)|\/src\/[a-z-]+\/[a-z-]+\.ts|node_modules|TypeError|RangeError|SyntaxError|ReferenceError|SQLITE_/;

function judge(method: string, target: string, res: RawResponse): string | null {
  const what = `${method} ${target.slice(0, 160)}${target.length > 160 ? "…" : ""} → ${res.status}`;
  // Bun's HTTP parser, before orch sees anything, closes the connection on a method that is not
  // a known HTTP method (FOO, lower-case get) and answers 400/414/431 with an empty body to request
  // lines or headers it will not parse; neither is a crash, and orch cannot see those requests.
  if (res.broken) return STANDARD_METHODS.has(method) ? `${what}: no HTTP answer (${JSON.stringify(res.body.slice(0, 100))})` : null;
  if (res.status >= 500) return `${what}: server error ${res.body.slice(0, 300)}`;
  if (LEAK.test(res.body)) return `${what}: internal detail in the body: ${res.body.slice(0, 300)}`;
  if (method === "HEAD" || res.status === 204 || res.status === 304) return null;
  const type = res.headers["content-type"] ?? "";
  if (type.startsWith("text/event-stream")) return res.status === 200 ? null : `${what}: an event stream with status ${res.status}`;
  if ([400, 414, 431].includes(res.status) && !type && res.body === "") return null; // Bun's own HTTP parser refused it
  // The dashboard's page (every path that resolves to / or /index.html): HTML, with its CSP.
  if (res.status === 200 && type.startsWith("text/html"))
    return res.body.startsWith("<!doctype html>") && /default-src 'none'|script-src 'self'/.test(res.headers["content-security-policy"] ?? "") ? null : `${what}: HTML without the dashboard's CSP`;
  if (!type.startsWith("application/json")) return `${what}: content-type ${JSON.stringify(type)}: ${res.body.slice(0, 200)}`;
  try {
    const body = JSON.parse(res.body);
    if (res.status >= 400 && typeof body.error !== "string") return `${what}: an error without an "error" message: ${res.body.slice(0, 200)}`;
  } catch {
    return `${what}: body is not JSON: ${res.body.slice(0, 200)}`;
  }
  return null;
}

describe("fuzz: the REST API", () => {
  test(
    `${REQUESTS} random paths, queries and headers: no 5xx, no stack trace, JSON errors`,
    () =>
      seeded("fuzz-api", async (rnd) => {
        const dir = tempDir("orch-stress-api-");
        const db = join(dir, "tasks.db");
        {
          const store = await openStore(db);
          await importPrdMarkdown(store, PRD);
          await updateTask(store, { id: "TASK-001", status: "in_progress", assignedAgent: "x" });
          await store.close();
        }
        const server = await serve(db, { env: { HOME: dir } });
        const port = Number(new URL(server.url).port);
        const problems: string[] = [];
        const statuses: Record<number, number> = {};
        let sent = 0;
        const worker = async (w: Random) => {
          while (sent < REQUESTS) {
            sent++;
            const method = w.chance(0.85) ? "GET" : w.pick(["HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "FOO", "get"]);
            const path = randomPath(w);
            const target = path.startsWith("/") ? `${path}${randomQuery(w)}` : path;
            const res = await rawRequest(port, method, target, randomHeaders(w, port));
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
            const p = judge(method, target, res);
            if (p && problems.length < 20) problems.push(p);
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(rnd.fork())));

        // Still healthy and still right afterwards.
        const health = await fetch(`${server.url}/health`);
        expect(health.status).toBe(200);
        const tasks = (await (await fetch(`${server.url}/api/tasks?streamId=Stream-A`)).json()) as { totalTasks: number };
        expect(tasks.totalTasks).toBe(2);
        const code = await server.stop();
        const stacks = server.stderr.lines.filter((l) => /^\s+at |Error:/.test(l));
        console.error(`fuzz-api: ${sent} requests, statuses ${JSON.stringify(statuses)}${FULL ? " [full]" : ""}`);
        expect(problems).toEqual([]);
        expect(stacks).toEqual([]);
        expect(code).toBe(0);
      }),
    size(90_000, 600_000),
  );
});
