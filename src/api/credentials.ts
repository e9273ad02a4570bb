/**
 * Which bearer tokens a server takes, and whose each is: ORCH_API_TOKEN (compared in constant
 * time), and the named tokens of `orch token create` (looked up by hash in the database, so a
 * revocation — from any machine sharing it — is honoured within CACHE_MS, without a restart).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { hashToken, tokenNameByHash, touchToken } from "../core/tokens.ts";
import type { Store } from "../db/client.ts";

/** How long a token's lookup is trusted: a revocation takes effect within this. */
export const CACHE_MS = 2000;
/** How often a token's last use is written (not on every request). */
const TOUCH_MS = 60_000;
/** What requests with ORCH_API_TOKEN are attributed to. */
export const ENV_TOKEN_NAME = "ORCH_API_TOKEN";

export interface Credentials {
  /** Requests need a token: ORCH_API_TOKEN is set, or named tokens existed when the server started. */
  readonly required: boolean;
  /** Who holds `bearer` (a token's name, or ENV_TOKEN_NAME), or null when nobody does. */
  identify(bearer: string): Promise<string | null>;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export function createCredentials(store: Store, envToken: string | undefined, named: boolean, now: () => number = Date.now): Credentials {
  const want = envToken ? digest(envToken) : undefined;
  const seen = new Map<string, { name: string | null; at: number }>();
  const touched = new Map<string, number>();
  return {
    required: want !== undefined || named,
    async identify(bearer) {
      if (want && timingSafeEqual(digest(bearer), want)) return ENV_TOKEN_NAME;
      if (!named) return null;
      const hash = hashToken(bearer);
      let hit = seen.get(hash);
      if (!hit || now() - hit.at > CACHE_MS) {
        hit = { name: await tokenNameByHash(store, hash), at: now() };
        // Bounded: garbage tokens must not grow it for ever.
        if (seen.size > 1000) seen.clear();
        seen.set(hash, hit);
      }
      if (hit.name && now() - (touched.get(hit.name) ?? 0) > TOUCH_MS) {
        touched.set(hit.name, now());
        void touchToken(store, hit.name).catch(() => {});
      }
      return hit.name;
    },
  };
}

/** The token in an `Authorization: Bearer …` header, or null. */
export function bearerOf(header: string | undefined): string | null {
  return /^Bearer[ ]+(.+)$/i.exec((header ?? "").trim())?.[1] ?? null;
}
