/**
 * The main checkout's top level found by reading `.git` files, without running git: a hook runs
 * on every tool call and must cost about one process start. A worktree's `.git` file names its
 * git dir; that dir's `commondir` leads to the main repository's `.git`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

/** From a worktree's git dir (`<main>/.git/worktrees/X`) to the main top level. */
function mainFromGitDir(gitDir: string): string | null {
  const common = readText(join(gitDir, "commondir"));
  const commonDir = common === null ? gitDir : isAbsolute(common) ? common : resolve(gitDir, common);
  return commonDir.endsWith("/.git") ? commonDir.slice(0, -"/.git".length) : null;
}

export function mainTopLevelFromFs(cwd: string): string | null {
  let dir = resolve(cwd);
  for (;;) {
    const dotGit = join(dir, ".git");
    if (existsSync(dotGit)) {
      if (statSync(dotGit).isDirectory()) return dir;
      const text = readText(dotGit);
      const m = text ? /^gitdir:\s*(.+)$/m.exec(text) : null;
      if (!m) return null;
      const gitDir = isAbsolute(m[1]!) ? m[1]! : resolve(dir, m[1]!);
      return mainFromGitDir(gitDir) ?? dir;
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}
