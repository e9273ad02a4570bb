/**
 * Fuzzing the REST API's writes against a real `orch serve` on a real repository with a plan:
 * POST (and other methods) to every write route — the inbox answer, merge, archive, unarchive,
 * budget raise, the token sign-in — with hostile bodies, content types and ids, and with the
 * headers a browser on another site, another port or this page without a session sends.
 *
 * Never a 5xx or a stack trace; every error is JSON with an `error`; a request from another site
 * or origin is refused (403) whatever it carries, and none of them changes anything: after the run
 * the tasks, streams and git are exactly as before (every program write here is refused on its
 * input — a valid one would have changed the plan, and is checked apart).
 *
 * Quick: 1,500 requests. STRESS=full: 10,000.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { importPrdMarkdown } from "../../src/core/index.ts";
import { openStore } from "../../src/db/client.ts";
import { rawSqlite, tempDir } from "../helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { HOSTILE_IDS, hostileString, hostileValue } from "./harness/hostile.ts";
import { serve } from "./harness/orch.ts";
import { type Random, seeded } from "./harness/prng.ts";

const REQUESTS = size(1500, 10_000);
const CONCURRENCY = 8;

const PRD = `# Initiative: write fuzz
## Foundation Phase
### Stream-A: Core
- TASK-001: one [files: src/a.ts]
## Parallel Phase
### Stream-B: Side
- TASK-002: two
`;

const WRITE_PATHS = (rnd: Random, id: () => string) =>
  rnd.pick([
    `/api/inbox/${rnd.pick(["1", "0", "-1", "99999999999999999999", "1e3", id()])}`,
    `/api/streams/${id()}/merge`,
    `/api/streams/${id()}/archive`,
    `/api/streams/${id()}/unarchive`,
    `/api/budget/${id()}/raise`,
    "/api/session",
  ]);

function randomBody(rnd: Random): { body?: string; type?: string } {
  const r = rnd.next();
  if (r < 0.1) return {};
  if (r < 0.2) return { body: hostileString(rnd), type: rnd.pick(["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) };
  if (r < 0.3) return { body: "{".repeat(rnd.range(1, 5000)), type: "application/json" };
  const o: Record<string, unknown> = {};
  for (const k of ["decision", "reason", "always", "by", "usd", "tokens", "confirm", "into", "__proto__", "constructor"]) if (rnd.chance(0.35)) o[k] = hostileValue(rnd);
  return { body: JSON.stringify(rnd.chance(0.9) ? o : hostileValue(rnd)), type: rnd.chance(0.9) ? "application/json" : rnd.pick(["application/json; charset=utf-16", "APPLICATION/JSON", ""]) };
}

type Who = "program" | "cross-site" | "other-port" | "no-session" | "null-origin";
function headersOf(who: Who, port: number, rnd: Random): Record<string, string> {
  const own = `http://127.0.0.1:${port}`;
  const h: Record<string, string> = {};
  if (rnd.chance(0.3)) h.cookie = `orch_session_${port}=${rnd.pick(["forged", "x".repeat(300), ""])}`;
  if (rnd.chance(0.2)) h.authorization = rnd.pick(["Bearer nope", "Basic eDp5", "Bearer "]);
  if (who === "cross-site") Object.assign(h, { origin: "https://evil.example", "sec-fetch-site": "cross-site" });
  if (who === "other-port") Object.assign(h, { origin: `http://127.0.0.1:${port + 1}`, "sec-fetch-site": "same-site" });
  if (who === "no-session") Object.assign(h, { origin: own, "sec-fetch-site": "same-origin" });
  if (who === "null-origin") h.origin = "null";
  return h;
}

async function facts(dir: string, db: string) {
  const store = await openStore(db);
  try {
    const table = (name: string) => rawSqlite(store).query(`SELECT * FROM ${name} ORDER BY 1`).all();
    const rows = ["tasks", "streams", "inbox", "policy_rules", "events"].map(table);
    const git = Bun.spawnSync(["git", "-C", dir, "for-each-ref", "--format=%(refname) %(objectname)"]).stdout.toString();
    return JSON.stringify({ rows, git });
  } finally {
    await store.close();
  }
}

describe("fuzz: the REST API's writes", () => {
  test(
    `${REQUESTS} hostile writes from programs and from browsers without a right: no 5xx, JSON errors, nothing changed`,
    () =>
      seeded("fuzz-writes", async (rnd) => {
        const dir = tempDir("orch-stress-writes-");
        const run = (args: string[]) => Bun.spawnSync(["git", ...args], { cwd: dir, stdout: "ignore", stderr: "ignore" });
        run(["init", "-q", "-b", "main"]);
        run(["commit", "-q", "--allow-empty", "-m", "root"]);
        const db = join(dir, ".orch-tasks.db");
        {
          const store = await openStore(db);
          await importPrdMarkdown(store, PRD);
          await store.close();
        }
        const before = await facts(dir, db);
        const server = await serve(db, { cwd: dir, env: { HOME: dir } });
        const port = Number(new URL(server.url).port);
        const problems: string[] = [];
        const statuses: Record<string, number> = {};
        let sent = 0;
        const worker = async (w: Random) => {
          while (sent < REQUESTS) {
            sent++;
            const who = w.pick<Who>(["program", "program", "cross-site", "other-port", "no-session", "null-origin"]);
            // A program naming a real stream could legitimately archive it: programs name none.
            const id = () => (who !== "program" && w.chance(0.5) ? w.pick(["Stream-A", "Stream-B", "Stream-Z"]) : encodeURIComponent(w.pick(HOSTILE_IDS)));
            const path = WRITE_PATHS(w, id);
            const method = w.chance(0.85) ? "POST" : w.pick(["PUT", "DELETE", "PATCH"]);
            const { body, type } = method === "POST" ? randomBody(w) : {};
            const headers = { ...headersOf(who, port, w), ...(type ? { "content-type": type } : {}) };
            let status = 0;
            let text = "";
            let contentType = "";
            try {
              const res = await fetch(`${server.url}${path}`, { method, headers, body, redirect: "manual" });
              status = res.status;
              contentType = res.headers.get("content-type") ?? "";
              text = await res.text();
            } catch (err) {
              problems.push(`${method} ${path} (${who}): no answer: ${(err as Error).message}`);
              continue;
            }
            statuses[`${who} ${status}`] = (statuses[`${who} ${status}`] ?? 0) + 1;
            const what = `${method} ${path.slice(0, 80)} (${who}, body ${JSON.stringify((body ?? "").slice(0, 60))})`;
            // Past the body limit Bun itself answers 413, empty, before orch sees the request.
            if (status === 413 && text === "") continue;
            if (status >= 500) problems.push(`${what}: ${status} ${text.slice(0, 200)}`);
            else if (status < 400) problems.push(`${what}: accepted (${status}) ${text.slice(0, 200)}`);
            else if (who !== "program" && status !== 403 && !(who === "null-origin" && status === 403)) problems.push(`${what}: a browser without a right got ${status}, not 403`);
            else if (!contentType.startsWith("application/json") || typeof JSON.parse(text).error !== "string") problems.push(`${what}: not a JSON error: ${contentType} ${text.slice(0, 200)}`);
            if (problems.length > 20) return;
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(rnd.fork())));
        expect((await fetch(`${server.url}/health`)).status).toBe(200);
        const code = await server.stop();
        const stacks = server.stderr.lines.filter((l) => /^\s+at |Error:/.test(l));
        console.error(`fuzz-writes: ${sent} requests, ${JSON.stringify(statuses)}${FULL ? " [full]" : ""}`);
        expect(problems).toEqual([]);
        expect(stacks).toEqual([]);
        expect(code).toBe(0);
        expect(await facts(dir, db)).toBe(before);
      }),
    size(120_000, 900_000),
  );
});
