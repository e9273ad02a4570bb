/**
 * `orch init`: wire Claude Code to orch in the project root: the task-copilot MCP server in
 * `.mcp.json`, the `/continue` and `/orchestration` slash commands, and `.gitignore` rules for
 * stream worktrees and run state. Everything is decided (and an invalid `.mcp.json` refused)
 * before anything is written; then all files are written together.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findProjectRoot, readEnv } from "../config.ts";
import { failed } from "../errors.ts";
import {
  CONTINUE_COMMAND,
  CONTINUE_COMMAND_FILE,
  GITIGNORE_FILE,
  MCP_FILE,
  mergeMcpJson,
  mergeSettingsHooks,
  SETTINGS_LOCAL_FILE,
  ORCHESTRATION_COMMAND,
  ORCHESTRATION_COMMAND_FILE,
  SERVER_NAME,
  updateGitignore,
  type FileStatus,
} from "../generate/init-files.ts";
import { writeFiles, type FileToWrite } from "../generate/writer.ts";
import { statusEntries } from "../git/repo.ts";
import { initCommitCommand, initFilesAmong } from "../orchestrate/preflight.ts";
import { commonFlags, singleAction } from "./command.ts";
import { printJson, say } from "./output.ts";
import { isIgnoredPath } from "../git/files.ts";

type Status = FileStatus | "kept";

function read(path: string): string | null {
  if (!existsSync(path)) return null;
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw failed(`cannot read ${path}: ${(err as Error).message}`);
  }
}

export const command = singleAction("init", {
  summary: "wire Claude Code to orch: task-copilot in .mcp.json, /continue and /orchestration commands, .gitignore",
  flags: {
    force: { type: "boolean", description: "replace slash command files you have changed" },
    json: commonFlags.json,
    help: commonFlags.help,
  },
  run({ flags }) {
    const root = findProjectRoot();
    const env = readEnv();
    const writes: FileToWrite[] = [];
    const report: { path: string; status: Status; note?: string }[] = [];

    const mcp = mergeMcpJson(read(join(root, MCP_FILE)), { host: env.HTTP_API_HOST, port: env.HTTP_API_PORT });
    if (mcp.status !== "unchanged") writes.push({ path: MCP_FILE, content: mcp.content });
    const server = (JSON.parse(mcp.content) as { mcpServers: Record<string, { env: Record<string, string> }> }).mcpServers[SERVER_NAME]!;
    report.push({ path: MCP_FILE, status: mcp.status, note: `${SERVER_NAME}: orch mcp, API on ${server.env.HTTP_API_HOST}:${server.env.HTTP_API_PORT}` });

    const settings = mergeSettingsHooks(read(join(root, SETTINGS_LOCAL_FILE)));
    if (settings.status !== "unchanged") writes.push({ path: SETTINGS_LOCAL_FILE, content: settings.content });
    report.push({ path: SETTINGS_LOCAL_FILE, status: settings.status, note: "Claude Code hooks → orch hook (live agent status, permission questions)" });

    for (const [path, content] of [
      [CONTINUE_COMMAND_FILE, CONTINUE_COMMAND],
      [ORCHESTRATION_COMMAND_FILE, ORCHESTRATION_COMMAND],
    ] as const) {
      const now = read(join(root, path));
      if (now === content) report.push({ path, status: "unchanged" });
      else if (now !== null && flags.force !== true) report.push({ path, status: "kept", note: "yours differs; --force replaces it" });
      else {
        writes.push({ path, content });
        report.push({ path, status: now === null ? "created" : "updated" });
      }
    }

    const inGit = existsSync(join(root, ".git"));
    const gi = updateGitignore(read(join(root, GITIGNORE_FILE)), (probe) => inGit && isIgnoredPath(root, probe));
    if (gi.status !== "unchanged") writes.push({ path: GITIGNORE_FILE, content: gi.content });
    report.push({ path: GITIGNORE_FILE, status: gi.status, ...(gi.added.length ? { note: `added ${gi.added.join(", ")}` } : {}) });

    writeFiles(root, writes);
    // What git sees as new or changed among init's files (ignored ones never show): orch start
    // merges into this checkout, and parallel streams only get what is committed.
    const commit = inGit ? initFilesAmong(statusEntries(root, { untracked: true }).map((e) => e.path)) : [];
    if (flags.json) return printJson({ projectRoot: root, files: report, commit });
    const mark = (s: Status) => (s === "kept" ? "!" : "✓");
    say(
      `${report.map((r) => `${mark(r.status)} ${r.path}: ${r.status}${r.note ? ` (${r.note})` : ""}`).join("\n")}\n\n` +
        (commit.length ? `Commit these so orch start can merge: ${initCommitCommand(commit)}\n\n` : "") +
        "Next: restart Claude Code in this project so it starts the task-copilot server, then\n" +
        "  orch prd import PRD.md   # your plan → streams and tasks\n" +
        "  /orchestration           # in Claude Code: generate the orchestration files\n" +
        "  /continue Stream-A       # in Claude Code: work a stream\n",
    );
  },
});
