/** Drive a real terminal program in tmux: start it, read the screen, send keys. */
import { withBackendDb } from "./backend.ts";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const hasTmux = Bun.spawnSync(["tmux", "-V"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;

export class TmuxSession {
  readonly name = `orch-test-${randomBytes(4).toString("hex")}`;
  /** The exit status lands here (tmux's pane_dead_status is not always filled in). bash, not sh: on
   *  Ctrl+C bash waits for a child that handles SIGINT itself instead of dying with it. */
  private readonly exitFile = join(tmpdir(), `${this.name}.exit`);
  private constructor() {}

  static start(argv: string[], opts: { env?: Record<string, string>; cwd?: string; width?: number; height?: number } = {}): TmuxSession {
    const s = new TmuxSession();
    const envArgs = Object.entries(withBackendDb(opts.env ?? {})).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const p = Bun.spawnSync(
      ["tmux", "new-session", "-d", "-s", s.name, "-x", String(opts.width ?? 100), "-y", String(opts.height ?? 40), ...envArgs,
        ...(opts.cwd ? ["-c", opts.cwd] : []), "bash", "-c", '"$@"; echo $? > "$0"', s.exitFile, ...argv],
      { stdout: "pipe", stderr: "pipe" },
    );
    if (p.exitCode !== 0) throw new Error(`tmux new-session failed: ${p.stderr.toString()}`);
    // Keep the pane after the program exits so its last screen can still be read.
    Bun.spawnSync(["tmux", "set-option", "-t", s.name, "remain-on-exit", "on"]);
    return s;
  }

  capture(): string {
    return Bun.spawnSync(["tmux", "capture-pane", "-p", "-t", s(this)], { stdout: "pipe" }).stdout.toString();
  }

  sendKeys(...keys: string[]): void {
    Bun.spawnSync(["tmux", "send-keys", "-t", s(this), ...keys]);
  }

  resize(width: number, height: number): void {
    Bun.spawnSync(["tmux", "resize-window", "-t", s(this), "-x", String(width), "-y", String(height)]);
  }

  /** The program's exit status once it has exited, else null. */
  exitStatus(): number | null {
    if (!existsSync(this.exitFile)) return null;
    const text = readFileSync(this.exitFile, "utf8").trim();
    return text ? Number(text) : null;
  }

  /** Poll the screen until `predicate` holds; returns the screen and how long it took. */
  async waitFor(predicate: (screen: string) => boolean, timeoutMs = 10_000): Promise<{ screen: string; ms: number }> {
    const t0 = performance.now();
    let screen = "";
    while (performance.now() - t0 < timeoutMs) {
      screen = this.capture();
      if (predicate(screen)) return { screen, ms: performance.now() - t0 };
      await Bun.sleep(25);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for the screen; last screen:\n${screen}`);
  }

  kill(): void {
    Bun.spawnSync(["tmux", "kill-session", "-t", this.name], { stderr: "ignore" });
    rmSync(this.exitFile, { force: true });
  }
}

const s = (t: TmuxSession) => t.name;
