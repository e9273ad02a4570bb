/**
 * A nudge when any process writes the database: SQLite in WAL mode appends every commit to
 * `<db>-wal`, so a directory watch (inotify, FSEvents, kqueue through fs.watch) fires within a
 * millisecond of a commit anywhere on this machine, at no cost while nothing happens. It is only
 * a hint — the change token still decides whether anything was committed — and the change feed
 * keeps a slow poll for file systems that do not report other machines' writes (NFS, SMB).
 */
import { watch } from "node:fs";
import { basename, dirname } from "node:path";

/** Watch the database's files; returns a stop function, or null when they cannot be watched. */
export function watchDatabaseFiles(path: string, onWrite: () => void): (() => void) | null {
  if (path === "") return null;
  const base = basename(path);
  const names = new Set([base, `${base}-wal`]);
  try {
    // persistent: false — the watch alone never keeps a process alive.
    const watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
      if (filename === null || names.has(String(filename))) onWrite();
    });
    watcher.on("error", () => watcher.close());
    return () => watcher.close();
  } catch {
    return null;
  }
}
