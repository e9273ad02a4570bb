/**
 * Ports for servers the tests start with a port fixed in advance (a child's HTTP_API_PORT). A
 * port found by binding port 0 and letting it go is in the kernel's ephemeral range, where any
 * other socket may be handed it before the server takes it. These come from below that range, a
 * block per test process, each given out once and checked free: nothing else is handed them.
 */
import { readFileSync } from "node:fs";

function ephemeralStart(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 49152; // macOS and the IANA range
  }
}

const BLOCK = 100;
const floor = 20000;
const blocks = Math.max(1, Math.floor((ephemeralStart() - floor) / BLOCK));
let next = floor + (process.pid % blocks) * BLOCK;
const end = next + BLOCK;

function bindable(port: number): boolean {
  try {
    const s = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.stop(true);
    return true;
  } catch {
    return false;
  }
}

export function freePort(): number {
  while (next < end) {
    const port = next++;
    if (bindable(port)) return port;
  }
  throw new Error("test/net.ts: this test process used up its block of ports");
}
