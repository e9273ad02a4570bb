/**
 * Named API tokens for a team's `orch serve`, beside ORCH_API_TOKEN: created, listed and revoked
 * by name; only their sha256 is stored, so the database (shared by the team) never holds a token
 * a request could present. A token is shown once, when it is created.
 */
import { createHash, randomBytes } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { apiTokens, type ApiTokenRow } from "../db/schema.ts";
import { conflict, invalidInput, notFound } from "../errors.ts";

/** A token's name: what requests are attributed to. */
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Named tokens start so: recognisable in a leaked log or a secret scanner. */
export const TOKEN_PREFIX = "orch_";

export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");

export type TokenInfo = Omit<ApiTokenRow, "hash">;

function checkName(name: string): void {
  if (!TOKEN_NAME.test(name)) throw invalidInput(`token name "${name.slice(0, 80)}" must be 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`);
}

/** A new token named `name`; its value is returned this once and never stored. */
export async function createToken(store: Store, name: string, machine: string): Promise<{ name: string; token: string }> {
  checkName(name);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  await store.tx(async (db) => {
    if ((await db.select({ name: apiTokens.name }).from(apiTokens).where(eq(apiTokens.name, name))).length)
      throw conflict(`a token named ${name} exists already: revoke it first (orch token revoke ${name})`);
    await db.insert(apiTokens).values({ name, hash: hashToken(token), createdAt: store.now(), createdOn: machine, lastUsedAt: null });
  });
  return { name, token };
}

export async function listTokens(store: Store): Promise<TokenInfo[]> {
  const rows = await store.db.select().from(apiTokens).orderBy(asc(apiTokens.createdAt), asc(apiTokens.name));
  return rows.map(({ hash: _hash, ...info }) => info);
}

export async function revokeToken(store: Store, name: string): Promise<void> {
  const gone = await store.tx((db) => db.delete(apiTokens).where(eq(apiTokens.name, name)).returning({ name: apiTokens.name }));
  if (!gone.length) throw notFound(`no token named ${name.slice(0, 80)} (orch token list shows them)`);
}

/** The name of the token whose hash is `hash`, or null (revoked, or never made). */
export async function tokenNameByHash(store: Store, hash: string): Promise<string | null> {
  return (await store.db.select({ name: apiTokens.name }).from(apiTokens).where(eq(apiTokens.hash, hash)))[0]?.name ?? null;
}

/** Whether any named token exists (a server with one requires a token). */
export async function hasNamedTokens(store: Store): Promise<boolean> {
  return (await store.db.select({ name: apiTokens.name }).from(apiTokens).limit(1)).length > 0;
}

/** Note that a token was used (the API does it at most once a minute per token). */
export async function touchToken(store: Store, name: string): Promise<void> {
  await store.tx((db) => db.update(apiTokens).set({ lastUsedAt: store.now() }).where(eq(apiTokens.name, name)));
}
