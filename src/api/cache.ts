/**
 * Serialised responses kept until the database changes. Each request reads the change token
 * (≈2 µs: data_version + total_changes, so commits by any process or by this one count) and only
 * rebuilds when it moved — a monitor polling /api/streams costs a lookup, not 100 rows of
 * Drizzle mapping and JSON.stringify. Answers never go stale: the token is checked every time.
 */
export class ResponseCache {
  #token: string | undefined;
  readonly #entries = new Map<string, string>();
  #chars = 0;

  constructor(
    private readonly readToken: () => string,
    /** Bound on the text kept (a 10k-task list is ≈4 M characters). */
    private readonly maxChars = 32 * 1024 * 1024,
  ) {}

  /** The JSON text for `key`, built with `build()` only when missing or when the database changed. */
  json(key: string, build: () => unknown): string {
    // Token before build: a commit during build leaves the old token, so the next request rebuilds.
    const token = this.readToken();
    if (token !== this.#token) {
      this.#entries.clear();
      this.#chars = 0;
      this.#token = token;
    }
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    const text = JSON.stringify(build());
    if (text.length <= this.maxChars) {
      for (const [k, v] of this.#entries) {
        if (this.#chars + text.length <= this.maxChars) break;
        this.#entries.delete(k); // oldest first (Map keeps insertion order)
        this.#chars -= v.length;
      }
      this.#entries.set(key, text);
      this.#chars += text.length;
    }
    return text;
  }

  get size(): number {
    return this.#entries.size;
  }
}
