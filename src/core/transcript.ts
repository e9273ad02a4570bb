/**
 * What an interactive Claude Code session has spent, read from its transcript (the JSONL file a
 * hook names in `transcript_path`). Each assistant entry carries the API's `message.usage` and
 * `message.model`; one API message is written as several entries (one per content block) with
 * the same `message.id`, so usage is counted once per id.
 *
 * The dollar figure is an estimate from a small price table, as Claude Code's own
 * `total_cost_usd` is: list prices per million tokens, cache writes at the 5-minute rate. It
 * means little to subscription users, which is why the tokens are kept beside it.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

export interface TranscriptUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  costUsd: number;
  /** Distinct API messages counted. */
  messages: number;
  /** Lines passed over because they were longer than MAX_LINE (their usage is not counted). */
  skippedLines: number;
  /** The file was larger than the cap: what lies past it is not counted. */
  truncated: boolean;
}

interface Price {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

/** USD per million tokens (Anthropic's list prices), matched on the model id, first match wins. */
const PRICES: readonly [RegExp, Price][] = [
  [/opus-4-(?:[5-9]|\d{2})|opus-[5-9]/, { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 }],
  [/opus/, { input: 15, output: 75, cacheWrite: 18.75, cacheRead: 1.5 }],
  [/haiku-(?:4|[5-9])/, { input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 }],
  [/haiku/, { input: 0.8, output: 4, cacheWrite: 1, cacheRead: 0.08 }],
];
/** Sonnet's prices: Claude Code's default model, and the estimate for a model not listed. */
const DEFAULT_PRICE: Price = { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 };

export function priceFor(model: string | null): Price {
  const m = (model ?? "").toLowerCase();
  return PRICES.find(([re]) => re.test(m))?.[1] ?? DEFAULT_PRICE;
}

/** A line longer than this (a huge Write in one entry) is skipped rather than parsed. */
export const MAX_LINE = 4 * 1024 * 1024;
/** Read no more than this of one transcript: a hook must stay fast whatever the session did. */
export const MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

interface MessageUsage {
  model: string | null;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** One transcript line → its message id and usage, or null (not an assistant entry with usage). */
export function usageOfLine(line: string): { id: string; usage: MessageUsage } | null {
  // Most lines (tool results, user turns) have no usage: not worth a JSON.parse.
  if (!line.includes('"usage"')) return null;
  let e: unknown;
  try {
    e = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isObject(e) || e.type !== "assistant" || !isObject(e.message) || !isObject(e.message.usage)) return null;
  const m = e.message;
  const u = m.usage as Json;
  const id = typeof m.id === "string" && m.id ? m.id : typeof e.uuid === "string" ? e.uuid : null;
  if (!id) return null;
  return {
    id,
    usage: {
      model: typeof m.model === "string" ? m.model : null,
      input: count(u.input_tokens),
      output: count(u.output_tokens),
      cacheRead: count(u.cache_read_input_tokens),
      cacheWrite: count(u.cache_creation_input_tokens),
    },
  };
}

/** Sums a transcript's lines, fed in order. */
export function transcriptAccumulator() {
  const byId = new Map<string, MessageUsage>();
  let skippedLines = 0;
  return {
    line(text: string): void {
      const hit = usageOfLine(text);
      if (!hit) return;
      // Entries of one message repeat its usage; a later one may carry the final output count.
      const prior = byId.get(hit.id);
      byId.set(
        hit.id,
        prior
          ? { model: hit.usage.model ?? prior.model, input: Math.max(prior.input, hit.usage.input), output: Math.max(prior.output, hit.usage.output), cacheRead: Math.max(prior.cacheRead, hit.usage.cacheRead), cacheWrite: Math.max(prior.cacheWrite, hit.usage.cacheWrite) }
          : hit.usage,
      );
    },
    skipped(): void {
      skippedLines++;
    },
    result(truncated = false): TranscriptUsage {
      const total: TranscriptUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, costUsd: 0, messages: byId.size, skippedLines, truncated };
      for (const u of byId.values()) {
        const p = priceFor(u.model);
        total.inputTokens += u.input;
        total.outputTokens += u.output;
        total.cacheReadTokens += u.cacheRead;
        total.cacheCreationTokens += u.cacheWrite;
        total.costUsd += (u.input * p.input + u.output * p.output + u.cacheRead * p.cacheRead + u.cacheWrite * p.cacheWrite) / 1e6;
      }
      total.costUsd = Math.round(total.costUsd * 1e6) / 1e6;
      return total;
    },
  };
}

/** Usage of transcript text already in memory (tests, small inputs). */
export function transcriptUsage(text: string): TranscriptUsage {
  const acc = transcriptAccumulator();
  for (const l of text.split("\n")) {
    if (l.length > MAX_LINE) acc.skipped();
    else acc.line(l);
  }
  return acc.result();
}

export class TranscriptUnreadable extends Error {
  constructor(readonly path: string, why: string) {
    super(`transcript ${path}: ${why}`);
    this.name = "TranscriptUnreadable";
  }
}

/**
 * Read a transcript file in chunks, at most `maxBytes`, never holding more than one line (up to
 * MAX_LINE) and one chunk. Only a regular file is read: a hook payload could name a FIFO or a
 * device, which would block or never end.
 */
export function readTranscriptUsage(path: string, maxBytes = MAX_TRANSCRIPT_BYTES): TranscriptUsage {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new TranscriptUnreadable(path, (err as NodeJS.ErrnoException).code ?? "cannot open");
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new TranscriptUnreadable(path, "not a regular file");
    return { ...readLines(fd, maxBytes), truncated: st.size > maxBytes };
  } finally {
    closeSync(fd);
  }
}

function readLines(fd: number, maxBytes: number): TranscriptUsage {
  const acc = transcriptAccumulator();
  const buf = Buffer.alloc(1024 * 1024);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  let total = 0;
  const endLine = (tail: Buffer) => {
    if (skipping || pendingBytes + tail.length > MAX_LINE) acc.skipped();
    else acc.line(Buffer.concat([...pending, tail]).toString("utf8"));
    pending = [];
    pendingBytes = 0;
    skipping = false;
  };
  for (;;) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, maxBytes - total), null);
    if (n <= 0) break;
    total += n;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1 && nl < n; nl = buf.indexOf(10, start)) {
      endLine(buf.subarray(start, nl));
      start = nl + 1;
    }
    if (start < n && !skipping) {
      pending.push(Buffer.from(buf.subarray(start, n)));
      pendingBytes += n - start;
      // Too long to parse: drop what is held and skip to the line's end.
      if (pendingBytes > MAX_LINE) {
        pending = [];
        pendingBytes = 0;
        skipping = true;
      }
    }
    if (total >= maxBytes) return acc.result(); // the cut line is not counted
  }
  if (pendingBytes || skipping) endLine(Buffer.alloc(0));
  return acc.result();
}
