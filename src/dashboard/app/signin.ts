/**
 * Signing a browser in on a server with an API token (beyond loopback): the token is sent once,
 * as a bearer header, to POST /api/session, which answers with an HttpOnly session cookie. The
 * token is not stored by the page — not in localStorage, not in the URL — only the cookie stays.
 */
import { h } from "./dom.ts";

/** How a 401 from the API says this browser can get a session: the token, or orch serve's one-time link. */
export type SignIn = "token" | "link";

/** The `signIn` hint of a 401 answer, if it has one. */
export async function signInHint(res: Response): Promise<SignIn | null> {
  if (res.status !== 401) return null;
  try {
    const body = (await res.clone().json()) as { signIn?: unknown };
    return body.signIn === "token" || body.signIn === "link" ? body.signIn : null;
  } catch {
    return null;
  }
}

let typed = "";
let failure: string | null = null;
let busy = false;

/**
 * The form (#signin: input#signin-token, button#signin-submit, #signin-error). `rerender` draws
 * the page again (busy, errors); `signedIn` is called once the cookie is set.
 */
export function signInForm(rerender: () => void, signedIn: () => void): HTMLElement {
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || !typed.trim()) return;
    busy = true;
    failure = null;
    rerender();
    try {
      const res = await fetch("/api/session", { method: "POST", credentials: "same-origin", headers: { authorization: `Bearer ${typed.trim()}` } });
      if (res.ok) {
        typed = "";
        signedIn();
      } else failure = res.status === 401 || res.status === 403 ? "That is not this server's token (ORCH_API_TOKEN)." : `Sign-in failed: HTTP ${res.status}.`;
    } catch {
      failure = "The server did not answer; is orch serve still running?";
    } finally {
      busy = false;
      rerender();
    }
  };
  return h(
    "form",
    { id: "signin", onsubmit: submit },
    h("h1", {}, "Sign in"),
    h("p", {}, "This orch serve needs its API token (ORCH_API_TOKEN). It is sent once; the browser keeps a session cookie until the server stops."),
    h("label", { for: "signin-token" }, "API token"),
    h("input", {
      id: "signin-token",
      type: "password",
      autocomplete: "current-password",
      value: typed,
      oninput: (e) => (typed = (e.target as HTMLInputElement).value),
    }),
    h("button", { id: "signin-submit", type: "submit", disabled: busy }, busy ? "Signing in…" : "Sign in"),
    failure ? h("p", { id: "signin-error", role: "alert" }, failure) : null,
  );
}
