/**
 * PostgreSQL refuses the NUL character in text and jsonb alike, and a lone UTF-16 surrogate (a
 * string cut inside an emoji) in jsonb; SQLite stores both. Agent output can hold either, so on
 * PostgreSQL they are replaced where text enters the store (U+FFFD, the replacement character)
 * instead of failing the write.
 */
const NUL = /\u0000/g;

/** Also given null (a prepared query's placeholder encodes through the column): passed on as it is. */
export const withoutNul = <T>(s: T): T => {
  if (typeof s !== "string") return s;
  const whole = s.isWellFormed() ? s : s.toWellFormed();
  return (whole.includes("\u0000") ? whole.replace(NUL, "\uFFFD") : whole) as T;
};

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
