/**
 * The guide's PRD form (Usage Guide, step 1) → a plan of streams and tasks. Pure: text in,
 * plan or line-numbered errors out; nothing here touches the database.
 *
 *   # Initiative: NAME
 *   ## Foundation Phase | ## Parallel Phase | ## Integration Phase
 *   ### Stream-X: Name (depends on Stream-A, Stream-B)      ← the annotation is optional
 *   - TASK-001: title [files: a.ts, b.ts] @agent-me        ← both annotations optional
 *
 * Prose, blank lines and fenced code are ignored. Lines indented under a task become its
 * description. Without explicit dependencies, parallel streams depend on every foundation
 * stream and integration streams on every parallel stream (on every foundation stream when
 * there is no parallel one, so an integration stream never runs first by accident).
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

/** `PRD line 12: task outside a stream` — the one line the CLI prints after `orch: `. */
export function formatPrdError(e: PrdError): string {
  return e.line === null ? `PRD: ${e.message}` : `PRD line ${e.line}: ${e.message}`;
}

const MAX_ID = 128;
const MAX_TITLE = 500;
const MAX_ERRORS = 100;

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
const DEPENDS = /\s*\(\s*(?:depends\s+on|depends|after)\s*:?\s*([^)]*)\)\s*$/i;
// A bullet at the left margin whose first token ends in ":" followed by a space (so URLs are prose).
const TASK = /^( {0,3})[-*+][ \t]+(\S+?):(?:[ \t]+(.*))?$/;
const FILES = /\[\s*files?\s*:\s*([^\]]*)\]/gi;
const AGENT = /(^|\s)@agent-([A-Za-z0-9][A-Za-z0-9._-]*)(?=\s|$|[,;.!?)])/g;

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
    .split(/[,\s]+/)
    .map((x) => x.replace(/^`|`$/g, "").trim())
    .filter((x) => x && !/^(and|&)$/i.test(x));
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

export function parsePrd(text: string): PrdParseResult {
  const lines = text.split(/\r?\n/);
  const errors: PrdError[] = [];
  const fail = (line: number | null, message: string) => {
    if (errors.length < MAX_ERRORS) errors.push({ line, message });
  };

  let initiative: string | null = null;
  let initiativeLine = 0;
  let phase: StreamPhase | null = null;
  let stream: PlanStream | null = null;
  let task: PlanTask | null = null;
  let bulletIndent = 0;
  let description: string[] = [];
  let fence: string | null = null;
  const streams: PlanStream[] = [];
  const streamLines = new Map<string, number>();
  const taskLines = new Map<string, number>();

  const endTask = () => {
    if (task && description.length) {
      const body = description.join("\n").trim();
      if (body) task.description = body;
    }
    task = null;
    description = [];
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const n = i + 1;

    // Fenced code is prose, whatever it contains.
    const f = FENCE.exec(raw);
    if (fence) {
      if (f && f[1]![0] === fence[0] && f[1]!.length >= fence.length && raw.trim() === f[1]) fence = null;
      if (task) description.push(dedent(raw, bulletIndent + 2));
      continue;
    }
    if (f) {
      fence = f[1]!;
      if (task && indentOf(raw) > bulletIndent) description.push(dedent(raw, bulletIndent + 2));
      else endTask();
      continue;
    }

    // Lines indented deeper than a task's bullet (and blank lines between them) are its description.
    if (task && (raw.trim() === "" || indentOf(raw) > bulletIndent)) {
      description.push(raw.trim() === "" ? "" : dedent(raw, bulletIndent + 2));
      continue;
    }
    if (raw.trim() === "") continue;
    endTask();

    const h = HEADING.exec(raw);
    if (h) {
      const level = h[1]!.length;
      const body = h[2]!.trim();
      if (level === 1) {
        stream = null;
        phase = null;
        const m = INITIATIVE.exec(body);
        if (!m) continue;
        const name = m[1]!.trim();
        if (!name) fail(n, "initiative has no name");
        else if (name.length > MAX_TITLE) fail(n, `initiative name longer than ${MAX_TITLE} characters`);
        else if (initiative !== null) fail(n, `second "# Initiative:" heading (first on line ${initiativeLine})`);
        else {
          initiative = name;
          initiativeLine = n;
        }
        continue;
      }
      if (level === 2) {
        stream = null;
        const m = PHASE.exec(body);
        phase = m ? (m[1]!.toLowerCase() as StreamPhase) : null;
        if (m && initiative === null) fail(n, 'phase before the "# Initiative: NAME" heading');
        continue;
      }
      if (level === 3) {
        stream = null;
        const m = STREAM.exec(body);
        if (!m) continue; // a prose sub-heading ("### Notes")
        if (!phase) {
          fail(n, "stream outside a phase");
          continue;
        }
        const id = m[1]!;
        if (!validId(id)) {
          fail(n, `invalid stream id ${quote(id)} (letters, digits, '.', '_' or '-', starting with a letter or digit)`);
          continue;
        }
        const problem = streamIdProblem(id);
        if (problem) {
          fail(n, `invalid stream id ${quote(id)}: ${problem}`);
          continue;
        }
        let name = (m[2] ?? "").trim();
        let explicit: string[] | null = null;
        const d = DEPENDS.exec(name);
        if (d) {
          name = name.slice(0, d.index).trim();
          const list = splitList(d[1]!);
          explicit = list.length === 1 && /^(none|nothing|-)$/i.test(list[0]!) ? [] : list;
          const bad = explicit.find((x) => !validId(x));
          if (bad) fail(n, `invalid dependency ${quote(bad)} in stream ${id}`);
        }
        if (name.length > 200) fail(n, `stream name longer than 200 characters`);
        const first = streamLines.get(id);
        if (first !== undefined) {
          fail(n, `duplicate stream ${id} (first on line ${first})`);
          continue;
        }
        streamLines.set(id, n);
        stream = {
          id,
          name: name || id,
          phase,
          dependencies: explicit ? dedupe(explicit) : [],
          explicitDependencies: explicit !== null,
          tasks: [],
          line: n,
        };
        streams.push(stream);
      }
      continue; // level 4+ headings are prose inside a stream
    }

    const t = TASK.exec(raw);
    if (!t || !ID_PATTERN.test(t[2]!)) continue; // prose
    const id = t[2]!;
    if (!stream) {
      fail(n, "task outside a stream");
      continue;
    }
    if (id.length > MAX_ID) {
      fail(n, `task id longer than ${MAX_ID} characters`);
      continue;
    }
    const first = taskLines.get(id);
    if (first !== undefined) {
      fail(n, `duplicate task ${id} (first on line ${first})`);
      continue;
    }
    taskLines.set(id, n);
    let rest = t[3] ?? "";
    const files: string[] = [];
    rest = rest.replace(FILES, (_, list: string) => {
      files.push(...list.split(",").map((x) => x.trim().replace(/^`|`$/g, "")).filter(Boolean));
      return " ";
    });
    const agents = new Set<string>();
    rest = rest.replace(AGENT, (_, lead: string, agent: string) => {
      agents.add(agent);
      return lead;
    });
    const title = rest.replace(/\s+/g, " ").trim();
    if (!title) fail(n, `task ${id} has no title`);
    else if (title.length > MAX_TITLE) fail(n, `task ${id}: title longer than ${MAX_TITLE} characters`);
    if (agents.size > 1) fail(n, `task ${id} names more than one agent (${[...agents].map((a) => `@agent-${a}`).join(", ")})`);
    const long = files.find((x) => x.length > 1024);
    if (long) fail(n, `task ${id}: file path longer than 1024 characters`);
    const pt: PlanTask = { id, title, line: n };
    if (files.length) pt.files = dedupe(files);
    if (agents.size === 1) pt.assignedAgent = [...agents][0]!;
    stream.tasks.push(pt);
    task = pt;
    bulletIndent = t[1]!.length;
  }
  endTask();

  if (initiative === null) fail(null, 'missing "# Initiative: NAME" heading');
  for (const s of streams) if (s.tasks.length === 0) fail(s.line, `stream ${s.id} has no tasks`);
  if (errors.length) {
    errors.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
    return { ok: false, errors };
  }

  resolveDefaultDependencies(streams);
  return { ok: true, plan: { initiative: initiative!, initiativeLine, streams } };
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
