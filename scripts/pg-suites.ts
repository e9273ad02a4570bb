/**
 * Which test files `npm test` runs a second time on PostgreSQL (ORCH_TEST_BACKEND=postgres, see
 * test/backend.ts): the core, API, MCP and orchestrator suites — everything that reads or writes
 * through the store — but the files about SQLite itself (its write lock, pragmas, page counts,
 * WAL and migration history), which have PostgreSQL counterparts in test/db/.
 */
import { Glob } from "bun";
import { join } from "node:path";

const root = join(import.meta.dir, "..");

export const POSTGRES_SUITES = ["test/core", "test/api", "test/mcp", "test/orchestrate", "test/e2e", "test/workspace", "test/watch"];

/** Files of those suites that test SQLite's own machinery, or PostgreSQL already (run once). */
export const FIRST_PASS_ONLY = new Set([
  "test/core/store.test.ts", // two connections, :memory: as a temp file, BEGIN IMMEDIATE order, migrations on SQLite files
  "test/core/write-lock.test.ts", // the flock queue beside the file
  "test/core/write-footprint.test.ts", // WAL pages per update
  "test/core/prepared.test.ts", // statements compiled per SQLite connection
  "test/core/event-compaction.test.ts", // SQLite's id-based compaction (test/db/pg-feed.test.ts has the seq-based one)
  "test/e2e/demo.test.ts", // orch demo makes its own SQLite database in a folder of its own
  "test/e2e/postgres.test.ts", // PostgreSQL URLs from the binary: already on PostgreSQL
]);

/**
 * The files to run on PostgreSQL for `npm test [filters…]`: all of them without filters; with
 * path filters, those they name (bun test's own substring rule); other flags go along as given.
 */
export function postgresSuiteFiles(filters: readonly string[]): string[] {
  const paths = filters.filter((f) => !f.startsWith("-"));
  const flags = filters.filter((f, i) => f.startsWith("-") || filters[i - 1]?.startsWith("-"));
  const positional = paths.filter((p) => !flags.includes(p));
  const all: string[] = [];
  for (const dir of POSTGRES_SUITES) {
    for (const f of new Glob("**/*.test.ts").scanSync({ cwd: join(root, dir) })) {
      const file = `${dir}/${f}`;
      if (!FIRST_PASS_ONLY.has(file)) all.push(file);
    }
  }
  const chosen = positional.length ? all.filter((f) => positional.some((p) => f.includes(p.replace(/^\.\//, "")))) : all;
  return chosen.length ? [...chosen.sort().map((f) => `./${f}`), ...flags] : [];
}
