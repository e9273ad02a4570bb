/**
 * The npm channel: `npm install -g @orch-cli/orch`, shipped the way esbuild and Biome ship native
 * binaries. `@orch-cli/orch` holds only a small Node launcher as its `orch` command
 * (scripts/npm-launcher.cjs); each build lives in `@orch-cli/orch-<platform>` (`bin/orch` and
 * nothing else), whose `os`/`cpu` (and on Linux `libc`) fields let npm install just the one that
 * runs here. No install script, no download: npm fetches one platform tarball like any dependency.
 *
 * The main package lists the default builds as optionalDependencies, never the `-baseline` ones:
 * those match the same os/cpu as their twin, so npm would install both. They are published for
 * x64 CPUs without AVX2; whoever needs one installs it beside orch by name, and the launcher prefers
 * it when present.
 *
 * Publish the platform packages first, then the main one: until they are on the registry its
 * optional dependencies cannot resolve.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Platform } from "./release.ts";

export const NPM_MAIN = "@orch-cli/orch";
export const npmPlatformName = (p: Platform): string => `${NPM_MAIN}-${p}`;
/** A package's folder under the npm output folder: its name without the scope (`orch`, `orch-linux-x64`). */
export const npmDirName = (name: string): string => name.slice(name.indexOf("/") + 1);
export const isBaseline = (p: Platform): boolean => p.endsWith("-baseline");
/** The launcher source, written as the main package's `bin/orch`. */
export const launcherPath = join(import.meta.dir, "npm-launcher.cjs");

/** Node's `process.platform` / `process.arch` for a platform: npm's `os` and `cpu` values. */
export function nodeTarget(p: Platform): { os: string; cpu: string } {
  const [os, cpu] = p.split("-") as [string, string];
  return { os, cpu };
}

/** What both manifests take from the repository's package.json. */
export interface NpmMeta {
  version: string;
  description: string;
  license?: string;
}

export function platformManifest(p: Platform, meta: NpmMeta): Record<string, unknown> {
  const { os, cpu } = nodeTarget(p);
  return {
    name: npmPlatformName(p),
    version: meta.version,
    description: `The orch binary for ${p}${isBaseline(p) ? " (x64 CPUs without AVX2)" : ""}; run it through ${NPM_MAIN}`,
    ...(meta.license ? { license: meta.license } : {}),
    os: [os],
    cpu: [cpu],
    // Bun's Linux builds link glibc: on musl npm skips the package, and the launcher says so.
    ...(os === "linux" ? { libc: ["glibc"] } : {}),
    // Yarn PnP would otherwise leave the binary inside a zip archive, where it cannot be executed.
    preferUnplugged: true,
  };
}

/**
 * The main package: the launcher as `orch` and every default build (of all `platforms`, not only
 * those built this time: the manifest describes the published set) pinned to this version.
 */
export function mainManifest(platforms: readonly Platform[], meta: NpmMeta): Record<string, unknown> {
  const optional: Record<string, string> = {};
  for (const p of platforms) if (!isBaseline(p)) optional[npmPlatformName(p)] = meta.version;
  return {
    name: NPM_MAIN,
    version: meta.version,
    description: meta.description,
    ...(meta.license ? { license: meta.license } : {}),
    bin: { orch: "bin/orch" },
    optionalDependencies: optional,
  };
}

export function platformReadme(p: Platform, version: string): string {
  const twin = isBaseline(p) ? (p.replace(/-baseline$/, "") as Platform) : undefined;
  return (
    `# ${npmPlatformName(p)}\n\n` +
    `The \`orch\` ${version} binary for ${p}${twin ? ", built for x64 CPUs without AVX2" : ""}. ` +
    `Install [${NPM_MAIN}](https://www.npmjs.com/package/${NPM_MAIN}), not this package: ` +
    (twin
      ? `on a CPU without AVX2, install this one beside it (\`npm install -g ${NPM_MAIN} ${npmPlatformName(p)}\`) and orch uses it instead of ${npmPlatformName(twin)}.\n`
      : `npm adds this one as its optional dependency on ${p}.\n`)
  );
}

const json = (o: unknown): string => `${JSON.stringify(o, null, 2)}\n`;

/** Removes the packages an earlier run wrote into `outdir` (`orch`, `orch-*`); nothing else there. */
export function clearNpmPackages(outdir: string): void {
  mkdirSync(outdir, { recursive: true });
  const main = npmDirName(NPM_MAIN);
  for (const f of readdirSync(outdir)) if (f === main || f.startsWith(`${main}-`)) rmSync(join(outdir, f), { recursive: true, force: true });
}

/** Writes `outdir/orch-<platform>/` (package.json, README.md, bin/orch 0755), ready for `npm pack`. */
export function writePlatformPackage(outdir: string, p: Platform, binary: Uint8Array, meta: NpmMeta): string {
  const dir = join(outdir, npmDirName(npmPlatformName(p)));
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "package.json"), json(platformManifest(p, meta)));
  writeFileSync(join(dir, "README.md"), platformReadme(p, meta.version));
  writeFileSync(join(dir, "bin", "orch"), binary);
  chmodSync(join(dir, "bin", "orch"), 0o755); // npm pack keeps the mode; npm sets it only for `bin` entries
  return dir;
}

/** Writes `outdir/orch/` (package.json, the launcher as bin/orch, the project's README.md). */
export function writeMainPackage(outdir: string, platforms: readonly Platform[], meta: NpmMeta, readme?: Uint8Array): string {
  const dir = join(outdir, npmDirName(NPM_MAIN));
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "package.json"), json(mainManifest(platforms, meta)));
  if (readme) writeFileSync(join(dir, "README.md"), readme);
  writeFileSync(join(dir, "bin", "orch"), readFileSync(launcherPath));
  chmodSync(join(dir, "bin", "orch"), 0o755);
  return dir;
}
