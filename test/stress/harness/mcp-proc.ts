/**
 * A raw JSON-RPC driver for the compiled `orch mcp` (no SDK client: the stress suites send lines
 * the SDK would never produce, and count every line that comes back). Each stdout line is parsed;
 * one that is not JSON is recorded as a protocol violation, never ignored.
 */
import type { Subprocess } from "bun";

export interface RpcMessage {
  jsonrpc?: unknown;
  id?: unknown;
  result?: any;
  error?: { code: number; message: string };
  method?: string;
}

export const INITIALIZE = {
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "orch-stress", version: "0" } },
};

export class McpProc {
  /** Responses by id (JSON-encoded, so 1 and "1" stay apart); a list to catch duplicates. */
  readonly byId = new Map<string, RpcMessage[]>();
  /** Error replies with id null (parse errors, unusable ids). */
  readonly nullId: RpcMessage[] = [];
  /** stdout lines that were not JSON, or JSON that is not a JSON-RPC message. */
  readonly violations: string[] = [];
  received = 0;
  /** stdout has closed: the process is gone (or closed it); nothing more will arrive. */
  ended = false;
  private stderrText = "";
  private waiters: (() => void)[] = [];
  private nextId = 1;
  readonly exited: Promise<number>;

  private constructor(readonly proc: Subprocess<"pipe", "pipe", "pipe">) {
    this.exited = proc.exited;
    void this.pump();
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of proc.stderr) this.stderrText += dec.decode(chunk, { stream: true });
    })();
  }

  static spawn(bin: string, args: string[], opts: { env: Record<string, string>; cwd?: string }): McpProc {
    const proc = Bun.spawn([bin, ...args], { cwd: opts.cwd, env: opts.env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    return new McpProc(proc);
  }

  get pid() {
    return this.proc.pid;
  }

  get stderr() {
    return this.stderrText;
  }

  private async pump() {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of this.proc.stdout) {
      buf += dec.decode(chunk, { stream: true });
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
        this.take(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
    if (buf.trim()) this.take(buf);
    this.ended = true;
    this.wake();
  }

  private take(line: string) {
    let msg: RpcMessage;
    try {
      msg = JSON.parse(line);
    } catch {
      this.violations.push(line.slice(0, 300));
      return this.wake();
    }
    if (typeof msg !== "object" || msg === null || msg.jsonrpc !== "2.0") {
      this.violations.push(line.slice(0, 300));
      return this.wake();
    }
    this.received++;
    if (msg.id === null || msg.id === undefined) {
      if (msg.error) this.nullId.push(msg);
      else if (msg.method === undefined) this.violations.push(line.slice(0, 300));
    } else {
      const key = JSON.stringify(msg.id);
      const list = this.byId.get(key);
      if (list) list.push(msg);
      else this.byId.set(key, [msg]);
    }
    this.wake();
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `pred` holds (checked after every line and at end of output). */
  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (this.ended) throw new Error(`orch mcp (pid ${this.pid}) closed its output while waiting for ${what}; stderr: ${this.stderrText.slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`orch mcp (pid ${this.pid}): timed out after ${ms} ms waiting for ${what}; stderr: ${this.stderrText.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Write raw text (one or more lines, each ending in \n). */
  write(text: string) {
    this.proc.stdin.write(text);
    this.proc.stdin.flush();
  }

  freshId(): number {
    return this.nextId++;
  }

  /** Send a request and await its answer. */
  async request(method: string, params: unknown, ms = 30_000): Promise<RpcMessage> {
    const id = `r${this.freshId()}`;
    const key = JSON.stringify(id);
    this.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) })}\n`);
    await this.until(() => this.byId.has(key), ms, `the answer to ${method} (${id})`);
    return this.byId.get(key)![0]!;
  }

  async initialize(): Promise<void> {
    const r = await this.request(INITIALIZE.method, INITIALIZE.params);
    if (!r.result) throw new Error(`initialize failed: ${JSON.stringify(r)}`);
    this.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  }

  /** Call a tool; returns its text and whether it was an error (a protocol error throws). */
  async call(name: string, args: unknown, ms = 30_000): Promise<{ isError: boolean; text: string }> {
    const r = await this.request("tools/call", { name, arguments: args }, ms);
    if (r.error) throw new Error(`tools/call ${name}: protocol error ${JSON.stringify(r.error)}`);
    return { isError: r.result?.isError === true, text: r.result?.content?.[0]?.text ?? "" };
  }

  closeStdin() {
    try {
      this.proc.stdin.end();
    } catch {
      // already closed
    }
  }

  kill(signal: NodeJS.Signals | number = "SIGKILL") {
    try {
      this.proc.kill(signal);
    } catch {
      // already gone
    }
  }
}
