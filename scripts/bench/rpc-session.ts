/**
 * A lean JSON-RPC client for one `orch mcp` process, for load measurements: the bench shares the
 * machine with the servers it measures, so the driver does as little as it can per call — one
 * write, one JSON.parse of the answer, a resolver looked up by id. (test/stress/harness/mcp-proc.ts
 * is the careful one: it records every line, duplicate and violation; the suites use that.)
 */
import type { Subprocess } from "bun";
import { INITIALIZE } from "../../test/stress/harness/mcp-proc.ts";

interface Answer {
  id?: unknown;
  result?: { isError?: boolean; content?: { text?: string }[] };
  error?: { code: number; message: string };
}

export class RpcSession {
  private readonly pending = new Map<number, { resolve(a: Answer): void; reject(e: Error): void }>();
  private nextId = 1;
  private stderrText = "";
  readonly exited: Promise<number>;

  private constructor(private readonly proc: Subprocess<"pipe", "pipe", "pipe">) {
    this.exited = proc.exited;
    void this.pump();
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of proc.stderr) this.stderrText = (this.stderrText + dec.decode(chunk, { stream: true })).slice(-4000);
    })();
  }

  static spawn(bin: string, args: string[], env: Record<string, string>): RpcSession {
    return new RpcSession(Bun.spawn([bin, ...args], { env, stdin: "pipe", stdout: "pipe", stderr: "pipe" }));
  }

  private async pump() {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of this.proc.stdout) {
      buf += dec.decode(chunk, { stream: true });
      let start = 0;
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n", start)) {
        const answer = JSON.parse(buf.slice(start, nl)) as Answer;
        start = nl + 1;
        const waiter = typeof answer.id === "number" ? this.pending.get(answer.id) : undefined;
        if (!waiter) throw new Error(`orch mcp sent an answer nobody asked for: ${JSON.stringify(answer).slice(0, 300)}`);
        this.pending.delete(answer.id as number);
        waiter.resolve(answer);
      }
      buf = buf.slice(start);
    }
    const gone = new Error(`orch mcp (pid ${this.proc.pid}) closed its output; stderr: ${this.stderrText}`);
    for (const w of this.pending.values()) w.reject(gone);
    this.pending.clear();
  }

  request(method: string, params: unknown): Promise<Answer> {
    const id = this.nextId++;
    const answer = new Promise<Answer>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.proc.stdin.write(`{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}\n`);
    this.proc.stdin.flush();
    return answer;
  }

  async initialize(): Promise<void> {
    const r = await this.request(INITIALIZE.method, INITIALIZE.params);
    if (!r.result) throw new Error(`initialize failed: ${JSON.stringify(r)}`);
    this.proc.stdin.write(`{"jsonrpc":"2.0","method":"notifications/initialized"}\n`);
    this.proc.stdin.flush();
  }

  /** Calls a tool; true when it answered with isError. A protocol error throws. */
  async call(name: string, args: unknown): Promise<boolean> {
    const r = await this.request("tools/call", { name, arguments: args });
    if (r.error) throw new Error(`tools/call ${name}: protocol error ${JSON.stringify(r.error)}`);
    return r.result?.isError === true;
  }

  close(): void {
    try {
      this.proc.stdin.end();
    } catch {
      // already closed
    }
  }
}
