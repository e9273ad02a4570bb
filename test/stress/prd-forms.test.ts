/**
 * Every task line a person writes is imported or refused with its line — never dropped (issue
 * #16: checkboxes, numbered items, bold ids, a missing colon, sub-items, `*`/`+` bullets used to
 * be skipped in silence while the import reported success; the 5-minute tutorial's outline was
 * refused as "task outside a stream").
 *
 * Generated documents whose every line is known: phases as headings or as the tutorial's plain
 * lines; streams as `### …` headings or outline items (`- Stream-B: … (2 tasks, depends on …)`),
 * with their tasks listed or only counted (placeholders); tasks in every accepted form (bullets
 * `-*+`, `1.`/`1)`, checkboxes open and checked, bold/code ids, colon, no colon, a dash, no space,
 * indentation by spaces or tabs, subtasks nested to depth 3); prose that must stay prose (bullets
 * without ids, checklists and id-like words before the first phase, HTML comments and fences full
 * of task lines). Half the documents also carry lines that must be refused (a checkbox without an
 * id in a stream, a quoted task, a task outside any stream, an id without a title).
 *
 * The truth, for every document: the parse errors name exactly the refused lines; without them
 * the plan holds exactly the generated tasks (ids, lines, parents, checked → done) and the
 * placeholders; importing it twice creates everything once and then changes nothing, with the
 * database's statuses and parents as written; the binary agrees (exit 2 naming the first refused
 * line, or the same task count).
 *
 * Quick: 1,500 documents (30 through the binary). STRESS=full: 12,000 (200).
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatPrdError, getTask, importPrdMarkdown, parsePrd } from "../../src/core/index.ts";
import { openStore } from "../../src/db/client.ts";
import { rawSqlite, tempDir } from "../helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { cleanEnv, orchBin } from "./harness/orch.ts";
import { Random, seeded } from "./harness/prng.ts";

const DOCUMENTS = size(1500, 12_000);
const THROUGH_BINARY = size(30, 200);

/** One line of a generated document and what it must become. */
interface Line {
  text: string;
  task?: { id: string; parentId: string | null; done: boolean };
  refused?: true;
}

interface Doc {
  lines: Line[];
  placeholders: string[];
}

const WORDS = ["schema", "button", "retry job", "E2E tests", "docs", "theme", "ledger", "API v2", "README", "cache"];

function title(rnd: Random): string {
  let t = `${rnd.pick(WORDS)} ${rnd.pick(WORDS)}`;
  if (rnd.chance(0.2)) t += ` [files: src/${rnd.pick(WORDS).replace(/\W/g, "")}.ts]`;
  if (rnd.chance(0.1)) t += " @agent-me";
  return t;
}

/** A task line in one of the accepted forms. `shaped` ids (LETTERS-digits) may go without a colon. */
function taskText(rnd: Random, id: string, indent: string, checked: boolean | null): string {
  const bullet = rnd.pick(["-", "-", "*", "+", `${rnd.range(1, 20)}.`, `${rnd.range(1, 20)})`]);
  const box = checked === null ? "" : checked ? rnd.pick(["[x] ", "[X] "]) : "[ ] ";
  const t = title(rnd);
  const head = rnd.pick([
    `${id}: ${t}`,
    `${id}: ${t}`,
    `**${id}**: ${t}`,
    `**${id}:** ${t}`,
    `\`${id}\`: ${t}`,
    `__${id}__: ${t}`,
    `${id} ${t}`,
    `${id} - ${t}`,
    `${id} — ${t}`,
    `${id}:${t}`,
    `**${id}** ${t}`,
  ]);
  return `${indent}${bullet} ${box}${head}`;
}

class Builder {
  readonly lines: Line[] = [];
  readonly placeholders: string[] = [];
  private taskN = 0;
  private refusedN = 0;
  constructor(
    readonly rnd: Random,
    readonly doc: number,
    readonly dirty: boolean,
  ) {}

  push(text: string, extra: Omit<Line, "text"> = {}) {
    this.lines.push({ text, ...extra });
  }

  taskId(): string {
    return `${this.rnd.pick(["TASK", "PAY", "T", "ui_fix"])}-${this.doc}x${++this.taskN}`;
  }

  refusedId(): string {
    return `R-${this.doc}x${++this.refusedN}`;
  }

  prose() {
    const r = this.rnd;
    if (!r.chance(0.3)) return;
    this.push("");
    this.push(r.pick(["Some prose about this.", "Notes follow.", "See the design doc (v2).", "Risks: none known."]));
    this.push("");
  }

  /** Prose that looks like tasks but must stay prose: comments and fences. */
  hidden() {
    const r = this.rnd;
    if (r.chance(0.5)) this.push(`<!-- ${taskText(r, this.refusedId(), "", null)} -->`);
    else if (r.chance(0.5)) {
      this.push("<!--");
      this.push(taskText(r, this.refusedId(), "", r.chance(0.5)));
      this.push("-->");
    } else {
      this.push(r.pick(["```", "~~~", "```md"]));
      this.push(taskText(r, this.refusedId(), "", null));
      this.push(this.lines.at(-2)!.text.startsWith("~") ? "~~~" : "```");
    }
  }

  /** A line that must be refused, placed where it cannot be anyone's description. */
  refusal(inStream: boolean, indent = "") {
    if (!this.dirty || !this.rnd.chance(0.3)) return;
    const r = this.rnd;
    const forms = [
      () => `> ${taskText(r, this.refusedId(), "", null)}`,
      () => `${indent}- ${this.refusedId()}`,
      () => `${indent}- ${this.refusedId()}:`,
      ...(inStream ? [() => `${indent}- [ ] ${r.pick(["write the docs", "ask design", "tidy"])}`] : []),
    ];
    this.push(r.pick(forms)(), { refused: true });
  }

  /** Tasks as a tree: top-level at `base`, children deeper. */
  tasks(base: number, count: number, depth = 0, parent: string | null = null) {
    const r = this.rnd;
    for (let i = 0; i < count; i++) {
      const id = this.taskId();
      const checked = r.chance(0.3) ? r.chance(0.5) : null;
      const indent = " ".repeat(base);
      this.push(taskText(r, id, indent, checked), { task: { id, parentId: parent, done: checked === true } });
      if (r.chance(0.2)) this.push(`${indent}  ${r.pick(["More about it.", "- a detail (prose)", "Keep it small."])}`);
      if (depth < 2 && r.chance(0.25)) {
        const childBase = r.chance(0.2) && base === 0 ? -1 : base + r.range(2, 4);
        if (childBase === -1) this.tasksTabbed(id);
        else this.tasks(childBase, r.range(1, 3), depth + 1, id);
      }
    }
  }

  /** Children indented with a tab under a task at the margin. */
  tasksTabbed(parent: string) {
    for (let i = this.rnd.range(1, 2); i > 0; i--) {
      const id = this.taskId();
      this.push(taskText(this.rnd, id, "\t", null), { task: { id, parentId: parent, done: false } });
    }
  }

  streamHeading(id: string, deps: string[]) {
    const r = this.rnd;
    const counted = r.chance(0.15) ? r.range(1, 5) : 0;
    const ann = [counted ? `${counted} tasks` : "", deps.length && r.chance(0.5) ? `depends on ${deps.join(", ")}` : ""].filter(Boolean);
    this.push(`### ${id}: ${r.pick(WORDS)}${ann.length ? ` (${ann.join(", ")})` : ""}`);
    if (counted) {
      for (let k = 1; k <= counted; k++) this.placeholders.push(`${id}-${k}`);
      return;
    }
    this.prose();
    this.tasks(r.range(0, 3), r.range(1, 4));
    this.refusal(true);
  }

  /** Outline items of one phase share their indentation (siblings). */
  streamOutline(id: string, deps: string[], indent: number) {
    const r = this.rnd;
    const listed = r.chance(0.5);
    const counted = listed ? 0 : r.range(1, 5);
    const ann = [counted ? `${counted} tasks` : "", deps.length && r.chance(0.5) ? `depends on ${deps.join(", ")}` : ""].filter(Boolean);
    this.push(`${" ".repeat(indent)}${r.pick(["-", "*", "+", "1."])} ${id}: ${r.pick(WORDS)}${ann.length ? ` (${ann.join(", ")})` : ""}`);
    if (!listed) {
      for (let k = 1; k <= counted; k++) this.placeholders.push(`${id}-${k}`);
      return;
    }
    this.tasks(indent + r.range(2, 4), r.range(1, 3));
    this.refusal(true, " ".repeat(indent + 2));
  }

  phase(name: string, outline: boolean) {
    const r = this.rnd;
    this.push("");
    if (outline) this.push(r.pick([`${name} Phase:`, `**${name} Phase:**`, `**${name} Phase**`, `Phase ${r.range(1, 3)}: ${name}`]));
    else this.push(r.pick([`## ${name} Phase`, `## ${name}`, `## Phase ${r.range(1, 3)}: ${name}`]));
    // In a phase, before its first stream: a task here is outside any stream.
    if (this.dirty && r.chance(0.15)) this.push(taskText(r, this.refusedId(), "", r.chance(0.3) ? false : null), { refused: true });
  }

  build(): Doc {
    const r = this.rnd;
    const d = this.doc;
    this.push(r.pick([`# Initiative: Forms ${d}`, `# Forms ${d}`]));
    // Prose before any phase that must stay prose: a checklist, id-like words, a bullet.
    if (r.chance(0.3)) for (const line of ["", "- [ ] review with design", "- Q3-2024 roadmap", "- goals are elsewhere"]) this.push(line);
    if (this.dirty && r.chance(0.1)) this.push(`- ${this.refusedId()}: a task before any phase`, { refused: true });
    const done: string[] = [];
    for (const [phase, lo, hi] of [["Foundation", 1, 2], ["Parallel", 0, 3], ["Integration", 0, 1]] as const) {
      const n = r.range(lo, hi);
      if (!n) continue;
      const outline = r.chance(0.4);
      const outlineIndent = r.chance(0.8) ? 0 : r.range(1, 3);
      this.phase(phase, outline);
      for (let k = 0; k < n; k++) {
        const id = `Stream-${d}x${done.length}`;
        const deps = phase === "Foundation" ? [] : done.filter(() => r.chance(0.5));
        if (outline) this.streamOutline(id, deps, outlineIndent);
        else this.streamHeading(id, deps);
        if (r.chance(0.2)) this.hidden();
        done.push(id);
      }
    }
    return { lines: this.lines, placeholders: this.placeholders };
  }
}

const textOf = (lines: readonly Line[]) => lines.map((l) => l.text).join("\n");

interface Tally {
  imported: number;
  refused: number;
  placeholders: number;
  subtasks: number;
  checked: number;
}

/** The dirty document: exactly its refused lines are named. Returns problems. */
function checkRefusals(doc: Doc, tally: Tally): string[] {
  const refusedLines = doc.lines.flatMap((l, i) => (l.refused ? [i + 1] : []));
  const r = parsePrd(textOf(doc.lines));
  if (!refusedLines.length) return [];
  if (r.ok) return [`refused lines ${refusedLines.join(", ")} were imported or dropped`];
  const named = [...new Set(r.errors.map((e) => e.line))].sort((a, b) => (a ?? 0) - (b ?? 0));
  if (JSON.stringify(named) !== JSON.stringify(refusedLines))
    return [`errors name lines ${JSON.stringify(named)}, the refused ones are ${JSON.stringify(refusedLines)}: ${r.errors.map(formatPrdError).slice(0, 4).join(" | ")}`];
  tally.refused += refusedLines.length;
  return [];
}

/** The clean document: exactly its tasks, where they were written, and the placeholders. */
function checkPlan(doc: Doc, tally: Tally): string[] {
  const r = parsePrd(textOf(doc.lines));
  if (!r.ok) return [`a clean document was refused: ${r.errors.map(formatPrdError).slice(0, 4).join(" | ")}`];
  const got = r.plan.streams.flatMap((s) => s.tasks.filter((t) => !t.placeholder).map((t) => ({ id: t.id, line: t.line, parentId: t.parentId ?? null, done: t.done === true })));
  const want = doc.lines.flatMap((l, i) => (l.task ? [{ id: l.task.id, line: i + 1, parentId: l.task.parentId, done: l.task.done }] : []));
  const key = (xs: typeof got) => JSON.stringify([...xs].sort((a, b) => a.line - b.line));
  if (key(got) !== key(want)) {
    const missing = want.filter((w) => !got.some((g) => JSON.stringify(g) === JSON.stringify(w)));
    const extra = got.filter((g) => !want.some((w) => JSON.stringify(g) === JSON.stringify(w)));
    return [`tasks differ: missing ${JSON.stringify(missing.slice(0, 3))}, unexpected ${JSON.stringify(extra.slice(0, 3))}`];
  }
  const placeholders = r.plan.streams.flatMap((s) => s.tasks.filter((t) => t.placeholder).map((t) => t.id));
  if (JSON.stringify(placeholders) !== JSON.stringify(doc.placeholders)) return [`placeholders ${JSON.stringify(placeholders)} ≠ ${JSON.stringify(doc.placeholders)}`];
  tally.imported += want.length;
  tally.placeholders += placeholders.length;
  tally.subtasks += want.filter((w) => w.parentId).length;
  tally.checked += want.filter((w) => w.done).length;
  return [];
}

describe("stress: PRD task lines in every form", () => {
  test(
    `${DOCUMENTS} generated documents: every task line imported or refused with its line`,
    () =>
      seeded("prd-forms", async (rnd) => {
        const dir = tempDir("orch-stress-prd-forms-");
        const db = join(dir, "tasks.db");
        const store = await openStore(db);
        const problems: string[] = [];
        const tally: Tally = { imported: 0, refused: 0, placeholders: 0, subtasks: 0, checked: 0 };
        const binary: { file: string; clean: boolean; firstRefused: number | null; tasks: number }[] = [];
        for (let d = 0; d < DOCUMENTS && problems.length < 10; d++) {
          const dirty = new Builder(rnd, d, rnd.chance(0.5)).build();
          const clean: Doc = { lines: dirty.lines.filter((l) => !l.refused), placeholders: dirty.placeholders };
          const found = [...checkRefusals(dirty, tally), ...checkPlan(clean, tally)];
          problems.push(...found.map((p) => `document ${d}: ${p}\n${textOf(dirty.lines)}`));
          if (found.length) continue;
          const text = textOf(clean.lines);
          const first = await importPrdMarkdown(store, text, { source: `forms-${d}.md`, maxParallel: 5 });
          const again = await importPrdMarkdown(store, text, { source: `forms-${d}.md`, maxParallel: 5 });
          const total = clean.lines.filter((l) => l.task).length + clean.placeholders.length;
          if (first.tasks.created.length !== total || again.tasks.created.length || again.tasks.updated.length || again.tasks.unchanged.length !== total)
            problems.push(`document ${d}: imported ${first.tasks.created.length} of ${total}, again ${JSON.stringify({ created: again.tasks.created.length, updated: again.tasks.updated })}`);
          for (const l of clean.lines.filter((x) => x.task).slice(0, 5)) {
            const t = await getTask(store, l.task!.id);
            if ((t.status === "completed") !== l.task!.done || t.parentId !== l.task!.parentId)
              problems.push(`document ${d}: ${t.id} is ${t.status} under ${t.parentId}, written ${l.task!.done ? "checked" : "open"} under ${l.task!.parentId}`);
          }
          if (binary.length < THROUGH_BINARY && rnd.chance((THROUGH_BINARY / DOCUMENTS) * 2)) {
            const file = join(dir, `doc-${d}.md`);
            const useDirty = dirty.lines.some((l) => l.refused);
            writeFileSync(file, textOf(useDirty ? dirty.lines : clean.lines).replace(/Forms (\d+)/, "Forms bin $1").replace(/Stream-(\d+)x/g, "Stream-$1b"));
            const firstRefused = useDirty ? dirty.lines.findIndex((l) => l.refused) + 1 : null;
            binary.push({ file, clean: !useDirty, firstRefused, tasks: total });
          }
        }
        const integrity = (rawSqlite(store).query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
        const stored = (rawSqlite(store).query("SELECT count(*) AS n FROM tasks").get() as { n: number }).n;
        await store.close();

        for (const b of binary) {
          // Task ids are the database's: the binary documents get their own database.
          const p = Bun.spawnSync([orchBin(), "prd", "import", b.file, "--json", "--db", join(dir, "binary.db")], { env: cleanEnv({ HOME: dir }), stdout: "pipe", stderr: "pipe" });
          const err = p.stderr.toString();
          if (b.clean) {
            const created = p.exitCode === 0 ? (JSON.parse(p.stdout.toString()) as { tasks: { created: string[] } }).tasks.created.length : -1;
            if (created !== b.tasks) problems.push(`binary ${b.file}: exit ${p.exitCode}, ${created} tasks of ${b.tasks}: ${err.slice(0, 200)}`);
          } else if (p.exitCode !== 2 || !err.startsWith(`orch: PRD line ${b.firstRefused}: `)) {
            problems.push(`binary ${b.file}: exit ${p.exitCode}, ${JSON.stringify(err.slice(0, 200))}, expected line ${b.firstRefused}`);
          }
        }
        console.error(
          `prd-forms: ${DOCUMENTS} documents: ${tally.imported} task lines imported (${tally.subtasks} subtasks, ${tally.checked} checked → completed), ${tally.refused} refused with their line, ${tally.placeholders} placeholder tasks; ${stored} tasks stored once each after importing every document twice; ${binary.length} through the binary${FULL ? " [full]" : ""}`,
        );
        expect(problems).toEqual([]);
        expect(integrity).toBe("ok");
      }),
    size(120_000, 900_000),
  );
});
