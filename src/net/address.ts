/** Host names and addresses as orch compares and shows them (below every face). */

/** `[::1]` → `::1`, lower-case: Host headers and bind addresses compared on one form. */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase();
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

export function isLoopbackHost(host: string): boolean {
  const h = normalizeHost(host);
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export const displayAddress = (host: string, port: number) => {
  const h = normalizeHost(host);
  return h.includes(":") ? `[${h}]:${port}` : `${h}:${port}`;
};
