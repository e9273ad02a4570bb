/**
 * The main checkout's top level found by reading `.git` files, without running git: a hook runs
 * on every tool call and must cost about one process start. A worktree's `.git` file names its
 * git dir; that dir's `commondir` leads to the main repository's `.git`. Bun's own file reads,
 * because loading node:fs costs a hook a few milliseconds.
 */
import { dirname, isAbsolute, join, resolve } from "node:path";

async function readText(path: string): Promise<string | null> {
  try {
    const f = Bun.file(path);
    return (await f.exists()) ? (await f.text()).trim() : null;
  } catch {
    return null;
  }
}

/** From a worktree's git dir (`<main>/.git/worktrees/X`) to the main top level. */
async function mainFromGitDir(gitDir: string): Promise<string | null> {
  const common = await readText(join(gitDir, "commondir"));
  const commonDir = common === null ? gitDir : isAbsolute(common) ? common : resolve(gitDir, common);
  return commonDir.endsWith("/.git") ? commonDir.slice(0, -"/.git".length) : null;
}

export async function mainTopLevelFromFs(cwd: string): Promise<string | null> {
  let dir = resolve(cwd);
  for (;;) {
    const dotGit = join(dir, ".git");
    // A repository's .git is a directory (it holds HEAD); a worktree's is a file naming its git dir.
    if (await Bun.file(join(dotGit, "HEAD")).exists()) return dir;
    const text = await readText(dotGit);
    if (text !== null) {
      const m = /^gitdir:\s*(.+)$/m.exec(text);
      if (!m) return null;
      const gitDir = isAbsolute(m[1]!) ? m[1]! : resolve(dir, m[1]!);
      return (await mainFromGitDir(gitDir)) ?? dir;
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}
