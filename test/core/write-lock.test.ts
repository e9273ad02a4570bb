/**
 * The writers' queue (src/db/write-lock.ts): a flock on `<db>-lock` held for each write
 * transaction. Checked from outside with util-linux `flock -n`, and against a real process
 * killed while it holds the lock.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { createTask, getTask, listTasks, updateTask } from "../../src/core/index.ts";
import { openStore } from "../../src/db/client.ts";
import { openWriteLock, writeLockPath } from "../../src/db/write-lock.ts";
import { rawSqlite, tempDir } from "../helpers.ts";

/** Whether another process could take the lock right now (`flock -n` exits 1 when it cannot). */
function freeForOthers(dbPath: string): boolean {
  const r = Bun.spawnSync(["flock", "-n", writeLockPath(dbPath), "true"]);
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`flock failed: ${r.stderr.toString()}`);
  return r.exitCode === 0;
}

describe("the writers' lock", () => {
  test("the first write creates <db>-lock beside the database; reading does not", async () => {
    const path = join(tempDir(), "tasks.db");
    const s = await openStore(path);
    await listTasks(s);
    expect(existsSync(writeLockPath(path))).toBe(false);
    await createTask(s, { id: "T1", title: "one" });
    expect(existsSync(writeLockPath(path))).toBe(true);
    await s.close();
  });

  test("held for exactly the transaction: other processes wait during it, not after", async () => {
    const path = join(tempDir(), "tasks.db");
    const s = await openStore(path);
    await createTask(s, { id: "T1", title: "one" });
    expect(freeForOthers(path)).toBe(true);
    const during = await s.tx(() => freeForOthers(path));
    expect(during).toBe(false);
    expect(freeForOthers(path)).toBe(true);
    // A failed transaction lets go as well.
    await expect(updateTask(s, { id: "missing", notes: "x" })).rejects.toThrow("Task not found: missing");
    expect(freeForOthers(path)).toBe(true);
    await s.close();
  });

  test("two stores of one process share it: interleaved writes go through, closing one keeps it for the other", async () => {
    const path = join(tempDir(), "tasks.db");
    const a = await openStore(path);
    const b = await openStore(path);
    await createTask(a, { id: "T1", title: "one" });
    await createTask(b, { id: "T2", title: "two" });
    for (let i = 0; i < 10; i++) await updateTask(i % 2 ? a : b, { id: "T1", notes: `n${i}` });
    expect((await getTask(b, "T1")).notes).toBe("n9");
    await a.close();
    expect(freeForOthers(path)).toBe(true);
    await updateTask(b, { id: "T2", notes: "after a closed" });
    expect((await getTask(b, "T2")).notes).toBe("after a closed");
    await b.close();
  });

  test("one database reached by two paths (a symlink) is one lock: one descriptor, shared", async () => {
    const dir = tempDir();
    const path = join(dir, "tasks.db");
    const link = join(dir, "..", `${basename(dir)}-link`);
    symlinkSync(dir, link);
    const viaLink = join(link, "tasks.db");
    const a = await openStore(path);
    const b = await openStore(viaLink);
    await createTask(a, { id: "T1", title: "one" });
    await updateTask(b, { id: "T1", notes: "through the link" });
    expect((await getTask(a, "T1")).notes).toBe("through the link");
    // Two descriptors of one process would exclude each other: a write of b's inside one of a's
    // would wait for ever instead of meeting SQLite's busy timeout.
    const lockFile = writeLockPath(realpathSync(path));
    const open = readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === lockFile;
      } catch {
        return false;
      }
    });
    expect(open).toHaveLength(1);
    await a.close();
    await b.close();
    rmSync(link);
  });

  test("a writer killed while it holds the lock does not hold up the next one", async () => {
    const dir = tempDir();
    const path = join(dir, "tasks.db");
    const s = await openStore(path);
    await createTask(s, { id: "T1", title: "one" });
    const script = join(dir, "holder.ts");
    const client = join(import.meta.dir, "../../src/db/client.ts");
    writeFileSync(
      script,
      `import { openStore } from ${JSON.stringify(client)};
const s = await openStore(${JSON.stringify(path)});
await s.tx(() => {
  console.log("holding");
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // inside the transaction, forever
});`,
    );
    const holder = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    const reader = holder.stdout.getReader();
    let seen = "";
    while (!seen.includes("holding")) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the holder exited before taking the lock");
      seen += new TextDecoder().decode(value);
    }
    expect(freeForOthers(path)).toBe(false);
    holder.kill("SIGKILL");
    await holder.exited;
    await updateTask(s, { id: "T1", notes: "after the kill" });
    expect((await getTask(s, "T1")).notes).toBe("after the kill");
    expect(rawSqlite(s).query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    await s.close();
  });

  test("where no lock file can be made, there is no lock and writers rely on SQLite alone (still queued in the process)", async () => {
    const path = join(tempDir(), "no-such-dir", "tasks.db");
    const lock = openWriteLock(path);
    await lock.acquire();
    let second = false;
    const next = lock.acquire()!.then(() => (second = true));
    await Bun.sleep(5);
    expect(second).toBe(false); // the process's own queue holds
    expect(existsSync(writeLockPath(path))).toBe(false);
    lock.release();
    await next;
    expect(second).toBe(true);
    lock.release();
    lock.close();
  });
});
