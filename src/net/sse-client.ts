/**
 * A minimal Server-Sent Events reader for fetch responses (the monitor, tests and the bench read
 * /api/events with it). Follows the WHATWG parsing rules that matter here: `id`, `event`,
 * `data` (joined by newlines), comments, CRLF or LF line ends, dispatch on a blank line.
 */
export interface SseMessage {
  event: string;
  data: string;
  /** The last `id:` seen so far (what a reconnect sends as Last-Event-ID). */
  id: string | undefined;
}

export type SseItem = { type: "message"; message: SseMessage } | { type: "comment"; text: string };

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseItem> {
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let lastId: string | undefined;
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r\n|\n|\r/)) !== -1) {
        if (nl === buffer.length - 1 && buffer.endsWith("\r")) break; // maybe half of a CRLF: wait
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (data.length) yield { type: "message", message: { event: event || "message", data: data.join("\n"), id: lastId } };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) {
          yield { type: "comment", text: line.slice(1).trimStart() };
          continue;
        }
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id" && !value.includes("\u0000")) lastId = value;
      }
    }
  } finally {
    // Leaving the loop (break, return, throw) ends the stream: the connection closes.
    await reader.cancel().catch(() => {});
  }
}

/** Only the messages. */
export async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  for await (const item of readSse(body)) if (item.type === "message") yield item.message;
}
