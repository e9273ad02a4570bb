/**
 * Following a headless agent's log as it grows. The agent writes to its log file, not to a pipe
 * of orch's, so it outlives a stopped `orch start` (and `--resume` reads on from the saved
 * offset); orch reads the new bytes on each tick and turns them into agent events.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { agentOutputReader, type AgentEvent, type AgentOutputReader } from "./agent-output.ts";

/** At most this much is read per tick and agent, so one chatty agent cannot hold up the run. */
const MAX_READ = 1024 * 1024;

export interface AgentTail {
  /** The new events since the last read; `final` also flushes a last unterminated line. */
  read(final?: boolean): AgentEvent[];
  readonly offset: number;
}

export function tailAgentLog(file: string, startOffset = 0): AgentTail {
  const reader: AgentOutputReader = agentOutputReader();
  let offset = startOffset;
  const decoder = new TextDecoder();
  return {
    get offset() {
      return offset;
    },
    read(final = false) {
      const events: AgentEvent[] = [];
      for (let more = true; more; ) {
        const chunk = readFrom(file, offset);
        offset += chunk.length;
        if (chunk.length) events.push(...reader.push(decoder.decode(chunk, { stream: true })));
        more = final && chunk.length === MAX_READ;
      }
      if (final) events.push(...reader.end());
      return events;
    },
  };
}

function readFrom(file: string, offset: number): Uint8Array {
  let fd: number;
  try {
    if (statSync(file).size <= offset) return new Uint8Array(0);
    fd = openSync(file, "r");
  } catch {
    return new Uint8Array(0); // not written yet
  }
  try {
    const buf = new Uint8Array(MAX_READ);
    const n = readSync(fd, buf, 0, MAX_READ, offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
