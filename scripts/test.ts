/**
 * The README's test command (`npm test`): build dist/orch once (end-to-end tests share it), run
 * `bun test`, then print the plain `N passed, N failed` line CI reads, from bun's JUnit report.
 * Extra arguments go to `bun test` (a path filter, `-t name`).
 *
 * PostgreSQL: while building, a throwaway cluster starts when this machine has the server binaries
 * (scripts/pg.ts; or the server ORCH_TEST_PG_URL names), its URL goes to the tests as
 * ORCH_TEST_PG_URL, and it is stopped at the end. Without one the PostgreSQL tests are skipped,
 * unless ORCH_REQUIRE_PG=1 (CI), where a cluster that cannot start fails the run.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "./build.ts";
import { startTestPostgres, type TestPostgres } from "./pg.ts";
import { postgresSuiteFiles } from "./pg-suites.ts";

const root = join(import.meta.dir, "..");
const requirePg = process.env.ORCH_REQUIRE_PG === "1";
const pgStarted = performance.now();
const pgReady = startTestPostgres().then(
  (pg) => {
    if (pg) console.error(`PostgreSQL for the tests ready in ${((performance.now() - pgStarted) / 1000).toFixed(1)} s${pg.dir ? "" : " (ORCH_TEST_PG_URL)"}`);
    return pg;
  },
  (err: Error): TestPostgres | null => {
    if (requirePg) throw err;
    console.error(`PostgreSQL tests will be skipped: ${err.message}`);
    return null;
  },
);
pgReady.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
try {
  await build();
} catch (err) {
  await (await pgReady.catch(() => null))?.stop();
  throw err;
}
const pg = await pgReady;
let child: ReturnType<typeof Bun.spawn> | undefined;
// Ctrl-C or a CI timeout: the cluster must not outlive the run.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    child?.kill(sig);
    void (pg?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const reportDir = mkdtempSync(join(tmpdir(), "orch-test-report-"));
const env = { ...process.env, ORCH_BIN: join(root, "dist", "orch"), ...(pg ? { ORCH_TEST_PG_URL: pg.url } : {}) };

/** One `bun test` run; its JUnit report tallied. */
async function runBunTest(name: string, args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; passed: number; failed: number; skipped: number }> {
  const junit = join(reportDir, `${name}.xml`);
  const proc = Bun.spawn([process.execPath, "test", "--timeout", "60000", "--reporter=junit", `--reporter-outfile=${junit}`, ...args], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...env, ...extraEnv },
  });
  child = proc;
  const code = await proc.exited;
  const tally = { code, passed: 0, failed: 0, skipped: 0 };
  try {
    const xml = readFileSync(junit, "utf8");
    // Count <testcase> elements: failed ones hold <failure>/<error>, skipped ones <skipped>.
    for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
      const body = m[2] ?? "";
      if (/<(failure|error)\b/.test(body)) tally.failed++;
      else if (/<skipped\b/.test(body)) tally.skipped++;
      else tally.passed++;
    }
  } catch {
    // No report at all means bun test itself failed to run.
  }
  if (code !== 0 && tally.failed === 0) tally.failed = 1; // a crash outside any test still fails the run
  return tally;
}

const filters = process.argv.slice(2);
const runs = [await runBunTest("sqlite", filters)];
// The same core, API, MCP and orchestrator suites again on PostgreSQL (test/backend.ts), when a
// server is there: the whole set on a plain `npm test`, or the files a filter names among them.
if (pg) {
  const files = postgresSuiteFiles(filters);
  if (files.length) {
    console.error(`\nThe same suites on PostgreSQL (${files.length} files):`);
    runs.push(await runBunTest("postgres", files, { ORCH_TEST_BACKEND: "postgres" }));
  }
}
await pg?.stop();
const passed = runs.reduce((n, r) => n + r.passed, 0);
const failed = runs.reduce((n, r) => n + r.failed, 0);
const skipped = runs.reduce((n, r) => n + r.skipped, 0);
const code = runs.find((r) => r.code !== 0)?.code ?? 0;
rmSync(reportDir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
