/**
 * `orch start` end to end: a real repository, a PRD imported from outside it, the compiled binary,
 * and the built-in simulated agent (`orch agent-sim`) as the agent command, whose recorded
 * timeline ({event, stream, pid, t} lines) is what the tests judge ordering and concurrency by.
 */
import { afterAll } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sh, tempRepo } from "../git/repo-helpers.ts";
import { databaseFor, ON_POSTGRES } from "../backend.ts";
import { cleanEnv, orchBin, runOrch, tempDir, type RunResult } from "../helpers.ts";
import { freePort } from "../net.ts";

export { freePort };

export interface Rec {
  event: "start" | "task" | "committed" | "crash" | "end";
  stream: string;
  pid: number;
  t: number;
  task?: string;
}

export interface Project {
  /** The repository's main worktree (its path holds a space on purpose). */
  root: string;
  db: string;
  /** What orch hands its agents in ORCH_DB: the file, or on PostgreSQL its stand-in's URL (test/backend.ts). */
  dbLocation: string;
  /** The simulated agents' timeline. */
  recordFile: string;
  env: Record<string, string>;
  orch(args: string[], extraEnv?: Record<string, string>): Promise<RunResult>;
  /** `--agent-cmd` for the simulated agent (template quoting: paths may hold spaces). */
  sim(extra?: string): string;
  records(): Rec[];
  state(): any;
  git(...args: string[]): string;
}

export function project(prd: string): Project & { imported: Promise<RunResult> } {
  const root = tempRepo();
  const dir = tempDir("orch-start-");
  const db = join(dir, "tasks.db");
  const recordFile = join(dir, "timeline.jsonl");
  const env = { ORCH_DB: db };
  const orch = (args: string[], extraEnv: Record<string, string> = {}) => runOrch(args, { env: { ...env, ...extraEnv }, cwd: root });
  // Outside the repository, so the main worktree stays clean for the merges.
  const prdFile = join(dir, "PRD.md");
  writeFileSync(prdFile, prd);
  const p: Project = {
    root,
    db,
    dbLocation: ON_POSTGRES ? databaseFor(db) : db,
    recordFile,
    env,
    orch,
    sim: (extra = "--pause 30") => `"${orchBin()}" agent-sim {streamId} ${extra} --record "${recordFile}"`,
    records: () => readRecords(recordFile),
    state: () => JSON.parse(readFileSync(join(root, ".claude/orchestration/orchestration-state.json"), "utf8")),
    git: (...args: string[]) => sh(root, ...args),
  };
  return { ...p, imported: orch(["prd", "import", prdFile]) };
}

/** A project with its PRD imported (fails the test if the import does). */
export async function imported(prd: string): Promise<Project> {
  const p = project(prd);
  const r = await p.imported;
  if (r.code !== 0) throw new Error(`prd import failed: ${r.stderr}`);
  return p;
}

export function readRecords(file: string): Rec[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
}

export const startsOf = (recs: Rec[], stream?: string) => recs.filter((r) => r.event === "start" && (!stream || r.stream === stream));

/** When each stream's last task was recorded (just before the commit that completed it). */
export function lastTaskAt(recs: Rec[], stream: string): number {
  const ts = recs.filter((r) => r.event === "task" && r.stream === stream).map((r) => r.t);
  if (!ts.length) throw new Error(`no task recorded for ${stream}`);
  return Math.max(...ts);
}

/**
 * Most agents working at once: each agent works from its start to its last recorded task (or its
 * crash). An agent may linger a moment after its stream is done; orch counts the stream, not the
 * process, so neither does this. At equal milliseconds an end comes before a start (causality).
 */
export function maxConcurrency(recs: Rec[]): number {
  const byPid = new Map<number, { start: number; end: number }>();
  for (const r of recs) {
    const e = byPid.get(r.pid) ?? { start: Number.POSITIVE_INFINITY, end: Number.NEGATIVE_INFINITY };
    if (r.event === "start") e.start = r.t;
    if (r.event === "task" || r.event === "crash") e.end = Math.max(e.end, r.t);
    byPid.set(r.pid, e);
  }
  const points: [number, number][] = [];
  for (const { start, end } of byPid.values()) points.push([start, 1], [Math.max(start, end), -1]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of points) max = Math.max(max, (now += d));
  return max;
}

/** `orch start` in the background: its output as it comes, for signals and kill -9. */
export function startInBackground(p: Project, args: string[], extraEnv: Record<string, string> = {}) {
  const proc = Bun.spawn([orchBin(), "start", ...args], {
    cwd: p.root,
    env: cleanEnv({ ...p.env, ...extraEnv }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [forResult, forLines] = proc.stdout.tee();
  const stdout = new Response(forResult).text();
  const stderr = new Response(proc.stderr).text();
  return {
    proc,
    /** stdout as it comes (a second reader of it). */
    stdout: forLines,
    result: async (): Promise<RunResult> => ({ code: await proc.exited, stdout: await stdout, stderr: await stderr }),
  };
}

/** Wait (polling the timeline file) until the recorded events satisfy `pred`. */
export async function waitForRecords(p: Project, pred: (recs: Rec[]) => boolean, timeoutMs = 15_000): Promise<Rec[]> {
  const t0 = performance.now();
  for (;;) {
    const recs = p.records();
    if (pred(recs)) return recs;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for the timeline; so far:\n${recs.map((r) => JSON.stringify(r)).join("\n")}`);
    await Bun.sleep(15);
  }
}

/** Wait until every recorded agent process has exited (they are detached from orch). */
/** A live process (a zombie, exited but not yet reaped, is not). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

export async function agentsGone(recs: Rec[], timeoutMs = 10_000): Promise<void> {
  const pids = [...new Set(recs.map((r) => r.pid))];
  const t0 = performance.now();
  while (pids.some(alive)) {
    if (performance.now() - t0 > timeoutMs) throw new Error("simulated agents did not exit");
    await Bun.sleep(15);
  }
}

export const PRD_GUIDE = `# Initiative: Start Demo

## Foundation Phase
### Stream-A: Core
- TASK-001: schema
- TASK-002: models

## Parallel Phase
### Stream-B: API
- TASK-003: routes
### Stream-C: UI
- TASK-004: pages

## Integration Phase
### Stream-D: Tests
- TASK-005: end to end
`;

const tracked: Project[] = [];
afterAll(async () => {
  for (const p of tracked.splice(0)) await agentsGone(p.records());
});

/** An imported project whose simulated agents are awaited gone after the test file. */
export async function setup(prd: string): Promise<Project> {
  const p = await imported(prd);
  tracked.push(p);
  return p;
}


/** An agent command: the simulated agent, then `then` (a shell line) once it has finished its tasks. */
export function simThen(p: Project, then: string): string {
  const script = join(tempDir(), "agent.sh");
  writeFileSync(script, `#!/bin/sh\n"${orchBin()}" agent-sim "$ORCH_STREAM_ID" --pause 20 --record "${p.recordFile}" || exit $?\n${then}\nexit 0\n`);
  chmodSync(script, 0o755);
  return script;
}

/** Another machine of a team: its own clone of the project (or of `from`), its own name, the same database. */
export function machine(p: Project, name: string, from = p.root): Project {
  const root = join(tempDir("orch-team-"), "clone");
  sh(join(root, ".."), "clone", "-q", from, root);
  return { ...p, root, env: { ...p.env, ORCH_MACHINE: name } };
}

/** A background run's stdout as it comes, to wait on; `until` answers when (Date.now()) it held. */
export function follow(stdout: ReadableStream<Uint8Array>) {
  let text = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of stdout) text += dec.decode(chunk, { stream: true });
  })();
  return {
    text: () => text,
    async until(pred: (t: string) => boolean, timeoutMs = 20_000): Promise<number> {
      const t0 = performance.now();
      while (!pred(text)) {
        if (performance.now() - t0 > timeoutMs) throw new Error(`timed out; output so far:\n${text}`);
        await Bun.sleep(20);
      }
      return Date.now();
    },
  };
}
