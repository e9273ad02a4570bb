import { withBackendDb } from "../backend.ts";
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { orchBin, runOrch, tempDir } from "../helpers.ts";
import { hasTmux, TmuxSession } from "../tmux.ts";
import { freePort } from "../net.ts";

let sessions: TmuxSession[] = [];
afterEach(() => {
  for (const s of sessions) s.kill();
  sessions = [];
});

async function seed(db: string) {
  const env = { ORCH_DB: db };
  await runOrch(["task", "create", "--id", "A1", "--title", "Types", "--stream", "Stream-A", "--phase", "foundation"], { env });
  await runOrch(["task", "create", "--id", "A2", "--title", "Provider", "--stream", "Stream-A"], { env });
  await runOrch(["task", "create", "--id", "B1", "--title", "Button", "--stream", "Stream-B", "--phase", "parallel", "--depends", "Stream-A"], { env });
  return env;
}


describe("orch watch --once", () => {
  test("prints one plain frame from the local DB when no API answers", async () => {
    const env = await seed(join(tempDir(), "tasks.db"));
    const r = await runOrch(["watch", "--once"], { env: { ...env, HTTP_API_PORT: String(freePort()) } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[local DB] [Refresh: 5s]");
    expect(r.stdout).toContain("Stream-A (foundation)");
    expect(r.stdout).toContain("⚠ Waiting on: Stream-A");
    expect(r.stdout).not.toContain("\x1b["); // not a terminal: no colour, no cursor control
  });

  test("an explicit --api that is down: the message, exit 1", async () => {
    const url = `http://127.0.0.1:${freePort()}`;
    const r = await runOrch(["watch", "--once", "--api", url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Cannot connect to Task Copilot API at ${url} —`);
  });

  test("bad flags are usage errors", async () => {
    expect(await runOrch(["watch", "--refresh", "soon"])).toMatchObject({
      code: 2,
      stderr: 'orch: flag --refresh must be a whole number from 1 to 3600, not "soon"\n',
    });
    expect((await runOrch(["watch", "--api", "ftp://x"])).code).toBe(2);
  });
});

describe.skipIf(!hasTmux)("orch watch in a terminal (tmux)", () => {
  test("follows a change made by another process, then Ctrl+C restores the screen and exits 0", async () => {
    const env = await seed(join(tempDir(), "tasks.db"));
    const t = TmuxSession.start([orchBin(), "watch", "--refresh", "30"], {
      env: { ...env, HTTP_API_PORT: String(freePort()) },
      width: 90,
    });
    sessions.push(t);
    await t.waitFor((s) => s.includes("Stream-A (foundation)") && s.includes("0.0% (0/2 tasks)"));
    await runOrch(["task", "update", "A1", "--status", "completed"], { env });
    const { screen } = await t.waitFor((s) => s.includes("50.0% (1/2 tasks)"));
    expect(screen).toContain("[local DB]");
    // The box is drawn to the terminal's width.
    expect(screen.split("\n").find((l) => l.startsWith("╔"))!.length).toBe(90);
    t.resize(70, 40);
    await t.waitFor((s) => s.split("\n").find((l) => l.startsWith("╔"))?.length === 70);
    t.sendKeys("C-c");
    await t.waitFor(() => t.exitStatus() !== null);
    expect(t.exitStatus()).toBe(0);
    // Back from the alternate screen: the frame is gone.
    expect(t.capture()).not.toContain("ORCHESTRATION STATUS");
  }, 30_000);
});

describe.skipIf(!hasTmux)("orch watch against a real orch serve (tmux)", () => {
  test("live over SSE; API down → message, keeps trying, recovers by itself", async () => {
    const env = await seed(join(tempDir(), "tasks.db"));
    const port = freePort();
    const serve = () => Bun.spawn([orchBin(), "serve", "--port", String(port)], { env: withBackendDb({ ...env, PATH: process.env.PATH! }), stdout: "pipe", stderr: "pipe" });
    const waitListening = async (p: ReturnType<typeof serve>) => {
      for await (const chunk of p.stderr) if (new TextDecoder().decode(chunk).includes("listening")) return;
    };
    let server = serve();
    await waitListening(server);
    const api = `http://127.0.0.1:${port}`;
    const t = TmuxSession.start([orchBin(), "watch", "--api", api, "--refresh", "30"], { width: 90 });
    sessions.push(t);
    await t.waitFor((s) => s.includes("Stream-A (foundation)") && s.includes("0.0% (0/2 tasks)"));
    expect(t.capture()).not.toContain("[local DB]");

    // A separate process commits; the frame follows the SSE event (no 30 s poll involved).
    await runOrch(["task", "update", "A1", "--status", "in_progress", "--agent", "me"], { env });
    await t.waitFor((s) => s.includes("└─ @agent-me: Types"));
    await runOrch(["task", "update", "A1", "--status", "completed"], { env });
    await t.waitFor((s) => s.includes("50.0% (1/2 tasks)"));

    server.kill("SIGTERM");
    await server.exited;
    await t.waitFor((s) => s.includes(`Cannot connect to Task Copilot API at ${api}`));
    await runOrch(["task", "update", "A2", "--status", "completed"], { env });
    server = serve();
    await waitListening(server);
    const { screen } = await t.waitFor((s) => s.includes("Stream-A (foundation)") && s.includes("✓ COMPLETE"));
    expect(screen).not.toContain("Cannot connect");
    t.sendKeys("C-c");
    await t.waitFor(() => t.exitStatus() !== null);
    expect(t.exitStatus()).toBe(0);
    server.kill("SIGTERM");
    await server.exited;
  }, 60_000);
});
