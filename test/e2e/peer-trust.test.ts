/**
 * No credential goes to an unidentified peer, and a port held by another project's orch is not
 * taken for this project's API: the compiled binary against real servers on loopback.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { healthProof, identifyPeer } from "../../src/net/peer.ts";
import { chooseSource } from "../../src/watch/source.ts";
import { cleanEnv, orchBin, runOrch, tempDir, until } from "../helpers.ts";
import { freePort } from "./start-helpers.ts";

const TOKEN = "s3cret-token-for-tests";

/** A server that is not orch, or pretends to be one: records every Authorization it is sent. */
function impostor(claimOrch: boolean) {
  const seen: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      seen.push(req.headers.get("authorization") ?? "");
      const url = new URL(req.url);
      if (url.pathname === "/health" && claimOrch) return Response.json({ status: "ok", service: "orch", version: "9.9.9", dbId: "feedfeedfeedfeed", proof: "00" });
      if (url.pathname === "/api/events") return new Response("", { headers: { "content-type": "text/event-stream" } });
      return Response.json({ streams: [], totalStreams: 0, activities: [], tasks: [] });
    },
  });
  return { port: server.port!, seen, stop: () => server.stop(true) };
}

async function serve(db: string, port: number, token?: string) {
  const p = Bun.spawn([orchBin(), "serve", "--port", String(port)], {
    env: cleanEnv({ ORCH_DB: db, ...(token ? { ORCH_API_TOKEN: token } : {}) }),
    stdout: "ignore",
    stderr: "pipe",
  });
  const t0 = Date.now();
  while (Date.now() - t0 < 10_000) {
    if ((await identifyPeer(`http://127.0.0.1:${port}`, undefined)).kind === "orch") return p;
    await Bun.sleep(30);
  }
  p.kill();
  throw new Error("orch serve did not come up");
}

async function seed(db: string, stream: string) {
  const r = await runOrch(["task", "create", "--id", `${stream}-1`, "--title", "t", "--stream", stream, "--phase", "foundation"], { env: { ORCH_DB: db } });
  expect(r.code).toBe(0);
}

describe("/health identifies the server without a token; ?challenge= proves it holds the token", () => {
  test("the right token is proven, a wrong one is not; the API itself still needs the token", async () => {
    const db = join(tempDir(), "tasks.db");
    await seed(db, "Stream-A");
    const port = freePort();
    const p = await serve(db, port, TOKEN);
    try {
      const url = `http://127.0.0.1:${port}`;
      expect(await identifyPeer(url, TOKEN)).toMatchObject({ kind: "orch", proven: true });
      expect(await identifyPeer(url, "another-token")).toMatchObject({ kind: "orch", proven: false });
      expect((await fetch(`${url}/api/streams`)).status).toBe(401);
      expect(healthProof(TOKEN, "ab")).not.toBe(healthProof("x", "ab"));
    } finally {
      p.kill();
    }
  });
});

describe("the token is never sent to a peer that has not proven it holds it", () => {
  for (const claimOrch of [false, true])
    test(`orch watch and orch mcp against ${claimOrch ? "an impostor claiming to be orch" : "a program that is not orch"} on the API port`, async () => {
      const fake = impostor(claimOrch);
      try {
        const db = join(tempDir(), "tasks.db");
        await seed(db, "Stream-A");
        const env = { ORCH_DB: db, HTTP_API_PORT: String(fake.port), ORCH_API_TOKEN: TOKEN };
        const watch = await runOrch(["watch", "--once"], { env });
        expect(watch.stdout).toContain("Stream-A (foundation)"); // this project's database instead
        const explicit = await runOrch(["watch", "--once", "--api", `http://127.0.0.1:${fake.port}`], { env });
        expect(explicit.code).toBe(1);
        // orch mcp sees the port taken and probes who holds it.
        const before = fake.seen.length;
        const mcp = Bun.spawn([orchBin(), "mcp"], { env: cleanEnv(env), stdin: "pipe", stdout: "ignore", stderr: "pipe" });
        // Its probe of the port's holder is a /health request to the fake.
        await until("orch mcp's probe of the port", () => fake.seen.length > before, 10_000);
        mcp.kill();
        await mcp.exited;
        expect(fake.seen.length).toBeGreaterThan(1);
        expect(fake.seen.filter((a) => a !== "")).toEqual([]);
      } finally {
        fake.stop();
      }
    }, 20_000);
});

describe("orch watch and a port held by another project's orch", () => {
  test("falls back to this project's database and says so", async () => {
    const mine = join(tempDir(), "tasks.db");
    const theirs = join(tempDir(), "tasks.db");
    await seed(mine, "Mine-A");
    await seed(theirs, "Theirs-A");
    const port = freePort();
    const p = await serve(theirs, port);
    try {
      const r = await runOrch(["watch", "--once", "--no-color"], { env: { ORCH_DB: mine, HTTP_API_PORT: String(port), COLUMNS: "120" } });
      expect(r.stdout).toContain("Mine-A (foundation)");
      expect(r.stdout).not.toContain("Theirs-A");
      expect(r.stdout).toContain(`The API at http://127.0.0.1:${port} serves another project's database; showing this project's`);
      // Its own database: the API is used.
      const same = await runOrch(["watch", "--once", "--no-color"], { env: { ORCH_DB: theirs, HTTP_API_PORT: String(port) } });
      expect(same.stdout).toContain("Theirs-A (foundation)");
      expect(same.stdout).not.toContain("[local DB]");
    } finally {
      p.kill();
    }
  });

  test("chooseSource, pure", () => {
    const base = { explicitApi: false, hasToken: false, localDbId: () => "aaaa", url: "http://x" };
    expect(chooseSource({ kind: "down" }, base)).toEqual({ kind: "db" });
    expect(chooseSource({ kind: "other" }, { ...base, explicitApi: true })).toEqual({ kind: "down" });
    expect(chooseSource({ kind: "orch", dbId: "aaaa", version: null, proven: false }, base)).toEqual({ kind: "api" });
    expect(chooseSource({ kind: "orch", dbId: "bbbb", version: null, proven: false }, base).kind).toBe("db");
    expect(chooseSource({ kind: "orch", dbId: "bbbb", version: null, proven: false }, { ...base, explicitApi: true })).toEqual({ kind: "api" });
    expect(chooseSource({ kind: "orch", dbId: "aaaa", version: null, proven: false }, { ...base, hasToken: true }).kind).toBe("db");
    expect(chooseSource({ kind: "orch", dbId: "aaaa", version: null, proven: true }, { ...base, hasToken: true })).toEqual({ kind: "api" });
  });
});
