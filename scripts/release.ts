/**
 * Release packaging: one `orch` per platform, each packed as
 * `orch-<version>-<platform>.tar.gz` (a top-level `orch-<version>-<platform>/` folder holding
 * `orch` and README.md), plus a copy of scripts/install.sh and `SHA256SUMS` (of all of them)
 * in `sha256sum` format. `scripts/install.sh` reads
 * SHA256SUMS as the index of a release folder: it picks its archive by name and verifies it.
 *
 * With `npm`, the same binaries also become npm packages (scripts/npm.ts): one folder per package
 * in `npm.outdir`, ready for `npm pack` / `npm publish`.
 *
 * The tar writer is our own (ustar, ~40 lines) rather than `tar` or Bun.Archive: it sets the
 * executable bit, owner 0:0 and one mtime on every platform we build on (GNU tar and bsdtar take
 * different flags for that; Bun.Archive has no mode option).
 */
import { gzip } from "node:zlib";
import { promisify } from "node:util";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { clearNpmPackages, writeMainPackage, writePlatformPackage, type NpmMeta } from "./npm.ts";

const gzipAsync = promisify(gzip);

/**
 * Every release platform and the Bun target that builds it. x64 has a `-baseline` build for
 * CPUs without AVX2 (the default x64 builds need it): on Linux those are still common (older
 * Xeons, some VMs); on macOS only pre-2013 Intel Macs, but the build is cheap and the installer
 * then treats both OSes alike.
 */
export const PLATFORMS = [
  "linux-x64",
  "linux-x64-baseline",
  "linux-arm64",
  "darwin-x64",
  "darwin-x64-baseline",
  "darwin-arm64",
] as const;
export type Platform = (typeof PLATFORMS)[number];

export const bunTarget = (p: Platform): string => `bun-${p}`;
export const archiveStem = (version: string, p: Platform): string => `orch-${version}-${p}`;
export const archiveName = (version: string, p: Platform): string => `${archiveStem(version, p)}.tar.gz`;

export interface TarEntry {
  name: string;
  /** undefined → a directory entry */
  data?: Uint8Array;
  mode: number;
}

function octal(n: number, width: number): string {
  // width includes the trailing NUL
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

/** One ustar archive (uncompressed). Names must be ASCII and ≤ 100 bytes (ours are). */
export function tar(entries: TarEntry[], mtime: number): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const e of entries) {
    const isDir = e.data === undefined;
    const name = isDir && !e.name.endsWith("/") ? `${e.name}/` : e.name;
    if (!/^[\x20-\x7e]+$/.test(name) || name.length > 100) throw new Error(`tar: unsupported entry name ${name}`);
    const size = e.data?.length ?? 0;
    const h = new Uint8Array(512);
    const put = (off: number, s: string) => h.set(enc.encode(s), off);
    put(0, name);
    put(100, octal(e.mode, 8));
    put(108, octal(0, 8)); // uid
    put(116, octal(0, 8)); // gid
    put(124, octal(size, 12));
    put(136, octal(Math.floor(mtime), 12));
    put(148, "        "); // checksum is computed with this field as spaces
    put(156, isDir ? "5" : "0");
    put(257, "ustar\0");
    put(263, "00");
    put(265, "root");
    put(297, "root");
    let sum = 0;
    for (const b of h) sum += b;
    put(148, sum.toString(8).padStart(6, "0") + "\0 ");
    parts.push(h);
    total += 512;
    if (e.data) {
      parts.push(e.data);
      const pad = (512 - (size % 512)) % 512;
      parts.push(new Uint8Array(pad));
      total += size + pad;
    }
  }
  parts.push(new Uint8Array(1024)); // end-of-archive: two zero blocks
  total += 1024;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function sha256Hex(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** `sha256sum` output format: `<hex>  <name>`, one line each, sorted by name. */
export function sha256sums(files: { name: string; sha256: string }[]): string {
  return [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => `${f.sha256}  ${f.name}\n`)
    .join("");
}

/** Packs one built binary: `<stem>/orch` (0755) and `<stem>/README.md` when the repo has one. */
export async function packArchive(opts: {
  binary: Uint8Array;
  version: string;
  platform: Platform;
  extras?: { name: string; data: Uint8Array }[];
  mtime?: number;
  /** gzip level, 6 by default (level 9 saves 2% for twice the time) */
  level?: number;
}): Promise<{ name: string; data: Uint8Array }> {
  const stem = archiveStem(opts.version, opts.platform);
  const mtime = opts.mtime ?? Math.floor(Date.now() / 1000);
  const entries: TarEntry[] = [
    { name: stem, mode: 0o755 },
    { name: `${stem}/orch`, data: opts.binary, mode: 0o755 },
    ...(opts.extras ?? []).map((x) => ({ name: `${stem}/${x.name}`, data: x.data, mode: 0o644 })),
  ];
  // zlib's async gzip runs on the thread pool, so packing one platform overlaps the next build.
  const data = new Uint8Array(await gzipAsync(tar(entries, mtime), { level: opts.level ?? 6 }));
  return { name: archiveName(opts.version, opts.platform), data };
}

export interface ReleaseResult {
  dir: string;
  archives: { platform: Platform; name: string; sha256: string; bytes: number }[];
  sumsFile: string;
  /** the npm package folders written (platforms in build order, then the main package) */
  npmPackages: string[];
}

/**
 * Builds every platform in `platforms` and writes the archives and SHA256SUMS into `outdir`
 * (created if missing; `orch-*.tar.gz` and SHA256SUMS from an earlier run are replaced, nothing
 * else there is touched). `compile({target, outfile})` is scripts/build.ts's `build`.
 * `npm.outdir` likewise holds one set of npm packages: earlier `orch` and `orch-*` folders go.
 */
export async function buildRelease(opts: {
  root: string;
  outdir: string;
  version: string;
  platforms?: readonly Platform[];
  compile: (o: { target: string; outfile: string }) => Promise<string>;
  log?: (line: string) => void;
  npm?: { outdir: string; meta: NpmMeta };
}): Promise<ReleaseResult> {
  const platforms = opts.platforms ?? PLATFORMS;
  const log = opts.log ?? (() => {});
  mkdirSync(opts.outdir, { recursive: true });
  // The folder holds exactly one release: drop archives and sums of an earlier run (only ours).
  for (const f of readdirSync(opts.outdir)) {
    if (f === "SHA256SUMS" || f === "install.sh" || /^orch-.+\.tar\.gz$/.test(f)) rmSync(join(opts.outdir, f), { force: true });
  }
  const work = mkdtempSync(join(tmpdir(), "orch-release-"));
  const readme = join(opts.root, "README.md");
  const readmeData = existsSync(readme) ? readFileSync(readme) : undefined;
  const extras = readmeData ? [{ name: "README.md", data: readmeData }] : [];
  const mtime = process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : Math.floor(Date.now() / 1000);
  const archives: ReleaseResult["archives"] = [];
  const npmPackages: string[] = [];
  if (opts.npm) clearNpmPackages(opts.npm.outdir);
  // Builds run one at a time (a cross compile holds ~0.5 GB); the previous platform is being
  // compressed meanwhile, and at most one is, so memory stays at about one binary's worth.
  let packing: Promise<void> = Promise.resolve();
  try {
    for (const platform of platforms) {
      const outfile = join(work, platform, "orch");
      const t0 = performance.now();
      await opts.compile({ target: bunTarget(platform), outfile });
      log(`built ${platform} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      await packing;
      const binary = new Uint8Array(readFileSync(outfile));
      rmSync(join(work, platform), { recursive: true, force: true });
      if (opts.npm) npmPackages.push(writePlatformPackage(opts.npm.outdir, platform, binary, opts.npm.meta));
      packing = packArchive({ binary, version: opts.version, platform, extras, mtime }).then((a) => {
        writeFileSync(join(opts.outdir, a.name), a.data);
        archives.push({ platform, name: a.name, sha256: sha256Hex(a.data), bytes: a.data.length });
      });
    }
    await packing;
  } catch (e) {
    await packing.catch(() => {}); // no stray rejection after a failed build
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  archives.sort((a, b) => platforms.indexOf(a.platform) - platforms.indexOf(b.platform));
  // The installer ships beside the archives (`sh install.sh` in a release folder installs from
  // it) and is listed in SHA256SUMS like them, so a published release is one folder to upload.
  const listed: { name: string; sha256: string }[] = [...archives];
  const installer = join(opts.root, "scripts", "install.sh");
  if (existsSync(installer)) {
    const data = readFileSync(installer);
    writeFileSync(join(opts.outdir, "install.sh"), data, { mode: 0o755 });
    listed.push({ name: "install.sh", sha256: sha256Hex(data) });
  }
  const sumsFile = join(opts.outdir, "SHA256SUMS");
  writeFileSync(sumsFile, sha256sums(listed));
  // The main package names every platform, built this time or not: it describes the published set.
  if (opts.npm) npmPackages.push(writeMainPackage(opts.npm.outdir, PLATFORMS, opts.npm.meta, readmeData));
  return { dir: opts.outdir, archives, sumsFile, npmPackages };
}
