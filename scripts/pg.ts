/**
 * A throwaway PostgreSQL for the tests: `initdb` + `pg_ctl` in a temporary folder, listening on
 * 127.0.0.1 on a free port (and a unix socket in that folder, never /var/run), password login
 * (scram-sha-256) over TCP so the tests can also try a wrong password. Durability is off (fsync,
 * synchronous_commit, full_page_writes): the cluster is deleted when the run ends.
 *
 * - `ORCH_TEST_PG_URL` already set: that server is used as it is and nothing is started or stopped.
 * - Binaries: `initdb`/`pg_ctl` on PATH, else `PG_BIN`, else the newest /usr/lib/postgresql/<ver>/bin
 *   (Debian's layout), else `pg_config --bindir`. None: `startTestPostgres()` answers null.
 * - As root, initdb and pg_ctl run as the `postgres` user (`runuser -u postgres --`), which is given
 *   the folder; as anyone else they run directly.
 * - A folder records the pid that owns its cluster; a later start stops and deletes the clusters of
 *   owners that have died (a run killed with -9 leaves no server behind for long).
 *
 * Command line:
 *   bun scripts/pg.ts start [--owner PID]  prints ORCH_TEST_PG_URL=… and ORCH_TEST_PG_DIR=… and leaves it running
 *                                          (owned by PID, default the calling process)
 *   bun scripts/pg.ts stop DIR             stops that cluster and deletes its folder
 *   bun scripts/pg.ts run -- CMD ARGS…     starts one, runs CMD with ORCH_TEST_PG_URL set, stops it, exits as CMD did
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PREFIX = "orch-pgcluster-";

export interface TestPostgres {
  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres (a superuser, the maintenance database). */
  readonly url: string;
  /** The cluster's folder, or null for a server this script did not start. */
  readonly dir: string | null;
  /** Stops and deletes what this script started; nothing for a server given by ORCH_TEST_PG_URL. */
  stop(): Promise<void>;
  /** Restarts the server (pg_ctl restart -m fast): every connection is dropped. Only for a cluster this script started. */
  restart?(): void;
}

/** The folder holding initdb and pg_ctl, or null when this machine has no PostgreSQL server binaries. */
export function findPgBin(): string | null {
  const has = (dir: string) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"));
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && has(fromEnv)) return fromEnv;
  const initdb = Bun.which("initdb");
  if (initdb) {
    const dir = join(initdb, "..");
    if (has(dir)) return dir;
  }
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (has(join(debian, v, "bin"))) return join(debian, v, "bin");
  }
  const pgConfig = Bun.which("pg_config");
  if (pgConfig) {
    const p = Bun.spawnSync([pgConfig, "--bindir"], { stdout: "pipe", stderr: "ignore" });
    const dir = p.stdout.toString().trim();
    if (p.exitCode === 0 && dir && has(dir)) return dir;
  }
  return null;
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** uid and gid of a user, from `id`. */
function userIds(name: string): { uid: number; gid: number } | null {
  const u = Bun.spawnSync(["id", "-u", name], { stdout: "pipe", stderr: "ignore" });
  const g = Bun.spawnSync(["id", "-g", name], { stdout: "pipe", stderr: "ignore" });
  if (u.exitCode !== 0 || g.exitCode !== 0) return null;
  return { uid: Number(u.stdout.toString().trim()), gid: Number(g.stdout.toString().trim()) };
}

function run(cmd: string[], what: string): string {
  const p = Bun.spawnSync(cmd, {
    stdout: "pipe",
    stderr: "pipe",
    // postgres refuses to start with some inherited locales; C is always there.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", LANG: "C", TZ: "UTC" },
  });
  const out = p.stdout.toString() + p.stderr.toString();
  if (p.exitCode !== 0) throw new Error(`${what} failed (exit ${p.exitCode}): ${out.trim().split("\n").slice(-5).join(" | ")}`);
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Stop (immediately) and delete the cluster in `dir`. */
function stopCluster(bin: string, dir: string, asUser: string[], mode: "fast" | "immediate" = "fast"): void {
  const data = join(dir, "data");
  if (existsSync(join(data, "postmaster.pid"))) {
    try {
      run([...asUser, join(bin, "pg_ctl"), "-D", data, "-m", mode, "-w", "-t", "30", "stop"], "pg_ctl stop");
    } catch {
      // already stopped, or never fully started: the folder goes anyway
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Clusters left by runs whose owner died (killed before their cleanup ran). */
function reapOrphans(bin: string, asUser: string[]): void {
  const base = tmpdir();
  for (const name of readdirSync(base)) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(base, name);
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(dir, "owner"), "utf8").trim());
    } catch {
      continue; // not ours to judge (or still being created)
    }
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) stopCluster(bin, dir, asUser, "immediate");
  }
}

export interface StartOptions {
  /** The pid whose death makes the cluster an orphan (default: this process). */
  owner?: number;
  /** Start a cluster of its own even when ORCH_TEST_PG_URL names a server (a test that restarts it). */
  own?: boolean;
}

/**
 * The PostgreSQL the tests use: ORCH_TEST_PG_URL when set, else a fresh cluster started here, or
 * null when there are no server binaries. Throws when binaries exist but the cluster cannot start.
 */
export async function startTestPostgres(opts: StartOptions = {}): Promise<TestPostgres | null> {
  const given = opts.own ? undefined : process.env.ORCH_TEST_PG_URL;
  if (given) return { url: given, dir: null, stop: async () => {} };
  const bin = findPgBin();
  if (!bin) return null;

  let asUser: string[] = [];
  let ids: { uid: number; gid: number } | null = null;
  if (isRoot()) {
    // postgres refuses to run as root.
    ids = userIds("postgres");
    if (!ids) throw new Error("running as root and there is no 'postgres' user to run PostgreSQL as (useradd --system postgres)");
    asUser = ["runuser", "-u", "postgres", "--"];
  }
  reapOrphans(bin, asUser);

  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, "owner"), String(opts.owner ?? process.pid));
  const data = join(dir, "data");
  const password = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("hex");
  const pwfile = join(dir, "pw");
  writeFileSync(pwfile, password + "\n", { mode: 0o600 });
  if (ids) {
    chownSync(dir, ids.uid, ids.gid);
    chownSync(pwfile, ids.uid, ids.gid);
  }
  try {
    run(
      [
        ...asUser,
        join(bin, "initdb"),
        "-D",
        data,
        "-U",
        "postgres",
        `--pwfile=${pwfile}`,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
        "--no-locale",
        "--no-sync",
        "--no-instructions",
      ],
      "initdb",
    );
    rmSync(pwfile, { force: true });
    // A port can be taken between asking for it and postgres binding it: try a few.
    let port = 0;
    let lastError: unknown;
    for (let attempt = 0; attempt < 5 && !port; attempt++) {
      const candidate = await freePort();
      const options = [
        "-c listen_addresses=127.0.0.1",
        `-p ${candidate}`,
        `-k ${dir}`,
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
        "-c max_connections=1000",
        "-c shared_buffers=32MB",
      ].join(" ");
      try {
        run([...asUser, join(bin, "pg_ctl"), "-D", data, "-l", join(dir, "log"), "-w", "-t", "60", "-o", options, "start"], "pg_ctl start");
        port = candidate;
      } catch (err) {
        lastError = err;
        stopQuietly(bin, data, asUser);
      }
    }
    if (!port) throw lastError;
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    let stopped = false;
    return {
      url,
      dir,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        stopCluster(bin, dir, asUser);
      },
      restart: () => {
        // pg_ctl keeps the options the server was started with (postmaster.opts).
        run([...asUser, join(bin, "pg_ctl"), "-D", data, "-l", join(dir, "log"), "-m", "fast", "-w", "-t", "60", "restart"], "pg_ctl restart");
      },
    };
  } catch (err) {
    const log = existsSync(join(dir, "log")) ? readFileSync(join(dir, "log"), "utf8").trim().split("\n").slice(-3).join(" | ") : "";
    stopCluster(bin, dir, asUser, "immediate");
    throw new Error(`cannot start a test PostgreSQL from ${bin}: ${(err as Error).message}${log ? ` (log: ${log})` : ""}`);
  }
}

function stopQuietly(bin: string, data: string, asUser: string[]): void {
  try {
    run([...asUser, join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop"], "pg_ctl stop");
  } catch {
    // not running
  }
}

/** Stop a cluster that `start` left running (its folder as printed). */
export function stopTestPostgres(dir: string): void {
  if (!dir.startsWith(join(tmpdir(), PREFIX))) throw new Error(`not a test cluster folder: ${dir}`);
  const bin = findPgBin();
  if (!bin) throw new Error("no PostgreSQL binaries found");
  stopCluster(bin, dir, isRoot() ? ["runuser", "-u", "postgres", "--"] : []);
}

if (import.meta.main) {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === "start") {
    const i = rest.indexOf("--owner");
    const owner = i === -1 ? process.ppid : Number(rest[i + 1]);
    const pg = await startTestPostgres({ owner });
    if (!pg) {
      console.error("pg: no PostgreSQL server binaries here (initdb, pg_ctl); install postgresql or set ORCH_TEST_PG_URL");
      process.exit(1);
    }
    console.log(`ORCH_TEST_PG_URL=${pg.url}`);
    if (pg.dir) console.log(`ORCH_TEST_PG_DIR=${pg.dir}`);
  } else if (cmd === "stop" && rest[0]) {
    stopTestPostgres(rest[0]);
  } else if (cmd === "run") {
    const argv = rest[0] === "--" ? rest.slice(1) : rest;
    if (!argv.length) {
      console.error("usage: bun scripts/pg.ts run -- CMD ARGS…");
      process.exit(2);
    }
    const pg = await startTestPostgres();
    if (!pg) {
      console.error("pg: no PostgreSQL server binaries here (initdb, pg_ctl); install postgresql or set ORCH_TEST_PG_URL");
      process.exit(1);
    }
    const child = Bun.spawn(argv, { stdio: ["inherit", "inherit", "inherit"], env: { ...process.env, ORCH_TEST_PG_URL: pg.url } });
    const stop = async () => {
      await pg.stop();
    };
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => child.kill(sig));
    const code = await child.exited;
    await stop();
    process.exit(code);
  } else {
    console.error("usage: bun scripts/pg.ts start [--owner PID] | stop DIR | run -- CMD ARGS…");
    process.exit(2);
  }
}
