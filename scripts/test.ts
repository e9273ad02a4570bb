/**
 * The README's test command (`npm test`): build dist/orch once (end-to-end tests share it), run
 * `bun test`, then print the plain `N passed, N failed` line CI reads, from bun's JUnit report.
 * Extra arguments go to `bun test` (a path filter, `-t name`).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "./build.ts";

const root = join(import.meta.dir, "..");
await build();

const reportDir = mkdtempSync(join(tmpdir(), "orch-test-report-"));
const junit = join(reportDir, "junit.xml");
const proc = Bun.spawn(
  [process.execPath, "test", "--timeout", "60000", "--reporter=junit", `--reporter-outfile=${junit}`, ...process.argv.slice(2)],
  { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ORCH_BIN: join(root, "dist", "orch") } },
);
const code = await proc.exited;

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
