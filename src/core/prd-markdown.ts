/**
 * The guide's PRD form (Usage Guide, step 1) → a plan of streams and tasks. Pure: text in,
 * plan or line-numbered errors out; nothing here touches the database.
 *
 *   # Initiative: NAME
 *   ## Foundation Phase | ## Parallel Phase | ## Integration Phase
 *   ### Stream-X: Name (depends on Stream-A, Stream-B)      ← the annotation is optional
 *   - TASK-001: title [files: a.ts, b.ts] @agent-me        ← both annotations optional
 *
 * A list item that looks like a task is read as the task it plainly is, whatever markdown it
 * wears — `*`, `+` or numbered (`1.`, `1)`) bullets, a checkbox (`- [x] …` is a completed
 * task), a bold or code id (`**TASK-4**:`), a dash or no separator after an id shaped like one
 * (`TASK-5 Title`, `TASK-5 - Title`), any indentation — or refused with its line number
 * (outside a stream, a checkbox with no id in a stream, in a block quote). An item indented under
 * a task is a subtask (its parentId). The guide's 5-minute-tutorial outline works too:
 *
 *   Foundation Phase:                                       ← a phase line (the word "phase")
 *   - Stream-A: Core type system (4 tasks)                  ← a stream: its id, name, tasks
 *   - Stream-B: Commands (2 tasks, depends on Stream-A)
 *     - TASK-9: …                                           ← or its tasks, indented under it
 *
 * A stream that states its number of tasks but lists none gets that many placeholder tasks,
 * `Stream-A-1` … `Stream-A-4` (stable ids: importing again updates them). Without
 * `# Initiative: NAME`, the first `# Heading` before any phase names the initiative, else the
 * caller's default (the file's name).
 *
 * Prose, blank lines, fenced code and HTML comments are ignored. Lines indented under a task that
 * are not tasks become its description. Without explicit dependencies, parallel streams depend on
 * every foundation stream and integration streams on every parallel stream (on every foundation
 * stream when there is no parallel one, so an integration stream never runs first by accident).
 */
import { ID_PATTERN, streamIdProblem } from "../config.ts";
import type { StreamPhase } from "./schemas.ts";

export interface PlanTask {
  id: string;
  title: string;
  description?: string;
  files?: string[];
  assignedAgent?: string;
  line: number;
  /** The task this one is indented under. */
  parentId?: string;
  /** Checked (`- [x] …`): the task is completed. */
  done?: true;
  /** Made for a stream that states its number of tasks without listing them. */
  placeholder?: true;
}

export interface PlanStream {
  id: string;
  name: string;
  phase: StreamPhase;
  /** Resolved: explicit ones, else the default rule above. */
  dependencies: string[];
  explicitDependencies: boolean;
  tasks: PlanTask[];
  line: number;
  /** `(4 tasks)` on its heading or outline item. */
  declaredTasks?: number;
}

export interface Plan {
  initiative: string;
  initiativeLine: number;
  streams: PlanStream[];
}

export interface PrdError {
  /** 1-based; null when the problem is the absence of something. */
  line: number | null;
  message: string;
}

export type PrdParseResult = { ok: true; plan: Plan } | { ok: false; errors: PrdError[] };

export interface PrdParseOptions {
  /** The initiative's name when the document names none (the CLI passes the file's name). */
  defaultInitiative?: string;
}

/** `PRD line 12: task outside a stream` — the one line the CLI prints after `orch: `. */
export function formatPrdError(e: PrdError): string {
  return e.line === null ? `PRD: ${e.message}` : `PRD line ${e.line}: ${e.message}`;
}

const MAX_ID = 128;
const MAX_TITLE = 500;
const MAX_ERRORS = 100;
const MAX_PLACEHOLDERS = 1000;

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const INITIATIVE = /^initiative\s*:\s*(.*)$/i;
const PHASE_NAMES = "(foundation|parallel|integration)";
// "Foundation Phase", "Foundation", "Phase 1: Foundation", each optionally followed by "(…)" or ": …".
const PHASE = new RegExp(
  `^(?:phase\\s*\\d*\\s*[:.\\-–—]\\s*)?${PHASE_NAMES}(?:\\s+phase)?\\s*(?:\\(.*\\)|[:\\-–—].*)?$`,
  "i",
);
const STREAM = /^(\S+?)\s*:(?:\s+(.*))?$/;
// A list item: indentation, a bullet (`-`, `*`, `+`) or a number (`1.`, `1)`), then a space.
const LIST_ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*?))?[ \t]*$/;
const CHECKBOX = /^\[([ xX])\](?:[ \t]+(.*))?$/;
const QUOTED_ITEM = /^ {0,3}>[ \t]?(.*)$/;
// An id that is plainly an id even without a colon after it: letters, then `-` or `_` and a digit (TASK-5, pay_12).
const ID_SHAPED = /^[A-Za-z][A-Za-z0-9_]*?[-_]\d[A-Za-z0-9._-]*$/;
// `**TASK-4**: …`, `**TASK-4:** …`, `` `TASK-4`: … ``, `__TASK-4__ …`.
const WRAPPED_ID = /^(\*\*|__|\*|`)([^\s*`]+?)(:?)\1(.*)$/;
const FILES = /\[\s*files?\s*:\s*([^\]]*)\]/gi;
const AGENT = /(^|\s)@agent-([A-Za-z0-9][A-Za-z0-9._-]*)(?=\s|$|[,;.!?)])/g;
const COUNT = /(?:^|[,;])\s*(\d{1,6})\s+tasks?\s*(?=[,;]|$)/i;
const DEPENDS = /(?:^|[,;]\s*)(?:depends\s+on|depends|after)\s*:?\s*(.*)$/i;

const validId = (s: string) => s.length <= MAX_ID && ID_PATTERN.test(s);

/** A rejected token as an error shows it: quoted, control characters escaped, at most 60 characters. */
const quote = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);

/** Leading whitespace width, a tab counting as 4. */
function indentOf(s: string): number {
  let w = 0;
  for (const ch of s) {
    if (ch === " ") w++;
    else if (ch === "\t") w += 4;
    else break;
  }
  return w;
}

/** Remove up to `n` columns of leading whitespace. */
function dedent(s: string, n: number): string {
  let i = 0;
  let w = 0;
  while (i < s.length && w < n && (s[i] === " " || s[i] === "\t")) {
    w += s[i] === "\t" ? 4 : 1;
    i++;
  }
  return s.slice(i);
}

function splitList(s: string): string[] {
  return s
    .split(/[,;\s]+/)
    .map((x) => x.replace(/^`|`$/g, "").trim())
    .filter((x) => x && !/^(and|&)$/i.test(x));
}

const dedupe = (xs: string[]) => [...new Set(xs)];

// ── What one line is ────────────────────────────────────────────────────────────────────────

export interface ListItem {
  indent: number;
  /** null: no checkbox; false: `[ ]`; true: `[x]`. */
  checked: boolean | null;
  body: string;
}

/** A markdown list item, or null. */
export function listItem(raw: string): ListItem | null {
  const m = LIST_ITEM.exec(raw);
  if (!m) return null;
  let body = m[3] ?? "";
  let checked: boolean | null = null;
  const c = CHECKBOX.exec(body);
  if (c) {
    checked = c[1] !== " ";
    body = c[2] ?? "";
  }
  return { indent: indentOf(m[1]!), checked, body: body.trim() };
}

export interface ItemHead {
  id: string;
  rest: string;
  /** The id was followed by a colon (the guide's form); false for `TASK-5 Title`. */
  colon: boolean;
}

/**
 * The id an item starts with, read the way a person would: `TASK-1: t`, `TASK-1:t`, `TASK-1 - t`,
 * `TASK-1 t`, `**TASK-1**: t`, `` `TASK-1`: t ``. Any id followed by ": " counts (the guide's
 * form); without the colon, only a token shaped like an id (letters, `-`, digits). Null: prose.
 */
export function itemHead(body: string): ItemHead | null {
  const w = WRAPPED_ID.exec(body);
  if (w) return headFrom(w[2]!, `${w[3]}${w[4]}`);
  const token = /^\S+/.exec(body)?.[0];
  if (!token) return null;
  const colon = token.indexOf(":");
  if (colon > 0) return headFrom(token.slice(0, colon), body.slice(colon));
  return headFrom(token, body.slice(token.length));
}

function headFrom(token: string, after: string): ItemHead | null {
  const colon = /^:+(?=\s|$)/.exec(after) ?? (ID_SHAPED.test(token) ? /^:+/.exec(after) : null);
  if (colon) return ID_PATTERN.test(token) ? { id: token, rest: after.slice(colon[0].length).trim(), colon: true } : null;
  const id = token.replace(/[.,;]+$/, "");
  if (!ID_SHAPED.test(id)) return null;
  return { id, rest: after.trim().replace(/^[-–—]\s+/, ""), colon: false };
}

/** The plain-text phase line of the tutorial's outline: `Foundation Phase:`, `**Parallel Phase**`. */
export function phaseLine(raw: string): StreamPhase | null {
  const t = raw.trim().replace(/^(\*\*|__)(.*)\1:?$/, "$2").replace(/:$/, "").trim();
  if (!/\bphase\b/i.test(t)) return null;
  const m = PHASE.exec(t);
  return m ? (m[1]!.toLowerCase() as StreamPhase) : null;
}

/** `Name (4 tasks, depends on A, B)` → the name, the count, the dependencies (null: none given). */
export function streamAnnotations(text: string): { name: string; count?: number; deps: string[] | null } {
  const m = /\s*\(([^()]*)\)\s*$/.exec(text);
  if (!m) return { name: text.trim(), deps: null };
  let inside = m[1]!.trim();
  const count = COUNT.exec(inside);
  if (count) inside = `${inside.slice(0, count.index)}${inside.slice(count.index + count[0].length)}`.replace(/^\s*[,;]\s*/, "");
  const d = DEPENDS.exec(inside);
  if (!count && !d) return { name: text.trim(), deps: null };
  let deps: string[] | null = null;
  if (d) {
    const list = splitList(d[1]!);
    deps = list.length === 1 && /^(none|nothing|-)$/i.test(list[0]!) ? [] : list;
  }
  return { name: text.slice(0, m.index).trim(), ...(count ? { count: Number(count[1]) } : {}), deps };
}

/** A stream outline item (`- Stream-B: Commands (2 tasks, depends on Stream-A)`), told from a task. */
function isOutlineStream(head: ItemHead): boolean {
  const a = streamAnnotations(head.rest);
  return /^stream(?=[-_.]|$)/i.test(head.id) || a.count !== undefined || a.deps !== null;
}

// ── Reading a document ──────────────────────────────────────────────────────────────────────

interface OpenTask {
  task: PlanTask;
  indent: number;
  description: string[];
}

class PrdReader {
  readonly errors: PrdError[] = [];
  initiative: string | null = null;
  initiativeLine = 0;
  /** The first `# Heading` before any phase: the initiative's name when none is given. */
  title: { name: string; line: number } | null = null;
  phase: StreamPhase | null = null;
  sawPhase = false;
  stream: PlanStream | null = null;
  /** The indentation of the outline item that opened `stream`; null when a heading did. */
  outlineIndent: number | null = null;
  readonly streams: PlanStream[] = [];
  readonly streamLines = new Map<string, number>();
  readonly taskLines = new Map<string, number>();
  /** Tasks whose item is still open (a subtask's parents below it). */
  open: OpenTask[] = [];
  fence: string | null = null;
  inComment = false;

  fail(line: number | null, message: string): void {
    if (this.errors.length < MAX_ERRORS) this.errors.push({ line, message });
  }

  read(lines: readonly string[]): void {
    for (let i = 0; i < lines.length; i++) this.line(lines[i]!, i + 1);
    this.closeTasks(-1);
  }

  private line(raw: string, n: number): void {
    if (this.skipped(raw)) return;
    const item = listItem(raw);
    const head = item ? itemHead(item.body) : null;
    if (this.description(raw, item, head)) return;
    if (raw.trim() === "") return;
    this.closeTasks(item ? item.indent : indentOf(raw));
    const h = HEADING.exec(raw);
    if (h) return this.heading(h[1]!.length, h[2]!.trim(), n);
    const phase = item ? null : phaseLine(raw);
    if (phase) return this.enterPhase(phase, n);
    if (item) return this.item(item, head, n);
    const q = QUOTED_ITEM.exec(raw);
    const quoted = q ? listItem(q[1]!) : null;
    if (quoted && (itemHead(quoted.body)?.colon || (this.stream && (quoted.checked !== null || itemHead(quoted.body)))))
      this.fail(n, "a task in a block quote is not read: remove the '>' (or write it as prose)");
  }

  /** Fenced code and HTML comments: prose, whatever they contain (fenced code under a task is its description). */
  private skipped(raw: string): boolean {
    const f = FENCE.exec(raw);
    const top = this.open.at(-1);
    if (this.fence) {
      if (f && f[1]![0] === this.fence[0] && f[1]!.length >= this.fence.length && raw.trim() === f[1]) this.fence = null;
      if (top) top.description.push(dedent(raw, top.indent + 2));
      return true;
    }
    if (f) {
      this.fence = f[1]!;
      if (top && indentOf(raw) > top.indent) top.description.push(dedent(raw, top.indent + 2));
      else this.closeTasks(-1);
      return true;
    }
    if (this.inComment) {
      if (raw.includes("-->")) this.inComment = false;
      return true;
    }
    if (/^\s*<!--/.test(raw)) {
      this.inComment = !raw.slice(raw.indexOf("<!--") + 4).includes("-->");
      return true;
    }
    return false;
  }

  /** A line indented under an open task that is not a task itself: that task's description. */
  private description(raw: string, item: ListItem | null, head: ItemHead | null): boolean {
    if (!this.open.length || (item && head)) return false;
    if (raw.trim() === "") {
      this.open.at(-1)!.description.push("");
      return true;
    }
    const indent = indentOf(raw);
    while (this.open.length && indent <= this.open.at(-1)!.indent) this.endTask();
    const top = this.open.at(-1);
    if (!top) return false;
    top.description.push(dedent(raw, top.indent + 2));
    return true;
  }

  private endTask(): void {
    const t = this.open.pop()!;
    const body = t.description.join("\n").trim();
    if (body) t.task.description = body;
  }

  /** Ends every open task at `indent` or deeper (-1: all of them). */
  private closeTasks(indent: number): void {
    while (this.open.length && (indent < 0 || this.open.at(-1)!.indent >= indent)) this.endTask();
  }

  private heading(level: number, body: string, n: number): void {
    this.closeTasks(-1);
    if (level === 1) return this.levelOne(body, n);
    if (level === 2) {
      const m = PHASE.exec(body);
      if (m) return this.enterPhase(m[1]!.toLowerCase() as StreamPhase, n);
      this.phase = null;
      this.stream = null;
      return;
    }
    if (level !== 3) return; // level 4+ headings are prose inside a stream
    this.stream = null;
    this.outlineIndent = null;
    const m = STREAM.exec(body);
    if (!m) return; // a prose sub-heading ("### Notes")
    this.openStream(m[1]!, m[2] ?? "", n, null);
  }

  private levelOne(body: string, n: number): void {
    this.stream = null;
    this.phase = null;
    const m = INITIATIVE.exec(body);
    if (!m) {
      if (!this.title && !this.sawPhase && body) this.title = { name: body, line: n };
      return;
    }
    const name = m[1]!.trim();
    if (!name) this.fail(n, "initiative has no name");
    else if (name.length > MAX_TITLE) this.fail(n, `initiative name longer than ${MAX_TITLE} characters`);
    else if (this.initiative !== null) this.fail(n, `second "# Initiative:" heading (first on line ${this.initiativeLine})`);
    else {
      if (this.sawPhase) this.fail(this.firstPhaseLine, 'phase before the "# Initiative: NAME" heading');
      this.initiative = name;
      this.initiativeLine = n;
    }
  }

  private firstPhaseLine = 0;

  private enterPhase(phase: StreamPhase, n: number): void {
    this.closeTasks(-1);
    if (!this.sawPhase) this.firstPhaseLine = n;
    this.sawPhase = true;
    this.phase = phase;
    this.stream = null;
    this.outlineIndent = null;
  }

  private item(item: ListItem, head: ItemHead | null, n: number): void {
    if (this.outlineIndent !== null && item.indent <= this.outlineIndent) {
      this.stream = null;
      this.outlineIndent = null;
    }
    if (!this.stream) return this.itemOutsideStream(item, head, n);
    if (head) return this.task(item, head, n);
    if (item.checked !== null) this.fail(n, "checkbox item without a task id: write it as '- [ ] TASK-ID: title'");
  }

  private itemOutsideStream(item: ListItem, head: ItemHead | null, n: number): void {
    // Prose: a bullet without an id; before any phase, `Q3-2024 roadmap` (no colon) is prose too.
    if (!head || (!head.colon && !this.phase && item.checked === null)) return;
    if (isOutlineStream(head)) {
      if (!this.phase) return this.fail(n, "stream outside a phase");
      this.openStream(head.id, head.rest, n, item.indent);
      return;
    }
    this.fail(n, "task outside a stream");
  }

  private openStream(id: string, rest: string, n: number, outlineIndent: number | null): void {
    if (!this.phase) return this.fail(n, "stream outside a phase");
    if (!validId(id)) return this.fail(n, `invalid stream id ${quote(id)} (letters, digits, '.', '_' or '-', starting with a letter or digit)`);
    const problem = streamIdProblem(id);
    if (problem) return this.fail(n, `invalid stream id ${quote(id)}: ${problem}`);
    const a = streamAnnotations(rest.trim());
    const bad = a.deps?.find((x) => !validId(x));
    if (bad) this.fail(n, `invalid dependency ${quote(bad)} in stream ${id}`);
    if (a.name.length > 200) this.fail(n, `stream name longer than 200 characters`);
    if (a.count !== undefined && a.count > MAX_PLACEHOLDERS) this.fail(n, `stream ${id}: more than ${MAX_PLACEHOLDERS} tasks stated; list them instead`);
    const first = this.streamLines.get(id);
    if (first !== undefined) return this.fail(n, `duplicate stream ${id} (first on line ${first})`);
    this.streamLines.set(id, n);
    this.stream = {
      id,
      name: a.name || id,
      phase: this.phase,
      dependencies: a.deps ? dedupe(a.deps) : [],
      explicitDependencies: a.deps !== null,
      tasks: [],
      line: n,
      ...(a.count !== undefined ? { declaredTasks: a.count } : {}),
    };
    this.outlineIndent = outlineIndent;
    this.streams.push(this.stream);
  }

  private task(item: ListItem, head: ItemHead, n: number): void {
    const stream = this.stream!;
    const { id } = head;
    if (id.length > MAX_ID) return this.fail(n, `task id longer than ${MAX_ID} characters`);
    const first = this.taskLines.get(id);
    if (first !== undefined) return this.fail(n, `duplicate task ${id} (first on line ${first})`);
    this.taskLines.set(id, n);
    const pt = taskFrom(id, head.rest, n, (m) => this.fail(n, m));
    const parent = this.open.at(-1);
    if (parent) pt.parentId = parent.task.id;
    if (item.checked) pt.done = true;
    stream.tasks.push(pt);
    this.open.push({ task: pt, indent: item.indent, description: [] });
  }

  /** Whole-document checks, then the plan or the errors. */
  finish(opts: PrdParseOptions): PrdParseResult {
    const name = this.initiative ?? this.title?.name ?? opts.defaultInitiative?.trim() ?? null;
    if (name === null || name === "") this.fail(null, 'missing "# Initiative: NAME" heading');
    else if (this.initiative === null && name.length > MAX_TITLE) this.fail(this.title?.line ?? null, `initiative name longer than ${MAX_TITLE} characters`);
    for (const s of this.streams) this.checkTasks(s);
    if (this.errors.length) {
      this.errors.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
      return { ok: false, errors: this.errors };
    }
    resolveDefaultDependencies(this.streams);
    return { ok: true, plan: { initiative: name!, initiativeLine: this.initiative !== null ? this.initiativeLine : (this.title?.line ?? 0), streams: this.streams } };
  }

  /** Listed tasks, or the stated number of placeholders; a stated number must match what is listed. */
  private checkTasks(s: PlanStream): void {
    const count = s.declaredTasks;
    if (s.tasks.length && count !== undefined && count !== s.tasks.length)
      return this.fail(s.line, `stream ${s.id} states ${count} task${count === 1 ? "" : "s"} but lists ${s.tasks.length}`);
    if (s.tasks.length || (count ?? 0) > MAX_PLACEHOLDERS) return;
    if (!count) return this.fail(s.line, `stream ${s.id} has no tasks${count === 0 ? "" : ': list them under it, or state their number, e.g. "(4 tasks)"'}`);
    for (let k = 1; k <= count; k++) {
      const id = `${s.id}-${k}`;
      const first = this.taskLines.get(id);
      if (first !== undefined) return this.fail(s.line, `placeholder task ${id} of stream ${s.id} is already a task (line ${first})`);
      if (id.length > MAX_ID) return this.fail(s.line, `task id longer than ${MAX_ID} characters`);
      this.taskLines.set(id, s.line);
      s.tasks.push({ id, title: `${s.name} (${k} of ${count})`, line: s.line, placeholder: true });
    }
  }
}

/** A task from the text after its id: `[files: …]` and `@agent-…` taken out, the rest its title. */
function taskFrom(id: string, text: string, line: number, fail: (message: string) => void): PlanTask {
  const files: string[] = [];
  let rest = text.replace(FILES, (_, list: string) => {
    files.push(...list.split(",").map((x) => x.trim().replace(/^`|`$/g, "")).filter(Boolean));
    return " ";
  });
  const agents = new Set<string>();
  rest = rest.replace(AGENT, (_, lead: string, agent: string) => {
    agents.add(agent);
    return lead;
  });
  const title = rest.replace(/\s+/g, " ").trim();
  if (!title) fail(`task ${id} has no title`);
  else if (title.length > MAX_TITLE) fail(`task ${id}: title longer than ${MAX_TITLE} characters`);
  if (agents.size > 1) fail(`task ${id} names more than one agent (${[...agents].map((a) => `@agent-${a}`).join(", ")})`);
  if (files.some((x) => x.length > 1024)) fail(`task ${id}: file path longer than 1024 characters`);
  const pt: PlanTask = { id, title, line };
  if (files.length) pt.files = dedupe(files);
  if (agents.size === 1) pt.assignedAgent = [...agents][0]!;
  return pt;
}

export function parsePrd(text: string, opts: PrdParseOptions = {}): PrdParseResult {
  const reader = new PrdReader();
  reader.read(text.split(/\r?\n/));
  return reader.finish(opts);
}

/** SPEC: parallel → every foundation stream; integration → every parallel stream. In place. */
export function resolveDefaultDependencies(streams: PlanStream[]): void {
  const foundation = streams.filter((s) => s.phase === "foundation").map((s) => s.id);
  const parallel = streams.filter((s) => s.phase === "parallel").map((s) => s.id);
  for (const s of streams) {
    if (s.explicitDependencies) continue;
    if (s.phase === "parallel") s.dependencies = [...foundation];
    else if (s.phase === "integration") s.dependencies = [...(parallel.length ? parallel : foundation)];
    else s.dependencies = [];
  }
}
