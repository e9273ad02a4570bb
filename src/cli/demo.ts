/**
 * `orch demo [--dir DIR]`: the whole system on the guide's Dark Mode initiative, with no Claude
 * installed. In a scratch git repository it imports the PRD, serves the API, and runs `orch
 * start --launcher headless` with the built-in simulated agent (edits, commits, heartbeats),
 * showing the live monitor when stdout is a terminal. It ends with every stream complete and
 * every parallel branch merged into main.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createChangeFeed } from "../core/change-feed.ts";
import { importPrdMarkdown } from "../core/plan-import.ts";
import { DARK_MODE_PRD } from "../core/samples.ts";
import { readEnv } from "../config.ts";
import { openStore, type Store } from "../db/client.ts";
import { failed, usageError } from "../errors.ts";
import { shellQuote } from "../orchestrate/agent-command.ts";
import { headlessLauncher } from "../orchestrate/launchers/headless.ts";
import { runOrchestration } from "../orchestrate/run.ts";
import { selfCommand } from "../self.ts";
import { renderFrame } from "../watch/render.ts";
import { dbSource } from "../watch/source.ts";
import { singleAction } from "./command.ts";
import { intFlag, str } from "./context.ts";
import { out } from "../sys/io.ts";
import { gitOk } from "../git/git.ts";

const git = (cwd: string, ...args: string[]): string => gitOk(cwd, args, `git ${args[0]} failed in ${cwd}`);

/** A fresh project: a git repository on main with one commit, like a user's. */
function makeProject(dir: string): string {
  const project = join(dir, "project");
  mkdirSync(project, { recursive: true });
  git(project, "init", "-q", "-b", "main");
  // The scratch repository's own identity: every commit in it (the agents', orch's merges) works
  // on a machine where git has none configured, and a global commit.gpgsign does not prompt.
  git(project, "config", "user.name", "orch demo");
  git(project, "config", "user.email", "demo@orch.invalid");
  git(project, "config", "commit.gpgsign", "false");
  writeFileSync(join(project, "README.md"), "# Dark mode demo\n\nA scratch project orch's simulated agents work on.\n");
  writeFileSync(join(project, "PRD.md"), DARK_MODE_PRD);
  git(project, "add", "README.md", "PRD.md");
  git(project, "commit", "-q", "-m", "Initial commit with the PRD");
  return project;
}

function startApi(store: Store, port: number, log: string[]) {
  return import("../api/server.ts").then(async ({ startApiServer }) => {
    for (const p of [port, 0]) {
      try {
        return await startApiServer(store, { host: "127.0.0.1", port: p, mainBranch: "main" });
      } catch {
        // Port taken (another orch?): an ephemeral port is just as good for a demo.
      }
    }
    log.push("⚠ could not start the API");
    return null;
  });
}

export const command = singleAction("demo", {
  summary: "see the whole system work: sample initiative, simulated agents, API and live monitor",
  flags: {
    dir: { type: "string", value: "DIR", description: "an empty or new folder for the scratch project (default: a new temp folder)" },
    pause: { type: "string", value: "MS", description: "how long a simulated agent spends on a task (default 400)" },
    port: { type: "string", value: "N", description: "API port (default HTTP_API_PORT or 9090; another free one if taken)" },
    help: { type: "boolean", short: "h", description: "show this help" },
  },
  async run({ flags }) {
    const pause = String(intFlag("pause", flags.pause, { min: 0, max: 60_000 }, 400));
    const portFlag = intFlag("port", flags.port, { min: 0, max: 65535 });
    const env = readEnv();
    const dirFlag = str(flags.dir);
    let dir: string;
    if (dirFlag) {
      dir = resolve(dirFlag);
      if (existsSync(dir) && readdirSync(dir).length > 0) throw usageError(`--dir ${dir} is not empty: give a new or empty folder`);
      mkdirSync(dir, { recursive: true });
    } else dir = mkdtempSync(join(tmpdir(), "orch-demo-"));

    const project = makeProject(dir);
    const store = await openStore(join(dir, "tasks.db"));
    const report = await importPrdMarkdown(store, DARK_MODE_PRD, { source: "PRD.md" });
    const tty = process.stdout.isTTY === true;
    const log: string[] = [];
    const api = await startApi(store, portFlag ?? env.HTTP_API_PORT, log);

    const header = [
      `orch demo — "${report.initiative.name}": ${report.totalStreams} streams, ${report.totalTasks} tasks, simulated agents`,
      `  project  ${project}`,
      `  database ${store.path}`,
      ...(api ? [`  API      ${api.url}  (try: curl ${api.url}/api/streams)`] : []),
      "",
    ];
    if (!tty) out(`${header.join("\n")}\n`);

    // The monitor: redraw from the database on every change (the same renderer as orch watch).
    const source = dbSource(store);
    const draw = async (final = false) => {
      const frame = renderFrame(await source.snapshot(), {
        width: tty ? Math.min(process.stdout.columns ?? 80, 100) : 80,
        color: tty && env.NO_COLOR === undefined,
        refreshSeconds: 1,
        source: api ? { kind: "api", url: api.url } : { kind: "db", path: store.path },
        now: Date.now(),
      });
      if (final || !tty) return frame;
      const cols = process.stdout.columns ?? 80;
      const tail = log.slice(-8).map((l) => (l.length > cols ? `${l.slice(0, cols - 1)}…` : l));
      out(`\x1b[H${[...header, ...frame.replace(/\n\nPress Ctrl\+C to exit\n$/, "").split("\n"), "", ...tail].join("\x1b[K\n")}\x1b[K\n\x1b[J`);
      return frame;
    };
    const feed = await createChangeFeed(store, { intervalMs: 200 });
    let pending = false;
    const unsubscribe = feed.subscribe(() => {
      if (pending || !tty) return;
      pending = true;
      setTimeout(() => {
        pending = false;
        void draw();
      }, 30);
    });
    feed.start();
    if (tty) out("\x1b[?1049h\x1b[?25l");
    const restore = () => {
      if (tty) out("\x1b[?25h\x1b[?1049l");
    };
    const controller = new AbortController();
    process.on("SIGINT", () => controller.abort());
    await draw();

    const template = [...selfCommand(), "agent-sim", "{streamId}", "--pause", pause].map((w) => (w === "{streamId}" ? w : shellQuote(w))).join(" ");
    let outcome: string;
    try {
      ({ outcome } = await runOrchestration({
        store,
        root: project,
        launcher: headlessLauncher,
        agentTemplate: template,
        maxParallel: 5,
        restartLimit: 2,
        stallTimeoutMs: 60_000,
        resume: false,
        print: (line) => {
          log.push(line);
          if (tty) void draw();
          else out(`${line}\n`);
        },
        signal: controller.signal,
        tickMs: 500,
      }));
    } finally {
      unsubscribe();
      feed.stop();
      restore();
    }

    const frame = await draw(true);
    if (tty) out(`${header.join("\n")}\n${log.join("\n")}\n\n`);
    out(`\n${frame.replace(/\n\nPress Ctrl\+C to exit\n$/, "\n")}\n`);
    const graph = git(project, "log", "--oneline", "--graph", "-n", "12").trimEnd();
    out(`git log of ${project}:\n${graph}\n\n`);
    api?.stop();
    await store.close();
    if (outcome !== "complete") {
      out(`The demo did not complete (${outcome}); the logs are in ${join(project, ".claude/orchestration/logs")}.\n`);
      process.exit(1);
    }
    out(
      [
        "✓ Demo complete: every stream done, stream-b and stream-c merged into main.",
        "Look around:",
        `  ORCH_DB=${store.path} orch stream list`,
        `  ORCH_DB=${store.path} orch serve    # then: orch watch`,
        `  cd ${project} && git log --graph --oneline`,
        "",
      ].join("\n"),
    );
    process.exit(0);
  },
});
