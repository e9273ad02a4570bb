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
const junit = join(reportDir, "junit.xml");
const proc = Bun.spawn(
  [process.execPath, "test", "--timeout", "60000", "--reporter=junit", `--reporter-outfile=${junit}`, ...process.argv.slice(2)],
  { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ORCH_BIN: join(root, "dist", "orch"), ...(pg ? { ORCH_TEST_PG_URL: pg.url } : {}) } },
);
child = proc;
const code = await proc.exited;
await pg?.stop();

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const xml = readFileSync(junit, "utf8");
  // Count <testcase> elements: failed ones hold <failure>/<error>, skipped ones <skipped>.
  for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failed++;
    else if (/<skipped\b/.test(body)) skipped++;
    else passed++;
  }
} catch {
  // No report at all means bun test itself failed to run.
}
rmSync(reportDir, { recursive: true, force: true });
if (code !== 0 && failed === 0) failed = 1; // a crash outside any test still fails the run
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
