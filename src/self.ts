/**
 * How to run this same orch again as a child process: the compiled binary itself, or (from
 * source, in development) bun plus the entry file.
 */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}
