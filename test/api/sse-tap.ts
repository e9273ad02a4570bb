/** Test helper: read an event stream in the background and await the messages one wants. */
import { readSse, type SseMessage } from "../../src/net/sse-client.ts";

export class SseTap {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  closed = false;
  private waiters: (() => void)[] = [];
  private readonly ac = new AbortController();
  status = 0;

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseTap> {
    const tap = new SseTap();
    const res = await fetch(url, { headers, signal: tap.ac.signal });
    tap.status = res.status;
    void tap.pump(res.body!);
    return tap;
  }

  private async pump(body: ReadableStream<Uint8Array>) {
    try {
      for await (const item of readSse(body)) {
        if (item.type === "message") this.messages.push(item.message);
        else this.comments.push(item.text);
        this.wake();
      }
    } catch {
      // aborted
    }
    this.closed = true;
    this.wake();
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `pred` holds (checked on every message, comment and close); rejects after `ms`. */
  async until(pred: (tap: SseTap) => boolean, ms = 5000, what = "condition"): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages.map((m) => [m.id, m.event]))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  events(kind?: string) {
    return this.messages.filter((m) => (kind ? m.event === kind : m.event !== "snapshot"));
  }

  close() {
    this.ac.abort();
  }
}
