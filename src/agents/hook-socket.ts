/**
 * Where a session's `orch mcp` takes its hooks' events: a Unix socket beside the database, named
 * after the Claude Code process both are children of. A hook that hands its event to the open
 * server skips opening the database (most of its cost); one that finds nobody writes directly.
 */
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { isPostgresUrl, redactUrl } from "../db/pg-url.ts";

/** Events that answer Claude Code or read a transcript go the full way, never through the socket. */
export const FULL_EVENTS: ReadonlySet<string> = new Set(["PermissionRequest", "Stop", "SessionEnd"]);

/** Unix socket paths are short (104 bytes on macOS, 108 on Linux): past that, no socket. */
const MAX_SOCKET_PATH = 100;

/**
 * `db` is what ORCH_DB holds (Store.location): a file, whose folder holds the sockets, or a
 * shared server's URL, whose sockets live on this machine in a folder named by a hash of the URL
 * without its password (the same from the server and its hooks, revealing nothing).
 */
export function hookSocketPath(db: string, claudePid: number, home: string = homedir()): string | null {
  const dir = isPostgresUrl(db)
    ? join(home, ".claude", "tasks", `pg-${new Bun.CryptoHasher("sha256").update(redactUrl(db)).digest("hex").slice(0, 12)}`)
    : dirname(db);
  const path = join(dir, "hooks", `${claudePid}.sock`);
  return path.length <= MAX_SOCKET_PATH ? path : null;
}

/** One event on the socket: the payload as Claude Code sent it, and what the hook knew besides. */
export interface RelayedEvent {
  /** The database the hook would write (its ORCH_DB, or its default file): a server holding another one refuses the event. */
  db: string;
  payload: unknown;
  env: { ORCH_STREAM_ID?: string; ORCH_LAUNCHER?: string };
  pid: number | null;
}

export const ACK = "ok\n";
export const NACK = "no\n";
