/**
 * Newline-delimited input, read from the moment `orch mcp` starts (before the SDK is even
 * loaded), queued until a consumer attaches. Nothing here imports the SDK, so starting to read
 * costs nothing; no line can be lost to a listener attached late.
 */

/** `null` stands for a line longer than the limit (its text was dropped, not buffered). */
export type Line = string | null;

export interface LineHandlers {
  line(line: Line): void;
  end(): void;
}

export interface LineFeed {
  /** Deliver queued lines (synchronously) and every later one; then `end` once. */
  attach(handlers: LineHandlers): void;
  /** Stop reading (the process is leaving). */
  stop(): void;
}

/** Splits chunks into lines (`\n`, optional `\r`); pure apart from its own buffer. */
export class LineSplitter {
  private partial = "";
  private overflow = false;
  private readonly decoder = new TextDecoder();

  constructor(private readonly maxLine: number) {}

  push(chunk: Uint8Array, emit: (line: Line) => void): void {
    let text = this.decoder.decode(chunk, { stream: true });
    for (;;) {
      const nl = text.indexOf("\n");
      if (nl === -1) break;
      const piece = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (this.overflow || this.partial.length + piece.length > this.maxLine) emit(null);
      else emit(stripCr(this.partial + piece));
      this.partial = "";
      this.overflow = false;
    }
    if (this.overflow) return;
    if (this.partial.length + text.length > this.maxLine) {
      this.partial = "";
      this.overflow = true;
    } else this.partial += text;
  }

  /** At end of input, an unterminated last line still counts (`printf '{…}' | orch mcp`). */
  finish(emit: (line: Line) => void): void {
    const rest = this.partial + this.decoder.decode();
    if (this.overflow) emit(null);
    else if (rest.trim()) emit(stripCr(rest));
    this.partial = "";
    this.overflow = false;
  }
}

const stripCr = (s: string) => (s.endsWith("\r") ? s.slice(0, -1) : s);

/** 64 MiB: far above any real request (a PRD is capped at 2 MB), low enough to bound memory. */
export const MAX_LINE_CHARS = 64 * 1024 * 1024;

export function readLines(stream: ReadableStream<Uint8Array>, maxLine = MAX_LINE_CHARS): LineFeed {
  const queue: Line[] = [];
  let ended = false;
  let handlers: LineHandlers | undefined;
  const splitter = new LineSplitter(maxLine);
  const emit = (line: Line) => (handlers ? handlers.line(line) : queue.push(line));
  const reader = stream.getReader();
  let stopped = false;

  const finish = () => {
    if (ended) return;
    ended = true;
    handlers?.end();
  };

  (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || stopped) break;
        splitter.push(value, emit);
      }
    } catch {
      // A read error is the end of input for us (the client is gone).
    }
    if (!stopped) splitter.finish(emit);
    finish();
  })();

  return {
    attach(h) {
      handlers = h;
      for (const l of queue.splice(0)) h.line(l);
      if (ended) h.end();
    },
    stop() {
      stopped = true;
      reader.cancel().catch(() => {});
    },
  };
}
