/**
 * `orch mcp` with HTTP_API_PORT set (the guide's .mcp.json): the first session serves the REST
 * API, a second waits quietly, and takes the port over when the first session ends.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanEnv, orchBin, runOrch, tempDir } from "../helpers.ts";
import { freePort } from "../net.ts";


function session(env: Record<string, string>) {
  const p = Bun.spawn([orchBin(), "mcp"], { env: cleanEnv(env), stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  let stderr = "";
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  (async () => {
    const dec = new TextDecoder();
    for await (const chunk of p.stderr) {
      stderr += dec.decode(chunk, { stream: true });
      for (const w of waiters.splice(0)) (w.re.test(stderr) ? w.resolve() : waiters.push(w));
    }
  })();
  return {
    proc: p,
    stderr: () => stderr,
    logged: (re: RegExp) => new Promise<void>((resolve) => (re.test(stderr) ? resolve() : waiters.push({ re, resolve }))),
  };
}

async function health(port: number) {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return (await res.json()) as { status: string; service: string };
}

describe("orch mcp serves the API (HTTP_API_PORT)", () => {
  test("first session serves; the second takes over when the first exits; the API survives", async () => {
    const db = join(tempDir(), "tasks.db");
    const port = freePort();
    const env = { ORCH_DB: db, HTTP_API_PORT: String(port), HTTP_API_HOST: "127.0.0.1" };
    const first = session(env);
    await first.logged(/HTTP server listening on 127\.0\.0\.1:\d+/);
    expect(await health(port)).toMatchObject({ status: "ok", service: "orch" });

    const second = session(env);
    await second.logged(/serving /);
    // The second session is an MCP server like any other, without the port.
    expect(second.stderr()).not.toContain("HTTP server listening");

    await runOrch(["task", "create", "--title", "t", "--stream", "S"], { env: { ORCH_DB: db } });
    first.proc.stdin.end(); // the agent session that started the API ends
    expect(await first.proc.exited).toBe(0);
    await second.logged(/HTTP server listening on .*taken over/);
    const streams = (await (await fetch(`http://127.0.0.1:${port}/api/streams`)).json()) as { totalStreams: number };
    expect(streams.totalStreams).toBe(1);

    second.proc.kill("SIGTERM");
    expect(await second.proc.exited).toBe(0);
  }, 30_000);

  test("without HTTP_API_PORT nothing is bound", async () => {
    const db = join(tempDir(), "tasks.db");
    const s = session({ ORCH_DB: db });
    await s.logged(/serving /);
    s.proc.stdin.end();
    expect(await s.proc.exited).toBe(0);
    expect(s.stderr()).not.toContain("HTTP server");
  });
});
