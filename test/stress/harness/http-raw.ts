/**
 * A raw HTTP/1.1 client over a TCP socket: the request target goes out byte for byte (fetch would
 * normalise `..`, re-encode `%zz` and refuse odd methods, which is exactly what a fuzzer must send).
 * One request per connection (`Connection: close`); an event stream is cut after its headers.
 */

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The connection ended without a complete status line. */
  broken: boolean;
}

function parse(raw: Buffer, eventStreamCut: boolean): RawResponse {
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const head = end === -1 ? text : text.slice(0, end);
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!m) return { status: 0, headers: {}, body: text, broken: true };
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let bodyBytes = end === -1 ? Buffer.alloc(0) : raw.subarray(Buffer.byteLength(text.slice(0, end + 4), "latin1"));
  if (!eventStreamCut && headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const nl = bodyBytes.indexOf("\r\n", at);
      if (nl === -1) break;
      const n = Number.parseInt(bodyBytes.subarray(at, nl).toString("latin1"), 16);
      if (!Number.isFinite(n) || n === 0) break;
      parts.push(bodyBytes.subarray(nl + 2, nl + 2 + n));
      at = nl + 2 + n + 2;
    }
    bodyBytes = Buffer.concat(parts);
  }
  return { status: Number(m[1]), headers, body: bodyBytes.toString("utf8"), broken: false };
}

/** Send `method target` with extra header lines; resolves with the parsed answer. */
export function rawRequest(port: number, method: string, target: string, extraHeaders: string[] = [], timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let done = false;
    let cut = false;
    const finish = (socket?: { end(): void }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        socket?.end();
      } catch {
        // already closed
      }
      resolve(parse(Buffer.concat(chunks), cut));
    };
    const timer = setTimeout(() => {
      if (!done) {
        done = true;
        reject(new Error(`no answer within ${timeoutMs} ms to ${method} ${target.slice(0, 200)}`));
      }
    }, timeoutMs);
    const hasHost = extraHeaders.some((h) => /^host:/i.test(h));
    const request = [`${method} ${target} HTTP/1.1`, ...(hasHost ? [] : [`Host: 127.0.0.1:${port}`]), "Connection: close", ...extraHeaders, "", ""].join("\r\n");
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          socket.write(request);
        },
        data(socket, data) {
          chunks.push(Buffer.from(data));
          // An event stream never ends by itself: its headers are all we judge.
          const sofar = Buffer.concat(chunks).toString("latin1");
          if (/\r\ncontent-type: text\/event-stream/i.test(sofar) && sofar.includes("\r\n\r\n")) {
            cut = true;
            finish(socket);
          }
        },
        close() {
          finish();
        },
        end(socket) {
          finish(socket);
        },
        error() {
          finish();
        },
        connectError(_socket, err) {
          if (!done) {
            done = true;
            clearTimeout(timer);
            reject(err);
          }
        },
      },
    }).catch((err) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}
