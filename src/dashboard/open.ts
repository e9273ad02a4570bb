/**
 * `orch serve --open`: hand the dashboard's URL to the desktop's opener — `open` on macOS,
 * `xdg-open` elsewhere — as an argv (no shell: the URL is never parsed as a command). Whatever
 * goes wrong is a warning line, never a failed serve: the server is already listening.
 */
export function openerCommand(url: string, platform: NodeJS.Platform = process.platform): string[] {
  if (platform === "darwin") return ["open", url];
  if (platform === "win32") return ["explorer.exe", url];
  return ["xdg-open", url];
}

/** Resolves to a warning to print (never with the URL: a login link works once, and for whoever holds it), or undefined when the opener took it. */
export async function openInBrowser(url: string, opts: { platform?: NodeJS.Platform; timeoutMs?: number } = {}): Promise<string | undefined> {
  const argv = openerCommand(url, opts.platform);
  const program = Bun.which(argv[0]!, { PATH: process.env.PATH ?? "" });
  if (!program) return `cannot open a browser: ${argv[0]} is not installed; open the Dashboard link yourself`;
  try {
    const p = Bun.spawn([program, ...argv.slice(1)], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    // xdg-open returns once the browser has the URL; a browser it starts in the foreground may
    // not return at all: past the timeout it is left running, and no news is good news.
    const code = await Promise.race([p.exited, Bun.sleep(opts.timeoutMs ?? 5000).then(() => undefined)]);
    if (code === undefined) {
      p.unref();
      return undefined;
    }
    return code === 0 ? undefined : `cannot open a browser: ${argv[0]} exited with status ${code}; open the Dashboard link yourself`;
  } catch (err) {
    return `cannot open a browser: ${(err as Error)?.message ?? String(err)}; open the Dashboard link yourself`;
  }
}
