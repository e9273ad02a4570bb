/**
 * The shared API port (`orch mcp` sessions with HTTP_API_PORT): real processes contend for one
 * port; a waiting one stays quiet while an orch on the same database holds it, and takes it over
 * when that process exits.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { probePortHolder, serveApiWhileAlive } from "../../src/api/shared-port.ts";
import { readEnv } from "../../src/config.ts";
import { openStore } from "../../src/db/client.ts";
import { openTestStore } from "../backend.ts";
import { createTask } from "../../src/core/index.ts";
import { cleanEnv, tempDir, tempStore } from "../helpers.ts";
import { freePort } from "../net.ts";

const fixture = join(import.meta.dir, "..", "fixtures", "shared-api.ts");

interface Holder {
  proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  states: string[];
  stderr: () => string;
  until(state: string, ms?: number): Promise<void>;
}
const procs: Holder[] = [];
afterEach(() => {
  for (const h of procs.splice(0)) h.proc.kill();
});


function holder(db: string, port: number, env: Record<string, string> = {}): Holder {
  const proc = Bun.spawn([process.execPath, fixture, db], {
    env: cleanEnv({ HTTP_API_PORT: String(port), HTTP_API_HOST: "127.0.0.1", ...env }),
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  const states: string[] = [];
  let err = "";
  let wake = () => {};
  void (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += dec.decode(chunk);
      let i: number;
      while ((i = buf.indexOf("\n")) !== -1) {
        states.push((JSON.parse(buf.slice(0, i)) as { state: string }).state);
        buf = buf.slice(i + 1);
        wake();
      }
    }
    wake();
  })();
  void (async () => {
    for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk);
  })();
  const h: Holder = {
    proc,
    states,
    stderr: () => err,
    async until(state, ms = 8000) {
      const deadline = Date.now() + ms;
      while (!states.includes(state)) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`never reached "${state}": ${states.join(",")} ${err}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
    },
  };
  procs.push(h);
  return h;
}

async function health(port: number) {
  return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { service: string; dbId: string };
}

describe("serveApiWhileAlive across processes", () => {
  test("a second orch on the same database waits quietly and takes the port over when the first exits", async () => {
    const db = join(tempDir(), "tasks.db");
    await (await openTestStore(db)).close(); // create it once, so both processes open the same file
    const port = freePort();
    const a = holder(db, port);
    await a.until("serving");
    expect(a.stderr()).toBe(`HTTP server listening on 127.0.0.1:${port}\n`);
    const id = (await health(port)).dbId;

    const b = holder(db, port);
    await b.until("waiting");
    // Its probe answered: a same-database holder is not worth a word.
    await b.until("probed:same-orch");
    expect(b.stderr()).toBe("");

    a.proc.kill("SIGTERM");
    await a.proc.exited;
    await b.until("serving");
    expect(b.stderr()).toBe(`HTTP server listening on 127.0.0.1:${port} (taken over from an orch that exited)\n`);
    expect((await health(port)).dbId).toBe(id);
    // The API keeps serving data written by anyone to that database.
    const w = await openTestStore(db);
    await createTask(w, { id: "TASK-1", title: "after the hand-over", metadata: { streamId: "Stream-A" } });
    await w.close();
    const streams = (await (await fetch(`http://127.0.0.1:${port}/api/streams`)).json()) as { totalStreams: number };
    expect(streams.totalStreams).toBe(1);
  }, 20_000);

  test("the holder's session ending (stdin closed) hands the port over too", async () => {
    const db = join(tempDir(), "tasks.db");
    await (await openTestStore(db)).close();
    const port = freePort();
    const a = holder(db, port);
    await a.until("serving");
    const b = holder(db, port);
    await b.until("waiting");
    a.proc.stdin.end();
    expect(await a.proc.exited).toBe(0);
    await b.until("serving");
  }, 20_000);

  test("an orch on another database, or another program, holding the port: one line, then it waits", async () => {
    const port = freePort();
    const mine = join(tempDir(), "mine.db");
    const theirs = join(tempDir(), "theirs.db");
    await (await openTestStore(mine)).close();
    await (await openTestStore(theirs)).close();
    const other = holder(theirs, port);
    await other.until("serving");
    const b = holder(mine, port);
    await b.until("waiting");
    const line = `orch: HTTP API port 127.0.0.1:${port} is served by an orch on another database; will serve this one when the port is free\n`;
    const deadline = Date.now() + 5000;
    while (b.stderr() !== line && Date.now() < deadline) await Bun.sleep(20);
    expect(b.stderr()).toBe(line);
    other.proc.kill();
    await b.until("serving");

    const port2 = freePort();
    const foreign = Bun.serve({ hostname: "127.0.0.1", port: port2, fetch: () => Response.json({ status: "ok" }) });
    try {
      const c = holder(mine, port2);
      await c.until("waiting");
      const line2 = `orch: HTTP API port 127.0.0.1:${port2} is in use by another program; will serve the API when it is free\n`;
      const d2 = Date.now() + 5000;
      while (c.stderr() !== line2 && Date.now() < d2) await Bun.sleep(20);
      expect(c.stderr()).toBe(line2);
      foreign.stop(true);
      await c.until("serving");
    } finally {
      foreign.stop(true);
    }
  }, 30_000);
});

describe("serveApiWhileAlive in process", () => {
  test("non-loopback without a token: refused with one line, nothing bound, nothing thrown", async () => {
    const lines: string[] = [];
    const h = await serveApiWhileAlive(await tempStore(), readEnv({ HTTP_API_HOST: "0.0.0.0", HTTP_API_PORT: "0" }), { log: (l) => lines.push(l), mainBranch: null });
    expect(h.state).toBe("refused");
    expect(h.port).toBeUndefined();
    expect(lines).toEqual([expect.stringMatching(/^orch: HTTP API not started: refusing to serve on 0\.0\.0\.0 without ORCH_API_TOKEN/)]);
    h.stop();
    expect(h.state).toBe("refused");
  });

  test("free port: serves at once; stop() frees it", async () => {
    const lines: string[] = [];
    const port = freePort();
    const h = await serveApiWhileAlive(await tempStore(), readEnv({ HTTP_API_PORT: String(port) }), { log: (l) => lines.push(l), mainBranch: null });
    expect(h.state).toBe("serving");
    expect(h.port).toBe(port);
    expect((await health(port)).service).toBe("orch");
    h.stop();
    expect(h.state).toBe("stopped");
    expect(await fetch(`http://127.0.0.1:${port}/health`).then(() => "answered", () => "refused")).toBe("refused");
  });

  test("probePortHolder tells the three cases apart", async () => {
    const s = await tempStore();
    const port = freePort();
    expect(await probePortHolder("127.0.0.1", port, "x")).toBe("other"); // nobody there
    const h = await serveApiWhileAlive(s, readEnv({ HTTP_API_PORT: String(port) }), { log: () => {}, mainBranch: null });
    const { dbId } = await health(port);
    expect(await probePortHolder("127.0.0.1", port, dbId)).toBe("same-orch");
    expect(await probePortHolder("localhost", port, "another-db")).toBe("other-orch");
    h.stop();
  });
});
