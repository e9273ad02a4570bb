/**
 * Serialised responses kept until the database changes. Each request reads the store's change
 * token (on SQLite one pragma, ≈1 µs; commits by any process or by this one count) and only
 * rebuilds when it moved — a monitor polling /api/streams costs a lookup, not 100 rows of
 * Drizzle mapping and JSON.stringify. Answers never go stale: the token is checked every time.
 * Bodies are kept as UTF-8 bytes: re-encoding a 50 kB string per request cost ≈15 % of throughput.
 */
const encoder = new TextEncoder();

export class ResponseCache {
  #token: string | undefined;
  readonly #entries = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(
    private readonly readToken: () => Promise<string>,
    /** Bound on the bytes kept (a 10k-task list is ≈4 MB). */
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  /** The JSON body for `key`, built with `build()` only when missing or when the database changed. */
  async json(key: string, build: () => unknown): Promise<Uint8Array> {
    // Token before build: a commit during build leaves the old token, so the next request rebuilds.
    const token = await this.readToken();
    if (token !== this.#token) {
      this.#entries.clear();
      this.#bytes = 0;
      this.#token = token;
    }
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    const body = encoder.encode(JSON.stringify(await build()));
    // Another request may have seen a newer token while this one built: keep only a current body.
    if (token !== this.#token) return body;
    if (body.length <= this.maxBytes) {
      for (const [k, v] of this.#entries) {
        if (this.#bytes + body.length <= this.maxBytes) break;
        this.#entries.delete(k); // oldest first (Map keeps insertion order)
        this.#bytes -= v.length;
      }
      this.#entries.set(key, body);
      this.#bytes += body.length;
    }
    return body;
  }

  get size(): number {
    return this.#entries.size;
  }
}
