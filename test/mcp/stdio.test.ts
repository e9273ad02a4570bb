import { describe, expect, test } from "bun:test";
import { LineSplitter, readLines, type Line } from "../../src/mcp/lines.ts";
import { CallToolRequestSchema, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { GuardedStdioTransport, screenLine, type Verdict } from "../../src/mcp/stdio.ts";

const enc = new TextEncoder();
const errorOf = (v: Verdict) => ("reply" in v ? { id: v.reply.id, code: v.reply.error.code } : v);

describe("screenLine", () => {
  test("a valid request, notification and response pass through untouched", () => {
    const req = { jsonrpc: "2.0", id: 1, method: "tools/list" };
    expect(screenLine(JSON.stringify(req))).toEqual({ message: req as never });
    const note = { jsonrpc: "2.0", method: "notifications/initialized" };
    expect(screenLine(JSON.stringify(note))).toEqual({ message: note as never });
    const res = { jsonrpc: "2.0", id: "s-1", result: {} };
    expect(screenLine(JSON.stringify(res))).toEqual({ message: res as never });
    const call = { jsonrpc: "2.0", id: "a", method: "tools/call", params: { name: "task_get", arguments: { id: "T1" } } };
    expect(screenLine(`${JSON.stringify(call)}   `)).toEqual({ message: call as never, toolCall: true });
    // With _meta it is no plain tool call: the SDK gets it (and checks it).
    const withMeta = { ...call, params: { ...call.params, _meta: { progressToken: 1 } } };
    expect(screenLine(JSON.stringify(withMeta))).toEqual({ message: withMeta as never });
  });

  test("malformed JSON: -32700 with id null", () => {
    for (const line of ["garbage", "{", '{"jsonrpc":"2.0","id":1,"method":"ping"', "\u0000", "nul"]) {
      const v = screenLine(line);
      expect(errorOf(v)).toEqual({ id: null, code: -32700 });
      expect((v as any).reply.error.message).toStartWith("Parse error: ");
    }
  });

  test("not a JSON-RPC object: -32600 with id null", () => {
    for (const line of ["42", '"hello"', "null", "true", "[]", '[{"jsonrpc":"2.0","id":1,"method":"ping"}]', "{}"])
      expect(errorOf(screenLine(line))).toEqual({ id: null, code: -32600 });
    expect((screenLine("[]") as any).reply.error.message).toBe("Invalid Request: batches are not supported");
  });

  test("invalid requests keep their id when it is usable", () => {
    expect(errorOf(screenLine('{"jsonrpc":"1.0","id":7,"method":"ping"}'))).toEqual({ id: 7, code: -32600 });
    expect(errorOf(screenLine('{"id":7,"method":"ping"}'))).toEqual({ id: 7, code: -32600 });
    expect(errorOf(screenLine('{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}'))).toEqual({ id: null, code: -32600 });
    expect(errorOf(screenLine('{"jsonrpc":"2.0","id":1.5,"method":"ping"}'))).toEqual({ id: null, code: -32600 });
    expect(errorOf(screenLine('{"jsonrpc":"2.0","id":null,"method":"ping"}'))).toEqual({ id: null, code: -32600 });
    expect(errorOf(screenLine('{"jsonrpc":"2.0","id":8,"method":5}'))).toEqual({ id: 8, code: -32600 });
    expect(errorOf(screenLine('{"jsonrpc":"2.0","id":9}'))).toEqual({ id: 9, code: -32600 });
    expect(errorOf(screenLine('{"jsonrpc":"2.0","id":10,"method":"ping","extra":1}'))).toEqual({ id: 10, code: -32600 });
  });

  test("params that are not an object: -32602 with the request's id", () => {
    for (const params of ['"x"', "1", "null", "[1,2]", "true"]) {
      const v = screenLine(`{"jsonrpc":"2.0","id":"r1","method":"tools/call","params":${params}}`);
      expect(v).toEqual({ reply: { jsonrpc: "2.0", id: "r1", error: { code: -32602, message: "Invalid params: params must be an object" } } });
    }
  });

  test("params of a handled method are checked against the SDK's schema: -32602", () => {
    const v = screenLine('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":5}}');
    expect(v).toEqual({ reply: { jsonrpc: "2.0", id: 3, error: { code: -32602, message: "Invalid params: params.name: Invalid input: expected string, received number" } } });
    expect(errorOf(screenLine('{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"x","arguments":[1]}}'))).toEqual({ id: 4, code: -32602 });
    expect(errorOf(screenLine('{"jsonrpc":"2.0","id":5,"method":"initialize","params":{}}'))).toEqual({ id: 5, code: -32602 });
    // An unknown method passes: the SDK answers it with -32601.
    expect("message" in screenLine('{"jsonrpc":"2.0","id":6,"method":"nope/nope","params":{}}')).toBe(true);
  });

  test("broken notifications and responses are dropped, never answered", () => {
    expect(screenLine('{"jsonrpc":"2.0","method":"notifications/initialized","params":"x"}')).toEqual({
      drop: "notification notifications/initialized with non-object params dropped",
    });
    expect("drop" in screenLine('{"jsonrpc":"2.0","method":7}')).toBe(true);
    expect("drop" in screenLine('{"jsonrpc":"2.0","id":1,"result":5}')).toBe(true);
    expect(screenLine("")).toEqual({ drop: null });
    expect(screenLine("   \t")).toEqual({ drop: null });
  });

  test("an oversized line is refused", () => {
    expect(errorOf(screenLine(null))).toEqual({ id: null, code: -32600 });
  });

  test("tools/call, recognised without zod, passes exactly when the SDK's own schemas accept it", () => {
    const ids = [1, 0, -3, "r1", "", 1.5, 2 ** 53, null, true, {}, [1]];
    const names = ["task_update", "", 5, null, undefined];
    const argss = [undefined, {}, { id: "T1", notes: "n" }, [1], "x", null, 7];
    const extrasTop = [{}, { extra: 1 }];
    const extrasParams = [{}, { _meta: { progressToken: 1 } }, { _meta: 5 }, { other: true }, { task: { ttl: 1 } }];
    let checked = 0;
    for (const id of ids)
      for (const name of names)
        for (const args of argss)
          for (const top of extrasTop)
            for (const more of extrasParams) {
              const params: Record<string, unknown> = { ...more };
              if (name !== undefined) params.name = name;
              if (args !== undefined) params.arguments = args;
              const msg = { jsonrpc: "2.0", id, method: "tools/call", params, ...top };
              const sdkAccepts = CallToolRequestSchema.safeParse(msg).success && JSONRPCMessageSchema.safeParse(msg).success;
              const v = screenLine(JSON.stringify(msg));
              expect({ msg, passed: "message" in v }).toEqual({ msg, passed: sdkAccepts });
              checked++;
            }
    expect(checked).toBe(ids.length * names.length * argss.length * extrasTop.length * extrasParams.length);
  });

  test("fuzz: every line gets exactly one verdict; every request with a usable id is answered or passed", () => {
    const pieces = ['{"jsonrpc":"2.0"', ',"id":1', ',"id":"x"', ',"method":"ping"', ',"method":"tools/call"', ',"params":', '{"name":"task_get"}', '"s"', "[", "]", "}", "null", "0", ",", ":", '"', "\\", "\u00e9", "\u{1F600}"];
    let seed = 12345;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    for (let i = 0; i < 5000; i++) {
      let line = "";
      const len = 1 + rnd(8);
      for (let j = 0; j < len; j++) line += pieces[rnd(pieces.length)];
      const v = screenLine(line);
      const kinds = ["message", "reply", "drop"].filter((k) => k in v);
      expect(kinds).toHaveLength(1);
      let parsed: any;
      try {
        parsed = JSON.parse(line);
      } catch {
        expect(errorOf(v)).toEqual({ id: null, code: -32700 });
        continue;
      }
      const isRequest = parsed && typeof parsed === "object" && !Array.isArray(parsed) && "method" in parsed && (typeof parsed.id === "string" || Number.isInteger(parsed.id));
      if (isRequest) expect("drop" in v).toBe(false);
    }
  });
});

describe("LineSplitter", () => {
  const split = (chunks: (string | Uint8Array)[], max = 1000) => {
    const s = new LineSplitter(max);
    const out: Line[] = [];
    for (const c of chunks) s.push(typeof c === "string" ? enc.encode(c) : c, (l) => out.push(l));
    s.finish((l) => out.push(l));
    return out;
  };

  test("lines across chunks, CRLF, a final line without newline", () => {
    expect(split(['{"a":', '1}\n{"b"', ":2}\r\n", "last"])).toEqual(['{"a":1}', '{"b":2}', "last"]);
    expect(split(["\n\n"])).toEqual(["", ""]);
  });

  test("a multi-byte character split between chunks survives", () => {
    const bytes = enc.encode('{"t":"é😀"}\n');
    expect(split([bytes.subarray(0, 7), bytes.subarray(7, 9), bytes.subarray(9)])).toEqual(['{"t":"é😀"}']);
  });

  test("a line over the limit becomes null; the next line is fine", () => {
    expect(split(["x".repeat(20), "y".repeat(20), "\nok\n"], 30)).toEqual([null, "ok"]);
    expect(split(["x".repeat(31) + "\nok\n"], 30)).toEqual([null, "ok"]);
    expect(split(["x".repeat(40)], 30)).toEqual([null]);
  });
});

describe("readLines and the transport", () => {
  function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
    return new ReadableStream({
      start(c) {
        for (const x of chunks) c.enqueue(enc.encode(x));
        c.close();
      },
    });
  }

  test("lines read before anyone attaches are queued, then delivered in order, then end", async () => {
    const feed = await readLines(streamOf(["a\nb", "\nc\n"]));
    await Bun.sleep(1);
    const seen: (Line | "END")[] = [];
    feed.attach({ line: (l) => seen.push(l), end: () => seen.push("END") });
    await Bun.sleep(1);
    expect(seen).toEqual(["a", "b", "c", "END"]);
  });

  test("the transport answers garbage itself, hands requests to the SDK, and tracks unanswered ones", async () => {
    const written: string[] = [];
    const feed = await readLines(streamOf(['garbage\n{"jsonrpc":"2.0","id":1,"method":"ping"}\n{"jsonrpc":"2.0","method":"notifications/initialized"}\n']));
    const t = new GuardedStdioTransport(feed, { write: (s) => written.push(s) });
    const got: unknown[] = [];
    let ended = false;
    t.onmessage = (m) => got.push(m);
    t.onend = () => (ended = true);
    await t.start();
    await Bun.sleep(1);
    expect(written).toEqual(['{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: JSON Parse error: Unexpected identifier \\"garbage\\""}}\n']);
    expect(got).toHaveLength(2);
    expect(ended).toBe(true);
    let idle = false;
    const waiting = t.whenIdle(5000).then(() => (idle = true));
    await Bun.sleep(1);
    expect(idle).toBe(false); // request 1 not answered yet
    await t.send({ jsonrpc: "2.0", id: 1, result: {} });
    await waiting;
    expect(written[1]).toBe('{"jsonrpc":"2.0","id":1,"result":{}}\n');
  });

  test("a plain tools/call is answered by callTool, not the SDK: results, thrown errors as JSON-RPC errors, and whenIdle waits for it", async () => {
    const written: string[] = [];
    const lines = [
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "ok", arguments: { x: 1 } } },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "nope" } },
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "ok", _meta: { progressToken: "p" } } },
    ];
    const feed = await readLines(streamOf([lines.map((l) => JSON.stringify(l)).join("\n") + "\n"]));
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const t = new GuardedStdioTransport(feed, {
      write: (s) => written.push(s),
      async callTool(p) {
        await gate;
        if (p.name !== "ok") throw Object.assign(new Error(`Unknown tool: ${p.name}`), { code: -32602 });
        return { content: [{ type: "text", text: JSON.stringify(p.arguments) }] };
      },
    });
    const sdk: unknown[] = [];
    t.onmessage = (m) => sdk.push(m);
    await t.start();
    await Bun.sleep(1);
    expect(sdk).toEqual([lines[2]]);
    let idle = false;
    const waiting = t.whenIdle(5000).then(() => (idle = true));
    release();
    await Bun.sleep(5);
    expect(idle).toBe(false); // request 3 is the SDK's, not answered yet
    expect(written.map((w) => JSON.parse(w))).toEqual([
      { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: '{"x":1}' }] } },
      { jsonrpc: "2.0", id: 2, error: { code: -32602, message: "Unknown tool: nope" } },
    ]);
    await t.send({ jsonrpc: "2.0", id: 3, result: { content: [] } });
    await waiting;
  });
});
