/**
 * PostgreSQL connection URLs: recognised, checked and redacted without loading any driver, so
 * the command line can tell `--db postgres://…` from a SQLite path on every start for free.
 * The password never leaves this module in a message: everything shown goes through redactUrl.
 */
import { usageError } from "../errors.ts";

const SCHEME = /^postgres(?:ql)?:\/\//i;

/** `postgres://…` or `postgresql://…` (any case): a PostgreSQL database rather than a SQLite file path. */
export function isPostgresUrl(s: string): boolean {
  return SCHEME.test(s.trim());
}

/** A query parameter's name, %-escapes decoded (a driver decodes them: p%61ssword is password). */
function paramName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll("+", " "));
  } catch {
    return name;
  }
}

/** Query parameters that carry a secret (password=, sslpassword=, …), however their names are spelled. */
const isSecretParam = (name: string) => /pass/i.test(paramName(name));
const PARAM = /([?&])([^=&#]*)=([^&#]*)/g;

/** The values of the URL's secret query parameters, decoded (to scrub from messages). */
function secretParams(url: string): string[] {
  const out: string[] = [];
  for (const m of url.matchAll(PARAM)) if (isSecretParam(m[2]!)) out.push(m[3]!, paramName(m[3]!));
  return out;
}

/**
 * The URL with the reserved characters of its user info %-escaped: a password pasted as it is
 * (base64 holds `/`) must not end the authority early and be read as a host or port. The user
 * info ends at the last `@`.
 */
function escapeUserInfo(raw: string): string {
  const start = raw.indexOf("//") + 2;
  const at = raw.lastIndexOf("@");
  if (start < 2 || at < start) return raw;
  return raw.slice(0, start) + raw.slice(start, at).replace(/[/?#@[\]]/g, (c) => encodeURIComponent(c)) + raw.slice(at);
}

/**
 * The URL with its password (and any password-like query parameter) replaced by `***`; the rest is
 * kept as written. Works on malformed URLs too, erring towards hiding more: everything between
 * the user name's `:` and the last `@` is hidden.
 */
export function redactUrl(s: string): string {
  let out = s;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(out);
  if (scheme) {
    const start = scheme[0].length;
    const at = out.lastIndexOf("@");
    if (at > start) {
      const colon = out.indexOf(":", start);
      if (colon !== -1 && colon < at) out = `${out.slice(0, colon + 1)}***${out.slice(at)}`;
    }
  }
  return out.replace(PARAM, (m, sep: string, name: string) => (isSecretParam(name) ? `${sep}${name}=***` : m));
}

/** Every postgres:// URL inside a longer text, redacted. */
export function redactUrlsIn(text: string): string {
  return text.replace(/postgres(?:ql)?:\/\/\S+/gi, (u) => redactUrl(u));
}

export interface PgTarget {
  /** The URL as given: only for the driver, never for a message. */
  readonly url: string;
  /** The URL with the password hidden: the one to show. */
  readonly safe: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** "" when the URL names none (the driver then falls back to PGUSER, then the login name). */
  readonly user: string;
  /** The password (decoded), for scrubbing driver messages; "" when none was given. */
  readonly secret: string;
}

const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/**
 * Check a PostgreSQL URL before any connection: `postgres://[user[:password]@]host[:port][/database][?params]`.
 * Throws a usage error (exit 2), one line with the URL redacted, for anything malformed.
 */
export function parsePostgresUrl(input: string): PgTarget {
  const safe = redactUrl(input.trim());
  const raw = escapeUserInfo(input.trim());
  const bad = (why: string) => usageError(`invalid PostgreSQL URL ${safe}: ${why} (expected postgres://user:password@host:port/database)`);
  if (!isPostgresUrl(raw)) throw bad("it must start with postgres:// or postgresql://");
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) throw bad("it contains spaces or control characters");
  // The port first, by hand: URL parsers reject a bad one without saying why.
  const authority = raw.slice(raw.indexOf("//") + 2).split(/[/?#]/, 1)[0]!;
  const hostPort = authority.slice(authority.lastIndexOf("@") + 1);
  const portText = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPort)?.[1];
  let port = 5432;
  if (portText !== undefined && portText !== "") {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) throw bad(`port "${portText}" is not a number from 1 to 65535`);
    port = Number(portText);
  }
  if (!hostPort.replace(/:.*$/, "")) throw bad("it names no host");
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw bad("it cannot be parsed");
  }
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw bad(`its ${what} has a malformed %-escape`);
    }
  };
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw bad("it names no host");
  const path = u.pathname.replace(/^\//, "");
  if (path.includes("/")) throw bad("the database name is one path segment");
  const user = decode(u.username, "user name");
  const secret = decode(u.password, "password");
  const database = decode(path, "database name") || user || "postgres";
  if (Buffer.byteLength(database) > 63) throw bad("the database name is longer than 63 bytes");
  const sslmode = u.searchParams.get("sslmode");
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) throw bad(`sslmode "${sslmode}" is not one of ${SSL_MODES.join(", ")}`);
  return { url: raw, safe, host, port, database, user, secret };
}

/** A driver's message made safe to show: one line, no password, no unredacted URL. */
export function scrubMessage(message: string, target: Pick<PgTarget, "secret" | "url">): string {
  let out = redactUrlsIn(message.replaceAll(target.url, redactUrl(target.url)));
  // Servers never echo the password, but a driver might: hide it wherever it appears (short
  // secrets would also hide ordinary words, and ≤ 2 characters are no secret worth the noise).
  for (const s of new Set([target.secret, encodeURIComponent(target.secret), ...secretParams(target.url)])) {
    if (s.length >= 3) out = out.replaceAll(s, "***");
  }
  return out.replace(/\s*\n\s*/g, " ").trim();
}
