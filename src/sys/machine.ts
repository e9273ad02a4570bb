/**
 * Which machine this process runs on, for facts that only mean something there (a pid, a
 * worktree's absolute path, a session's transcript file) once several machines share one
 * database. The host name for people, and a hash of the OS's machine id so two hosts both called
 * "localhost" (containers, CI runners) stay apart: "name/1a2b3c4d". `ORCH_MACHINE` names it
 * instead (a team's machines by the names people use; several "machines" on one box in tests).
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

let cached: string | undefined;

function osMachineId(): string {
  for (const file of ["/etc/machine-id", "/var/lib/dbus/machine-id"]) {
    try {
      const id = readFileSync(file, "utf8").trim();
      if (id) return id;
    } catch {
      // not there (macOS, a minimal container): the next, then the host name alone
    }
  }
  return "";
}

/** What ORCH_MACHINE may be: a short name, as it is shown and compared. */
export const MACHINE_NAME = /^[A-Za-z0-9._/-]{1,64}$/;

export function machineId(): string {
  if (cached) return cached;
  const named = process.env.ORCH_MACHINE?.trim();
  // An unusable name is refused where the environment is read (config.ts readEnv): here, ignored.
  if (named && MACHINE_NAME.test(named)) return (cached = named);
  const name = hostname().replace(/[^A-Za-z0-9._-]/g, "").slice(0, 64) || "host";
  const tag = new Bun.CryptoHasher("sha256").update(`${osMachineId()}\n${hostname()}`).digest("hex").slice(0, 8);
  return (cached = `${name}/${tag}`);
}

/** Is a fact recorded on `host` this machine's? A fact with no host predates the column: taken as local. */
export const isThisMachine = (host: string | null | undefined): boolean => host == null || host === machineId();
