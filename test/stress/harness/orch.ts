/** Shared bits for the stress suites: a clean environment, `orch serve` on port 0, lines of a child. */
import type { Subprocess } from "bun";
import { cleanEnv, orchBin } from "../../helpers.ts";

export { cleanEnv, orchBin };

/** Lines of a readable stream, as they arrive; `lines` keeps them all. */
export class LineReader {
  readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  ended = false;
  constructor(stream: ReadableStream<Uint8Array>) {
    void (async () => {
      const dec = new TextDecoder();
      let buf = "";
      for await (const chunk of stream) {
        buf += dec.decode(chunk, { stream: true });
        for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
          this.lines.push(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
        this.wake();
      }
      if (buf) this.lines.push(buf);
      this.ended = true;
      this.wake();
    })().catch(() => {
      this.ended = true;
      this.wake();
    });
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  get text() {
    return this.lines.join("\n");
  }
  async until(pred: (lines: string[]) => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.lines)) {
      if (this.ended) throw new Error(`output ended before ${what}: ${this.text.slice(-1500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}: ${this.text.slice(-1500)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

export interface Served {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  stderr: LineReader;
  stop(): Promise<number>;
}

/** `orch serve --port 0` on a database; resolves once it prints its listening line. */
export async function serve(db: string, opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Served> {
  const proc = Bun.spawn([orchBin(), "serve", "--db", db, "--port", "0"], {
    cwd: opts.cwd,
    env: cleanEnv(opts.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderr = new LineReader(proc.stderr);
  await stderr.until((l) => l.some((x) => x.startsWith("HTTP server listening on ")), 15_000, "orch serve to listen");
  const addr = stderr.lines.find((x) => x.startsWith("HTTP server listening on "))!.slice("HTTP server listening on ".length).split(" ")[0]!;
  return {
    proc,
    url: `http://${addr}`,
    stderr,
    async stop() {
      proc.kill("SIGTERM");
      return await proc.exited;
    },
  };
}
