/**
 * Knowing who holds an API port before trusting it: `/health` answers without a token, says
 * `service: "orch"` and which database it serves (`dbId`), and, given `?challenge=<nonce>`,
 * proves it holds ORCH_API_TOKEN with an HMAC of the nonce. A client sends its token only to a
 * server that proved it holds the same one: a credential never goes to an unidentified peer.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { displayAddress, isLoopbackHost, normalizeHost } from "./address.ts";

export function healthProof(token: string, challenge: string): string {
  return createHmac("sha256", token).update(`orch-health:${challenge}`).digest("hex");
}

export type Peer =
  | { kind: "orch"; dbId: string; version: string | null; /** It proved it holds our token (false when we have none). */ proven: boolean }
  | { kind: "other" }
  | { kind: "down" };

export async function identifyPeer(baseUrl: string, token: string | undefined, timeoutMs = 1000): Promise<Peer> {
  const challenge = randomBytes(16).toString("hex");
  let res: Response;
  try {
    res = await fetch(`${baseUrl.replace(/\/+$/, "")}/health?challenge=${challenge}`, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
  } catch {
    return { kind: "down" };
  }
  let body: { service?: unknown; dbId?: unknown; version?: unknown; proof?: unknown };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    return { kind: "other" };
  }
  if (!res.ok || body?.service !== "orch" || typeof body.dbId !== "string") return { kind: "other" };
  const proven = token !== undefined && typeof body.proof === "string" && sameHex(body.proof, healthProof(token, challenge));
  return { kind: "orch", dbId: body.dbId, version: typeof body.version === "string" ? body.version : null, proven };
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

export type PortHolder = "same-orch" | "other-orch" | "other";

/**
 * Who answers on the port: an orch serving our database, another orch, or something else. The
 * token is never sent: with one configured, the holder must prove it holds the same token.
 */
export async function probePortHolder(host: string, port: number, dbId: string, token?: string): Promise<PortHolder> {
  const h = normalizeHost(host);
  const target = isLoopbackHost(h) || h === "0.0.0.0" || h === "::" ? "127.0.0.1" : h;
  const peer = await identifyPeer(`http://${displayAddress(target, port)}`, token);
  if (peer.kind !== "orch" || (token !== undefined && !peer.proven)) return "other";
  return peer.dbId === dbId ? "same-orch" : "other-orch";
}
