import { describe, expect, test } from "bun:test";
import { ResponseCache } from "../../src/api/cache.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("ResponseCache", () => {
  test("builds once per database version; a new token drops every entry", async () => {
    let token = "1:0";
    let builds = 0;
    const cache = new ResponseCache(async () => token);
    const build = () => ({ n: ++builds, s: "é" });
    expect(text(await cache.json("a", build))).toBe('{"n":1,"s":"é"}');
    expect(text(await cache.json("a", build))).toBe('{"n":1,"s":"é"}');
    expect(text(await cache.json("b", build))).toBe('{"n":2,"s":"é"}');
    token = "2:0";
    expect(text(await cache.json("a", build))).toBe('{"n":3,"s":"é"}');
    expect(cache.size).toBe(1);
  });

  test("keeps at most maxBytes, evicting the oldest; a body larger than that is served, not kept", async () => {
    const cache = new ResponseCache(async () => "t", 25);
    const body = (n: number) => () => "x".repeat(n); // JSON adds the two quotes
    await cache.json("a", body(8)); // 10 bytes
    await cache.json("b", body(8)); // 20
    await cache.json("c", body(8)); // 30 > 25: "a" goes
    expect(cache.size).toBe(2);
    let rebuilt = false;
    await cache.json("a", () => ((rebuilt = true), "x".repeat(8)));
    expect(rebuilt).toBe(true);
    expect((await cache.json("big", body(100))).length).toBe(102);
    expect(cache.size).toBe(2);
  });
});
