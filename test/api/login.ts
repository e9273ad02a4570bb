/** Log a test "browser" in through the one-time link, as a person would: the cookie header to send back. */
import { dashboardLoginUrl } from "../../src/api/browser-auth.ts";
import type { ApiServer } from "../../src/api/server.ts";

export async function loginCookie(api: ApiServer): Promise<string> {
  const r = await fetch(dashboardLoginUrl(api), { redirect: "manual" });
  if (r.status !== 303) throw new Error(`login failed: ${r.status}`);
  const set = r.headers.get("set-cookie") ?? "";
  return set.split(";")[0]!;
}
