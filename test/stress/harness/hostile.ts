/**
 * Hostile values for the fuzzers: path traversal, shell and SQL metacharacters, control and
 * astral characters, wrong types, huge and deep values. Every generator takes the suite's seeded
 * Random, so a failing case replays from its seed.
 */
import type { Random } from "./prng.ts";

/** Strings that must never become a path, a branch, a command or SQL. */
export const HOSTILE_IDS = [
  "",
  " ",
  ".",
  "..",
  "../",
  "../../../../../../etc/passwd",
  "..\\..\\windows\\system32",
  "/etc/passwd",
  "/tmp/orch-pwned",
  "~/.ssh/id_rsa",
  "a/../../b",
  "Stream-A/../../../pwned",
  "Stream-A/..",
  "%2e%2e%2fpwned",
  "..%2F..%2Fpwned",
  "%00",
  "x\u0000y",
  "\u0000",
  "line\nbreak",
  "tab\there",
  "-rf",
  "--help",
  "--upload-pack=touch /tmp/orch-pwned",
  "-D",
  "$(touch orch-pwned)",
  "`touch orch-pwned`",
  "a;touch orch-pwned",
  "a|b",
  "'; DROP TABLE tasks; --",
  '" OR 1=1 --',
  "<script>alert(1)</script>",
  "{{7*7}}",
  "${PATH}",
  "CON",
  "aux.txt",
  ".git",
  ".git/config",
  "HEAD",
  "refs/heads/main",
  "@{-1}",
  "a..b",
  "a.lock",
  "stream.",
  "Stream-Ω",
  "😀",
  "\u202Egnp.exe",
  "\uFEFFStream-A",
  "A".repeat(129),
  "A".repeat(5000),
];

/** Values of the wrong type for a string field, and odd shapes. */
export const WRONG_TYPES: unknown[] = [null, 0, -1, 1.5, 1e308, -0, true, false, [], [1, 2], {}, { a: 1 }, [null], { "": "" }];

export function randomUnicode(rnd: Random, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) {
    const r = rnd.next();
    if (r < 0.6) s += String.fromCharCode(0x20 + rnd.int(0x5f));
    else if (r < 0.75) s += String.fromCharCode(rnd.int(0x20)); // control characters
    else if (r < 0.9) s += String.fromCharCode(0xa0 + rnd.int(0x2000));
    else s += String.fromCodePoint(0x1f300 + rnd.int(0x300));
  }
  return s;
}

/** A string that may be anything: hostile, random unicode, huge. */
export function hostileString(rnd: Random): string {
  const r = rnd.next();
  if (r < 0.45) return rnd.pick(HOSTILE_IDS);
  if (r < 0.8) return randomUnicode(rnd, rnd.range(0, 40));
  if (r < 0.97) return randomUnicode(rnd, rnd.range(100, 3000));
  return "x".repeat(rnd.range(100_000, 300_000)); // past every field's limit
}

/** Nested arrays/objects `depth` deep. */
export function deep(depth: number, kind: "array" | "object" = "array"): unknown {
  let v: unknown = "bottom";
  for (let i = 0; i < depth; i++) v = kind === "array" ? [v] : { d: v };
  return v;
}

/** Any JSON value, hostile more often than not. */
export function hostileValue(rnd: Random, depth = 0): unknown {
  const r = rnd.next();
  if (r < 0.4) return hostileString(rnd);
  if (r < 0.6) return rnd.pick(WRONG_TYPES);
  if (r < 0.7 && depth < 3) return Array.from({ length: rnd.int(4) }, () => hostileValue(rnd, depth + 1));
  if (r < 0.8 && depth < 3) {
    const o: Record<string, unknown> = {};
    for (let i = rnd.int(4); i > 0; i--) o[rnd.chance(0.5) ? rnd.pick(HOSTILE_IDS) : randomUnicode(rnd, 6)] = hostileValue(rnd, depth + 1);
    return o;
  }
  if (r < 0.83) return deep(rnd.range(50, 3000), rnd.chance(0.5) ? "array" : "object");
  if (r < 0.9) return rnd.int(2 ** 31) * (rnd.chance(0.5) ? -1 : 1);
  return rnd.pick(["pending", "in_progress", "blocked", "completed", "cancelled", "done", "foundation", "parallel", "technical_design"]);
}
