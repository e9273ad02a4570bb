/**
 * The real Claude Code CLI for the end-to-end tests: a pinned version from the npm registry,
 * installed once into node_modules/.cache (kept between runs), run with an isolated HOME and
 * config against a stand-in model on loopback. Nothing here reaches Anthropic.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Plain temp dirs (the bench uses this module too, outside the test runner). */
let tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
/** Tests pass their own, cleaned up after the file. */
export function useTempDirs(make: (prefix: string) => string): void {
  tempDir = make;
}

/** The newest release (defers MCP tools behind ToolSearch) and an older one that does not. */
export const CLAUDE_LATEST = "2.1.332";
export const CLAUDE_OLDER = "2.1.197";

const cacheRoot = join(import.meta.dir, "..", "..", "node_modules", ".cache", "claude-code");

/** The directory holding the `claude` binary of `version`, installing it on first use. */
export function claudeBinDir(version: string): string {
  const prefix = join(cacheRoot, version);
  const bin = join(prefix, "node_modules", ".bin");
  if (!existsSync(join(bin, "claude")) || !answers(join(bin, "claude"))) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, "package.json"), '{"private":true}\n');
    const p = Bun.spawnSync(["npm", "install", "--no-audit", "--no-fund", "--prefix", prefix, `@anthropic-ai/claude-code@${version}`], {
      stdout: "pipe",
      stderr: "pipe",
    });
    if (p.exitCode !== 0) throw new Error(`cannot install Claude Code ${version}: ${p.stderr.toString().slice(-2000)}`);
    // Under npm's allowScripts the package's own install step may have been skipped.
    if (!answers(join(bin, "claude"))) Bun.spawnSync(["node", "install.cjs"], { cwd: join(prefix, "node_modules", "@anthropic-ai", "claude-code") });
    if (!answers(join(bin, "claude"))) throw new Error(`Claude Code ${version} installed but \`claude --version\` does not answer`);
  }
  return bin;
}

function answers(claude: string): boolean {
  if (!existsSync(claude)) return false;
  const p = Bun.spawnSync([claude, "--version"], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "", HOME: tempDir("orch-cc-home-") } });
  return p.exitCode === 0 && p.stdout.toString().includes("Claude Code");
}

/**
 * The environment a Claude Code session needs against the stand-in model: its own HOME and
 * config (nothing of the developer's), no updater, no other traffic.
 */
export function claudeEnv(modelUrl: string): Record<string, string> {
  const home = tempDir("orch-cc-home-");
  const config = join(home, ".claude");
  mkdirSync(config, { recursive: true });
  return {
    HOME: home,
    CLAUDE_CONFIG_DIR: config,
    ANTHROPIC_BASE_URL: modelUrl,
    ANTHROPIC_API_KEY: "sk-ant-test-0000000000000000000000000000",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
  };
}

/**
 * A real codebase nobody here wrote: zod's published source (from this project's own
 * node_modules, so no network), with a tracked .gitignore, as a fresh git repository on main.
 */
export function publishedPackageRepo(): string {
  const root = join(tempDir("orch-real-"), "zod app");
  const pkg = join(import.meta.dir, "..", "..", "node_modules", "zod");
  mkdirSync(root, { recursive: true });
  for (const f of ["package.json", "README.md", "LICENSE", "src"]) cpSync(join(pkg, f), join(root, f), { recursive: true });
  writeFileSync(join(root, ".gitignore"), "node_modules/\n*.log\n");
  const git = (...args: string[]) => {
    const p = Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${p.stderr.toString()}`);
  };
  git("init", "-q", "-b", "main");
  git("config", "user.email", "dev@example.com");
  git("config", "user.name", "Dev");
  git("config", "commit.gpgsign", "false");
  git("add", "-A");
  git("commit", "-qm", "zod, as published");
  return root;
}
