/**
 * The program that ran us through a shell (`sh -c "orch hook"` → Claude Code's pid), from /proc
 * (Linux; null elsewhere). Bun's own file reads: a hook cannot afford loading node:fs.
 */
const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ash", "busybox"]);

async function processInfo(pid: number): Promise<{ ppid: number; comm: string } | null> {
  try {
    const stat = await Bun.file(`/proc/${pid}/stat`).text();
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    return Number.isSafeInteger(ppid) ? { ppid, comm } : null;
  } catch {
    return null;
  }
}

export async function callerPid(): Promise<number | null> {
  let pid = process.ppid;
  for (let hops = 0; hops < 3; hops++) {
    const info = await processInfo(pid);
    if (!info) return hops === 0 ? pid : null;
    if (!SHELLS.has(info.comm)) return pid;
    pid = info.ppid;
  }
  return null;
}
