/**
 * PostgreSQL refuses the NUL character in text and jsonb alike; SQLite stores it. Agent output
 * can hold one, so on PostgreSQL it is replaced where text enters the store (U+FFFD, the
 * replacement character) instead of failing the write.
 */
const NUL = /\u0000/g;

/** Also given null (a prepared query's placeholder encodes through the column): passed on as it is. */
export const withoutNul = <T>(s: T): T => (typeof s === "string" && s.includes("\u0000") ? (s.replace(NUL, "\uFFFD") as T) : s);

/** The same through a JSON value: strings and object keys. */
export function jsonWithoutNul(value: unknown): unknown {
  if (typeof value === "string") return withoutNul(value);
  if (Array.isArray(value)) return value.map(jsonWithoutNul);
  if (value && typeof value === "object" && value.constructor === Object) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[withoutNul(k)] = jsonWithoutNul(v);
    return out;
  }
  return value;
}
