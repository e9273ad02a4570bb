/**
 * The built-in simulated agent (`orch agent-sim STREAM`, hidden): works through its stream's
 * tasks the way an agent session would — in_progress, heartbeat, edit the task's files, commit,
 * completed — with short pauses, so `orch demo` and the tests show the whole system without
 * Claude installed. Options make it misbehave on purpose (stop early) for the restart tests.
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { heartbeat } from "../core/activity.ts";
import { getStream } from "../core/streams.ts";
import { updateTask } from "../core/tasks.ts";
import type { Store } from "../db/client.ts";

export interface SimOptions {
  streamId: string;
  cwd: string;
  pauseMs: number;
  agentId: string;
  /** Exit with code 3 after finishing this many tasks (a crash, for restart tests). */
  stopAfter?: number;
  /** Append JSON lines {event, stream, pid, t} here (tests read timelines from it). */
  record?: string;
  /** Misbehave as real agents do: mark each task completed first, commit its files a pause later. */
  doneBeforeCommit?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Only paths inside the working tree; anything else becomes a file of the task's own. */
export function safeRelativePath(p: string): string | null {
  if (!p || isAbsolute(p)) return null;
  const n = normalize(p).replace(/^(\.\/)+/, "");
  if (n === "." || n.startsWith("..") || n.split(/[\\/]/).includes("..") || n.startsWith(".git")) return null;
  return n;
}

function git(cwd: string, args: string[]): boolean {
  // Two agents in one checkout (two foundation streams) take turns on git's index lock: try again,
  // as an agent that reads the error would.
  for (let attempt = 0; attempt < 20; attempt++) {
    const p = Bun.spawnSync(["git", "-c", "user.name=orch simulated agent", "-c", "user.email=sim@orch.invalid", "-c", "commit.gpgsign=false", ...args], {
      cwd,
      stdout: "ignore",
      stderr: "pipe",
    });
    if (p.exitCode === 0) return true;
    if (!p.stderr.toString().includes("index.lock")) return false;
    Bun.sleepSync(20 + attempt * 10);
  }
  return false;
}

export async function simulateAgent(store: Store, o: SimOptions): Promise<number> {
  const record = (event: string, extra: Record<string, unknown> = {}) => {
    if (o.record) appendFileSync(o.record, `${JSON.stringify({ event, stream: o.streamId, pid: process.pid, t: Date.now(), ...extra })}\n`);
  };
  record("start");
  const isRepo = existsSync(join(o.cwd, ".git"));
  let done = 0;
  for (const task of (await getStream(store, o.streamId)).tasks) {
    if (task.status === "completed" || task.status === "cancelled") continue;
    await updateTask(store, { id: task.id, status: "in_progress", assignedAgent: o.agentId });
    await heartbeat(store, { taskId: task.id, agentId: o.agentId, notes: `Working on ${task.title}`, phase: "implementation" });
    await sleep(o.pauseMs);
    const declared = Array.isArray(task.metadata.files) ? (task.metadata.files as unknown[]).filter((f): f is string => typeof f === "string") : [];
    const files = declared.map((f) => (f.endsWith("/") ? `${f}${task.id}.md` : f)).map(safeRelativePath).filter((f): f is string => f !== null);
    if (!files.length) files.push(`work/${o.streamId}/${task.id}.md`);
    for (const f of files) {
      const path = join(o.cwd, f);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${task.id}: ${task.title}\n(written by the simulated agent of ${o.streamId})\n`);
    }
    const commit = () => {
      if (!isRepo) return;
      git(o.cwd, ["add", "--", ...files]);
      git(o.cwd, ["commit", "-q", "-m", `${task.id}: ${task.title}`]);
    };
    const complete = () => updateTask(store, { id: task.id, status: "completed", notes: `Done by the simulated agent (${files.join(", ")})` });
    // Recorded just before the commit that completes the task, so anything the orchestrator does
    // in reaction to it is recorded later: tests can assert ordering from the timeline alone.
    if (o.doneBeforeCommit) {
      record("task", { task: task.id });
      await complete();
      await sleep(o.pauseMs);
      commit();
      record("committed", { task: task.id });
    } else {
      commit();
      record("task", { task: task.id });
      await complete();
    }
    done++;
    if (o.stopAfter !== undefined && done >= o.stopAfter) {
      record("crash");
      return 3;
    }
    await sleep(Math.round(o.pauseMs / 2));
  }
  record("end");
  return 0;
}
