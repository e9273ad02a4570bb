/**
 * Fuzzing PRD import (issue #9): random PRD markdown — valid skeletons mutated line by line,
 * hostile stream and task ids, traversal in `[files: …]`, unterminated fences, CRLF, tabs, BOMs,
 * huge lines, cycles, too many parallel streams — through the parser, the importer (one shared
 * database, so re-imports and id collisions happen too) and the compiled binary.
 *
 * The parser never throws; every error it reports names a line in the document (or is one of the
 * whole-document error), on one line, at most 500 characters, no raw control characters. The
 * importer either imports or throws an OrchError with one line (the graph's SPEC messages, id
 * collisions with other initiatives), never anything else. The binary exits 0, or 2 (invalid) or 1
 * (conflict) with exactly one `orch: ` line, never a stack.
 *
 * Quick: 3,000 documents (40 through the binary). STRESS=full: 20,000 (400 through the binary).
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatPrdError, importPrdMarkdown, parsePrd } from "../../src/core/index.ts";
import { openStore } from "../../src/db/client.ts";
import { isOrchError } from "../../src/errors.ts";
import { rawSqlite, tempDir } from "../helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { HOSTILE_IDS, randomUnicode } from "./harness/hostile.ts";
import { cleanEnv, orchBin } from "./harness/orch.ts";
import { Random, seeded } from "./harness/prng.ts";

const DOCUMENTS = size(3000, 20_000);
const THROUGH_BINARY = size(40, 400);

/** Errors about the document as a whole (no line to point at). */
const WHOLE_DOCUMENT = new Set(['missing "# Initiative: NAME" heading']);

const VALID_STREAMS = ["Stream-A", "Stream-B", "Stream-C", "Stream-D", "Core", "PAY-7", "api.v2", "x_y", "Stream-Z"];
const VALID_TASKS = ["TASK-001", "TASK-002", "TASK-003", "T1", "T2", "AUTH-9", "task.x", "TASK-001"];
const PHASES = ["## Foundation Phase", "## Parallel Phase", "## Integration Phase", "## Phase 1: Foundation", "## parallel", "## Integration (last)", "## Notes", "## Phase 9: Nothing"];

function idFrom(rnd: Random, valid: readonly string[]): string {
  return rnd.chance(0.85) ? rnd.pick(valid) : rnd.pick(HOSTILE_IDS).replace(/[\r\n]/g, "") || "x";
}

function taskLine(rnd: Random): string {
  const bullet = rnd.pick(["-", "*", "+", "- ", "  -", "    -", "\t-"]);
  const id = idFrom(rnd, VALID_TASKS);
  let title = rnd.chance(0.9) ? randomUnicode(rnd, rnd.range(0, 40)).replace(/[\r\n]/g, " ") : "t".repeat(rnd.range(400, 2000));
  if (rnd.chance(0.3)) title += ` [files: ${Array.from({ length: rnd.range(0, 3) }, () => rnd.pick([...HOSTILE_IDS, "src/a.ts", "src/", "docs/x.md"]).replace(/[\r\n\]]/g, "")).join(", ")}]`;
  if (rnd.chance(0.2)) title += ` @agent-${rnd.pick(["me", "x", "", "a b", "✓", "me @agent-you"])}`;
  return `${bullet} ${id}:${rnd.chance(0.9) ? " " : ""}${title}`;
}

function streamHeading(rnd: Random): string {
  const id = idFrom(rnd, VALID_STREAMS);
  let h = `${rnd.pick(["###", "###", "###", "####", "##"])} ${id}:${rnd.chance(0.9) ? ` ${randomUnicode(rnd, rnd.range(0, 30)).replace(/[\r\n]/g, " ")}` : ""}`;
  if (rnd.chance(0.4)) {
    const deps = Array.from({ length: rnd.range(0, 4) }, () => (rnd.chance(0.8) ? rnd.pick(VALID_STREAMS) : rnd.pick(HOSTILE_IDS).replace(/[\r\n)]/g, "")));
    h += ` (${rnd.pick(["depends on", "depends", "after", "depends on:"])} ${deps.join(rnd.pick([", ", " and ", " ", ","]))})`;
  }
  return h;
}

/** A well-formed document (unique ids, every stream with tasks), maybe with one mutation. */
function wellFormed(rnd: Random, doc: number): string {
  const lines = [`# Initiative: ${rnd.pick(["Checkout", "Dark mode", "Plan ☃", "API v2"])} ${rnd.chance(0.9) ? doc : rnd.int(20)}`];
  const streams: string[] = [];
  let task = 0;
  for (const phase of ["Foundation", "Parallel", "Integration"]) {
    if (phase !== "Foundation" && rnd.chance(0.3)) continue;
    lines.push("", `## ${phase} Phase`);
    for (let s = rnd.range(1, phase === "Parallel" ? 6 : 2); s > 0; s--) {
      // Mostly this document's own ids (so most import), sometimes another's (a collision).
      const id = `${rnd.pick(["Stream", "S", "Pay", "api"])}-${rnd.chance(0.9) ? `d${doc}-` : ""}${streams.length + rnd.int(3)}`;
      if (streams.includes(id)) continue;
      let heading = `### ${id}: ${randomUnicode(rnd, rnd.range(1, 20)).replace(/[\r\n()]/g, " ").trim() || "x"}`;
      if (streams.length && rnd.chance(0.4)) heading += ` (depends on ${rnd.pick(streams)}${rnd.chance(0.1) ? `, ${id}` : ""})`;
      streams.push(id);
      lines.push(heading);
      for (let t = rnd.range(1, 4); t > 0; t--) {
        task++;
        const files = rnd.chance(0.5) ? ` [files: ${Array.from({ length: rnd.range(1, 3) }, () => rnd.pick([...HOSTILE_IDS.filter((h) => h && !/[\r\n\],]/.test(h) && h.length < 1000), "src/a.ts", "src/", "x.md"])).join(", ")}]` : "";
        lines.push(`- ${rnd.pick(["TASK", "T", "PAY"])}-${rnd.chance(0.95) ? `d${doc}-` : ""}${task}: ${randomUnicode(rnd, rnd.range(1, 40)).replace(/[\r\n\[\]]/g, " ").trim() || "work"}${files}${rnd.chance(0.2) ? " @agent-me" : ""}`);
      }
    }
  }
  if (rnd.chance(0.3)) lines.splice(rnd.int(lines.length), 0, rnd.pick(["", "Some prose.", "```", "```", "#### Notes", "- not-a-task", "> quote"]));
  return lines.join(rnd.chance(0.15) ? "\r\n" : "\n");
}

/** A document built from the guide's form, then mutated. */
function document(rnd: Random, doc: number): string {
  if (rnd.chance(0.4)) return wellFormed(rnd, doc);
  const lines: string[] = [];
  if (rnd.chance(0.9)) lines.push(`# Initiative: ${rnd.chance(0.9) ? randomUnicode(rnd, rnd.range(0, 30)).replace(/[\r\n]/g, " ") : "n".repeat(600)}`);
  if (rnd.chance(0.3)) lines.push("", randomUnicode(rnd, rnd.range(0, 80)).replace(/[\r\n]/g, " "));
  for (let p = rnd.range(0, 4); p > 0; p--) {
    lines.push("", rnd.pick(PHASES));
    for (let s = rnd.range(0, 4); s > 0; s--) {
      lines.push(streamHeading(rnd));
      for (let t = rnd.range(0, 4); t > 0; t--) {
        lines.push(taskLine(rnd));
        if (rnd.chance(0.15)) lines.push(`  ${randomUnicode(rnd, rnd.range(0, 60)).replace(/[\r\n]/g, " ")}`);
      }
    }
  }
  // Mutations: drop, duplicate, swap, inject noise, fences, huge lines.
  for (let m = rnd.range(0, 4); m > 0 && lines.length; m--) {
    const i = rnd.int(lines.length);
    const r = rnd.next();
    if (r < 0.25) lines.splice(i, 1);
    else if (r < 0.45) lines.splice(i, 0, lines[rnd.int(lines.length)]!);
    else if (r < 0.6) {
      const j = rnd.int(lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    } else if (r < 0.75) lines.splice(i, 0, rnd.pick(["```", "~~~~", "```ts", "    code", "<!-- comment", "# Initiative: second", "### Stream-X: outside", "- TASK-999: stray", "#", "###", "- :", "-"]));
    else if (r < 0.9) lines.splice(i, 0, randomUnicode(rnd, rnd.range(0, 200)).replace(/[\r\n]/g, " "));
    else lines.splice(i, 0, "y".repeat(rnd.range(10_000, 120_000)));
  }
  let text = lines.join(rnd.chance(0.15) ? "\r\n" : "\n");
  if (rnd.chance(0.05)) text = `\uFEFF${text}`;
  if (rnd.chance(0.05)) text += "\n".repeat(rnd.range(1, 5));
  return text;
}

function checkParse(text: string): string | null {
  let r: ReturnType<typeof parsePrd>;
  try {
    r = parsePrd(text);
  } catch (err) {
    return `parsePrd threw: ${(err as Error)?.stack ?? err}`;
  }
  if (r.ok) return null;
  const count = text.split(/\r?\n/).length;
  if (!r.errors.length) return "not ok, but no errors";
  for (const e of r.errors) {
    if (e.line === null ? !WHOLE_DOCUMENT.has(e.message) : !(Number.isInteger(e.line) && e.line >= 1 && e.line <= count)) return `error without a line in the document: ${JSON.stringify(e)}`;
    const shown = formatPrdError(e);
    if (/[\r\n]/.test(shown)) return `error over several lines: ${JSON.stringify(shown)}`;
    if (shown.length > 500) return `error of ${shown.length} characters: ${shown.slice(0, 200)}`;
    if (/[\x00-\x08\x0b-\x1f\x7f]/.test(shown)) return `raw control characters in an error: ${JSON.stringify(shown.slice(0, 200))}`;
  }
  return null;
}

describe("fuzz: PRD import", () => {
  test(
    `${DOCUMENTS} random PRDs: line-numbered errors or a clean import, never a crash`,
    () =>
      seeded("fuzz-prd", async (rnd) => {
        const dir = tempDir("orch-stress-prd-");
        const db = join(dir, "tasks.db");
        const store = await openStore(db);
        const problems: string[] = [];
        let imported = 0;
        let parseErrors = 0;
        let refused = 0;
        const reasons: Record<string, number> = {};
        const binaryCases: string[] = [];
        for (let i = 0; i < DOCUMENTS; i++) {
          const text = document(rnd, i);
          const p = checkParse(text);
          if (p) {
            problems.push(`document ${i}: ${p}`);
            if (problems.length > 10) break;
            continue;
          }
          if (binaryCases.length < THROUGH_BINARY && rnd.chance(THROUGH_BINARY / DOCUMENTS * 2)) binaryCases.push(text);
          try {
            await importPrdMarkdown(store, text, { maxParallel: rnd.pick([undefined, 1, 2, 5]) });
            imported++;
          } catch (err) {
            if (!isOrchError(err)) problems.push(`document ${i}: import threw ${(err as Error)?.stack ?? err}`);
            else if (/[\r\n]/.test(err.message) || err.message.length > 2000) problems.push(`document ${i}: error message ${JSON.stringify(err.message.slice(0, 300))}`);
            else if (err.kind === "invalid" && /^PRD( line \d+)?: /.test(err.message)) parseErrors++;
            else {
              refused++;
              const kind = err.kind === "invalid" ? err.message.replace(/[: ].*$/, "") : err.kind;
              reasons[kind] = (reasons[kind] ?? 0) + 1;
            }
          }
        }
        const integrity = (rawSqlite(store).query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
        await store.close();
        expect(problems).toEqual([]);
        expect(integrity).toBe("ok");

        // The same kind of documents through `orch prd import`: exit 0, or 2 with one `orch:` line.
        for (const [i, text] of binaryCases.entries()) {
          const file = join(dir, `prd-${i}.md`);
          writeFileSync(file, text);
          const p = Bun.spawnSync([orchBin(), "prd", "import", file, "--db", db], { env: cleanEnv({ HOME: dir }), stdout: "pipe", stderr: "pipe" });
          const err = p.stderr.toString();
          if (p.exitCode === 0) {
            if (err) problems.push(`binary case ${i}: exit 0 with stderr ${err.slice(0, 200)}`);
          } else if ((p.exitCode !== 1 && p.exitCode !== 2) || !/^orch: [^\n]+\n$/.test(err)) {
            problems.push(`binary case ${i}: exit ${p.exitCode}, stderr ${JSON.stringify(err.slice(0, 500))}`);
          }
        }
        console.error(
          `fuzz-prd: ${DOCUMENTS} documents: ${imported} imported, ${parseErrors} line-numbered parse errors, ${refused} refused by graph/ids; ${binaryCases.length} through the binary; refusals by first word ${JSON.stringify(reasons)}${FULL ? " [full]" : ""}`,
        );
        expect(problems).toEqual([]);
      }),
    size(90_000, 900_000),
  );
});
