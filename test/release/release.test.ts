/**
 * The release end to end: `bun scripts/build.ts --all` builds every platform for real (cross
 * compiles included: Bun fetches each runtime from the npm registry once and caches it), then
 * scripts/install.sh installs from that folder and from an http:// URL served here, and every
 * branch of its detection is driven through the ORCH_INSTALL_* overrides.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { archiveName, packArchive, PLATFORMS, sha256Hex, sha256sums, tar, type Platform } from "../../scripts/release.ts";
import { launcherPath, mainManifest, platformManifest } from "../../scripts/npm.ts";
import { tempDir } from "../helpers.ts";

const root = join(import.meta.dir, "..", "..");
const script = join(root, "scripts", "install.sh");
const pkg = (await Bun.file(join(root, "package.json")).json()) as { version: string; description: string; license?: string };
const version = pkg.version;

/** What install.sh should pick on this machine, worked out independently of it. */
const hostPlatform: Platform = (() => {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const os = process.platform === "darwin" ? "darwin" : "linux";
  if (arch === "arm64") return `${os}-arm64` as Platform;
  const avx2 = os === "linux" ? /\bavx2\b/.test(readFileSync("/proc/cpuinfo", "utf8")) : true;
  return `${os}-x64${avx2 ? "" : "-baseline"}` as Platform;
})();

// Each install unpacks and hashes a ~50 MB archive (about 1 s); some tests run several.
setDefaultTimeout(30_000);

let release = ""; // the folder `build --all` wrote
let npmOut = ""; // and its npm packages
let buildOutput = "";
let buildSeconds = 0;

beforeAll(async () => {
  const top = tempDir("orch-release-test-");
  release = join(top, "release");
  npmOut = join(top, "npm");
  const t0 = performance.now();
  const p = Bun.spawn([process.execPath, join(root, "scripts", "build.ts"), "--all", "--outdir", release, "--npm-outdir", npmOut], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  buildSeconds = (performance.now() - t0) / 1000;
  buildOutput = out;
  if (code !== 0) throw new Error(`build --all failed (${code}): ${out}${err}`);
}, 180_000);

afterAll(() => {
  if (buildSeconds) console.log(`release build --all: ${buildSeconds.toFixed(1)} s`);
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs install.sh under `shell` with only the given environment (HOME always a temp dir). */
async function install(args: string[], env: Record<string, string> = {}, shell: string[] = ["sh"]): Promise<Run> {
  const p = Bun.spawn([...shell, script, ...args], {
    cwd: tempDir(),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tempDir("orch-home-"), ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

function versionOf(bin: string): string {
  const p = Bun.spawnSync([bin, "--version"], { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin" } });
  return p.stdout.toString();
}

/** A folder that shares the release's archives (symlinks) but has its own SHA256SUMS. */
function releaseWithSums(sums: string, extra: { name: string; data: Uint8Array }[] = []): string {
  const dir = tempDir("orch-release-copy-");
  for (const f of readdirSync(release)) if (f.endsWith(".tar.gz")) symlinkSync(join(release, f), join(dir, f));
  for (const x of extra) writeFileSync(join(dir, x.name), x.data);
  writeFileSync(join(dir, "SHA256SUMS"), sums);
  return dir;
}

/** A static server over `dir`; `tamper` may replace a file's bytes in flight. */
function serve(dir: string, tamper?: (name: string, data: Uint8Array) => Uint8Array) {
  const requests: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const name = decodeURIComponent(new URL(req.url).pathname).replace(/^\/rel\//, "");
      requests.push(name);
      const file = join(dir, name);
      if (name.includes("/") || !existsSync(file)) return new Response("not found", { status: 404 });
      const data = new Uint8Array(await Bun.file(file).arrayBuffer());
      return new Response(tamper ? tamper(name, data) : data);
    },
  });
  return { url: `http://127.0.0.1:${server.port}/rel/`, requests, stop: () => server.stop(true) };
}

/** The first bytes of `<stem>/orch` inside a .tar.gz, read with our own ustar walk. */
function binaryHead(archive: string, n = 20): { name: string; mode: number; size: number; head: Uint8Array } {
  const raw = Bun.gunzipSync(readFileSync(archive));
  const dec = new TextDecoder();
  for (let off = 0; off + 512 <= raw.length; ) {
    const h = raw.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = dec.decode(h.subarray(0, 100)).replace(/\0.*$/s, "");
    const size = parseInt(dec.decode(h.subarray(124, 136)).replace(/\0.*$/s, ""), 8);
    const mode = parseInt(dec.decode(h.subarray(100, 108)).replace(/\0.*$/s, ""), 8);
    if (name.endsWith("/orch")) return { name, mode, size, head: raw.subarray(off + 512, off + 512 + n) };
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`no orch in ${archive}`);
}

/** A PATH holding only what install.sh needs, with the given downloader / checksum tool. */
function toolPath(tools: string[]): string {
  const dir = tempDir("orch-tools-");
  const base = ["sh", "dirname", "uname", "grep", "awk", "mktemp", "tar", "gzip", "cp", "mv", "chmod", "mkdir", "rm", "head", "wc", "tr", "cat"];
  for (const t of [...base, ...tools]) {
    const at = Bun.which(t);
    if (!at) throw new Error(`${t} is not installed here`);
    symlinkSync(at, join(dir, t));
  }
  return dir;
}

describe("build --all", () => {
  test("one tar.gz per platform and a SHA256SUMS that sha256sum -c accepts", () => {
    const names = [...PLATFORMS.map((p) => archiveName(version, p)), "install.sh"];
    expect(readdirSync(release).sort()).toEqual([...names, "SHA256SUMS"].sort());
    expect(readFileSync(join(release, "install.sh"))).toEqual(readFileSync(script));
    expect(statSync(join(release, "install.sh")).mode & 0o777).toBe(0o755);
    const sums = readFileSync(join(release, "SHA256SUMS"), "utf8");
    expect(sums.split("\n").filter(Boolean).map((l) => l.slice(66))).toEqual([...names].sort());
    for (const line of sums.trimEnd().split("\n")) expect(line).toMatch(/^[0-9a-f]{64}  (orch-[\w.+-]+\.tar\.gz|install\.sh)$/);
    const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: release, stdout: "pipe", stderr: "pipe" });
    expect(check.exitCode).toBe(0);
    expect(check.stdout.toString()).toBe(names.sort().map((n) => `${n}: OK\n`).join(""));
    for (const p of PLATFORMS) expect(buildOutput).toContain(`built ${p} in `);
  });

  test("each archive holds orch-<version>-<platform>/orch (0755) and README.md, as system tar lists them", () => {
    for (const p of PLATFORMS) {
      const stem = `orch-${version}-${p}`;
      const t = Bun.spawnSync(["tar", "-tvzf", join(release, archiveName(version, p))], { stdout: "pipe", stderr: "pipe" });
      expect(t.exitCode).toBe(0);
      const lines = t.stdout.toString().trimEnd().split("\n");
      expect(lines.map((l) => l.split(/\s+/).at(-1))).toEqual([`${stem}/`, `${stem}/orch`, `${stem}/README.md`]);
      expect(lines[1]).toStartWith("-rwxr-xr-x root/root");
      expect(lines[2]).toStartWith("-rw-r--r-- root/root");
    }
  });

  test("the binaries are the right format: ELF x86-64 / aarch64, Mach-O x86_64 / arm64", () => {
    const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
    const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, true);
    const kinds: Record<string, string> = {};
    for (const p of PLATFORMS) {
      const { mode, head } = binaryHead(join(release, archiveName(version, p)));
      expect(mode).toBe(0o755);
      if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
        // ELF: class 2 = 64-bit, data 1 = little endian, e_machine at 18: 0x3e x86-64, 0xb7 aarch64
        expect([head[4], head[5]]).toEqual([2, 1]);
        kinds[p] = `ELF ${({ 0x3e: "x86-64", 0xb7: "aarch64" } as Record<number, string>)[u16(head, 18)] ?? u16(head, 18)}`;
      } else if (u32(head, 0) === 0xfeedfacf) {
        // Mach-O 64-bit little endian; cputype 0x01000007 x86_64, 0x0100000c arm64
        kinds[p] = `Mach-O ${({ 0x01000007: "x86_64", 0x0100000c: "arm64" } as Record<number, string>)[u32(head, 4)] ?? u32(head, 4)}`;
      } else kinds[p] = "unknown";
    }
    expect(kinds).toEqual({
      "linux-x64": "ELF x86-64",
      "linux-x64-baseline": "ELF x86-64",
      "linux-arm64": "ELF aarch64",
      "darwin-x64": "Mach-O x86_64",
      "darwin-x64-baseline": "Mach-O x86_64",
      "darwin-arm64": "Mach-O arm64",
    });
  });

  test("the npm packages: one per platform, each with its archive's binary, and @orch-cli/orch naming the default ones", () => {
    expect(readdirSync(npmOut).sort()).toEqual(["orch", ...PLATFORMS.map((p) => `orch-${p}`)].sort());
    const meta = { version, description: pkg.description, license: pkg.license };
    const manifest = (dir: string) => JSON.parse(readFileSync(join(npmOut, dir, "package.json"), "utf8")) as unknown;
    for (const p of PLATFORMS) {
      const dir = join(npmOut, `orch-${p}`);
      expect(manifest(`orch-${p}`)).toEqual(platformManifest(p, meta));
      expect(readdirSync(dir).sort()).toEqual(["README.md", "bin", "package.json"]);
      const bin = join(dir, "bin", "orch");
      expect(statSync(bin).mode & 0o777).toBe(0o755);
      const inArchive = binaryHead(join(release, archiveName(version, p)), 4096);
      expect(statSync(bin).size).toBe(inArchive.size);
      expect(new Uint8Array(readFileSync(bin).subarray(0, 4096))).toEqual(new Uint8Array(inArchive.head));
    }
    expect(manifest("orch")).toEqual(mainManifest(PLATFORMS, meta));
    expect(readFileSync(join(npmOut, "orch", "bin", "orch"))).toEqual(readFileSync(launcherPath));
    expect(readFileSync(join(npmOut, "orch", "README.md"))).toEqual(readFileSync(join(root, "README.md")));
    expect(buildOutput).toContain(`wrote ${PLATFORMS.length + 1} npm packages in ${npmOut} (publish the orch-* ones first, then orch)\n`);
  });

  test("an unknown --platforms name is refused before building anything", () => {
    const out = tempDir();
    const p = Bun.spawnSync([process.execPath, join(root, "scripts", "build.ts"), "--all", "--outdir", out, "--platforms", "linux-x64,beos-ppc"], {
      cwd: root,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toBe(`build: unknown platform beos-ppc (known: ${PLATFORMS.join(", ")})\n`);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("packaging helpers", () => {
  test("tar() writes a ustar archive system tar extracts with modes and contents intact", () => {
    const dir = tempDir();
    const data = new TextEncoder().encode("#!/bin/sh\necho hi\n".repeat(100)); // > 512 bytes: padding path
    writeFileSync(join(dir, "a.tar"), tar([{ name: "pkg", mode: 0o755 }, { name: "pkg/run", data, mode: 0o755 }, { name: "pkg/n.txt", data: new Uint8Array(0), mode: 0o644 }], 1_700_000_000));
    const x = Bun.spawnSync(["tar", "-xf", "a.tar"], { cwd: dir, stderr: "pipe" });
    expect(x.stderr.toString()).toBe("");
    expect(x.exitCode).toBe(0);
    expect(readFileSync(join(dir, "pkg", "run"))).toEqual(Buffer.from(data));
    expect(statSync(join(dir, "pkg", "run")).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, "pkg", "n.txt")).size).toBe(0);
    expect(statSync(join(dir, "pkg", "run")).mtimeMs).toBe(1_700_000_000_000);
    expect(() => tar([{ name: "é", data, mode: 0o644 }], 0)).toThrow("tar: unsupported entry name é");
  });

  test("sha256sums() is sha256sum's format, sorted by name", () => {
    expect(sha256sums([{ name: "b.tar.gz", sha256: "2".repeat(64) }, { name: "a.tar.gz", sha256: "1".repeat(64) }])).toBe(
      `${"1".repeat(64)}  a.tar.gz\n${"2".repeat(64)}  b.tar.gz\n`,
    );
    expect(sha256Hex(new TextEncoder().encode("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("install.sh", () => {
  test("from a local folder: picks this machine's build, verifies it, installs, prints version and PATH hint", async () => {
    const dir = join(tempDir(), "bin");
    const r = await install(["--from", release, "--dir", dir]);
    const note = hostPlatform.endsWith("-baseline") ? "orch install: CPU without AVX2: choosing the baseline build\n" : "";
    expect(r.stderr).toBe(`${note}orch install: ${hostPlatform}: ${archiveName(version, hostPlatform)} from ${release}\n`);
    expect(r.stdout).toBe(
      `installed orch ${version} to ${dir}/orch\n` +
        `${dir} is not on your PATH; add this line to your shell profile (~/.profile, ~/.zshrc):\n` +
        `  export PATH="${dir}:$PATH"\n`,
    );
    expect(r.code).toBe(0);
    expect(versionOf(join(dir, "orch"))).toBe(`orch ${version}\n`);
    expect(statSync(join(dir, "orch")).mode & 0o777).toBe(0o755);
    expect(readdirSync(dir)).toEqual(["orch"]); // no staging file left behind
  });

  test("from an http:// URL (curl), replacing an existing orch; no PATH hint when the dir is on PATH", async () => {
    const srv = serve(release);
    try {
      const dir = tempDir();
      writeFileSync(join(dir, "orch"), "#!/bin/sh\necho old\n", { mode: 0o755 });
      const r = await install(["--from", srv.url, "--dir", dir], { PATH: `${dir}:${process.env.PATH}` });
      expect(r.stdout).toBe(`installed orch ${version} to ${dir}/orch\n`);
      expect(r.code).toBe(0);
      expect(srv.requests).toEqual(["SHA256SUMS", archiveName(version, hostPlatform)]);
      expect(versionOf(join(dir, "orch"))).toBe(`orch ${version}\n`);
      expect(readdirSync(dir)).toEqual(["orch"]);
    } finally {
      srv.stop();
    }
  });

  test("tool fallbacks: wget + shasum, and openssl for the checksum", async () => {
    const srv = serve(release);
    try {
      for (const tools of [["wget", "shasum", "perl"], ["wget", "openssl"]]) {
        const dir = tempDir();
        const r = await install(["--from", srv.url, "--dir", dir, "--version", version], { PATH: toolPath(tools) });
        expect(r.stderr).not.toContain("not found");
        expect(r.code).toBe(0);
        expect(r.stdout).toStartWith(`installed orch ${version} to ${dir}/orch\n`);
      }
      const none = await install(["--from", srv.url, "--dir", tempDir()], { PATH: toolPath(["sha256sum"]) });
      expect(none).toEqual({ code: 1, stdout: "", stderr: `orch install: need curl or wget to download from ${srv.url.slice(0, -1)}\n` });
      const noSum = await install(["--from", release, "--dir", tempDir()], { PATH: toolPath([]) });
      expect(noSum).toEqual({ code: 1, stdout: "", stderr: "orch install: need sha256sum, shasum or openssl to verify the download\n" });
    } finally {
      srv.stop();
    }
  });

  test("a download that does not match SHA256SUMS is refused and the existing orch is untouched", async () => {
    const name = archiveName(version, hostPlatform);
    const srv = serve(release, (n, data) => {
      if (n !== name) return data;
      const copy = data.slice();
      const i = copy.length - 100;
      copy[i] = copy[i]! ^ 0xff;
      return copy;
    });
    try {
      const dir = tempDir();
      writeFileSync(join(dir, "orch"), "old", { mode: 0o755 });
      const r = await install(["--from", srv.url, "--dir", dir]);
      const expected = readFileSync(join(release, "SHA256SUMS"), "utf8").split("\n").find((l) => l.endsWith(`  ${name}`))!.slice(0, 64);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(
        new RegExp(`^(orch install: CPU without AVX2: choosing the baseline build\\n)?orch install: ${hostPlatform}: ${name} from ${srv.url.slice(0, -1)}\\norch install: checksum mismatch for ${name.replaceAll(".", "\\.")}: expected ${expected}, got [0-9a-f]{64}; nothing installed\\n$`),
      );
      expect(readFileSync(join(dir, "orch"), "utf8")).toBe("old");
      expect(readdirSync(dir)).toEqual(["orch"]);
    } finally {
      srv.stop();
    }
  });

  test("a SHA256SUMS that disagrees with the archive: refused, nothing created", async () => {
    const real = readFileSync(join(release, "SHA256SUMS"), "utf8");
    const forged = real.replace(/^[0-9a-f]{64}/gm, "0".repeat(64));
    const dir = join(tempDir(), "never");
    const r = await install(["--from", releaseWithSums(forged), "--dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`orch install: checksum mismatch for ${archiveName(version, hostPlatform)}: expected ${"0".repeat(64)}, got `);
    expect(existsSync(dir)).toBe(false);
  });

  test("unknown OS or CPU: one clear line, exit 1, nothing created", async () => {
    const dir = join(tempDir(), "never");
    expect(await install(["--from", release, "--dir", dir], { ORCH_INSTALL_OS: "FreeBSD" })).toEqual({
      code: 1,
      stdout: "",
      stderr: "orch install: unsupported operating system: FreeBSD (release builds exist for Linux and macOS)\n",
    });
    expect(await install(["--from", release, "--dir", dir], { ORCH_INSTALL_ARCH: "armv7l" })).toEqual({
      code: 1,
      stdout: "",
      stderr: "orch install: unsupported CPU architecture: armv7l (release builds exist for x86_64 and arm64)\n",
    });
    expect(existsSync(dir)).toBe(false);
  });

  test("x64 without AVX2 gets the baseline build, with AVX2 the default one (over HTTP, by what is fetched)", async () => {
    const srv = serve(release);
    try {
      const dir = tempDir();
      const base = await install(["--from", srv.url, "--dir", dir], { ORCH_INSTALL_OS: "Linux", ORCH_INSTALL_ARCH: "x86_64", ORCH_INSTALL_AVX2: "0" });
      expect(base.stderr).toStartWith("orch install: CPU without AVX2: choosing the baseline build\n");
      expect(base.code).toBe(0);
      expect(versionOf(join(dir, "orch"))).toBe(`orch ${version}\n`);
      const modern = await install(["--from", srv.url, "--dir", dir], { ORCH_INSTALL_OS: "Linux", ORCH_INSTALL_ARCH: "amd64", ORCH_INSTALL_AVX2: "1" });
      expect(modern.code).toBe(0);
      expect(srv.requests).toEqual(["SHA256SUMS", archiveName(version, "linux-x64-baseline"), "SHA256SUMS", archiveName(version, "linux-x64")]);
    } finally {
      srv.stop();
    }
  });

  test("every detection branch picks its archive; a build that cannot run here is refused, nothing installed", async () => {
    const cases: [Record<string, string>, Platform, string][] = [
      [{ ORCH_INSTALL_OS: "Linux", ORCH_INSTALL_ARCH: "aarch64" }, "linux-arm64", ""],
      [{ ORCH_INSTALL_OS: "Darwin", ORCH_INSTALL_ARCH: "arm64" }, "darwin-arm64", ""],
      [{ ORCH_INSTALL_OS: "Darwin", ORCH_INSTALL_ARCH: "x86_64", ORCH_INSTALL_ROSETTA: "0", ORCH_INSTALL_AVX2: "1" }, "darwin-x64", ""],
      [{ ORCH_INSTALL_OS: "Darwin", ORCH_INSTALL_ARCH: "x86_64", ORCH_INSTALL_ROSETTA: "0", ORCH_INSTALL_AVX2: "0" }, "darwin-x64-baseline", "orch install: CPU without AVX2: choosing the baseline build\n"],
      [{ ORCH_INSTALL_OS: "Darwin", ORCH_INSTALL_ARCH: "x86_64", ORCH_INSTALL_ROSETTA: "1" }, "darwin-arm64", "orch install: running under Rosetta 2: choosing the native arm64 build\n"],
    ];
    const dir = join(tempDir(), "never");
    for (const [env, platform, note] of cases) {
      const r = await install(["--from", release, "--dir", dir], env);
      const name = archiveName(version, platform);
      expect(r.code).toBe(1);
      expect(r.stderr).toStartWith(`${note}orch install: ${platform}: ${name} from ${release}\norch install: the ${platform} build does not run on this machine (`);
      expect(r.stderr).toEndWith("); nothing installed\n");
      expect(existsSync(dir)).toBe(false);
    }
  });

  test("--dir defaults to ~/.local/bin (created)", async () => {
    const home = tempDir("orch-home-");
    const r = await install(["--from", release], { HOME: home });
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`installed orch ${version} to ${home}/.local/bin/orch\n`);
    expect(versionOf(join(home, ".local", "bin", "orch"))).toBe(`orch ${version}\n`);
    const noHome = await install(["--from", release], { HOME: "" });
    expect(noHome).toEqual({ code: 1, stdout: "", stderr: "orch install: HOME is not set; pass --dir DIR\n" });
  });

  test("--version: v-prefix accepted, a version the release lacks refused, several versions need it", async () => {
    const dir = tempDir();
    const ok = await install(["--from", release, "--dir", dir, "--version", `v${version}`]);
    expect(ok.code).toBe(0);
    const missing = await install(["--from", release, "--dir", dir, "--version", "9.9.9"]);
    expect(missing).toEqual({ code: 1, stdout: "", stderr: `orch install: no ${archiveName("9.9.9", hostPlatform)} in ${release}/SHA256SUMS\n` });

    // A second version whose archive holds a binary that reports another version.
    const other = await packArchive({ binary: readFileSync(join(dir, "orch")), version: "9.9.9", platform: hostPlatform, level: 1 });
    const sums = readFileSync(join(release, "SHA256SUMS"), "utf8") + `${sha256Hex(other.data)}  ${other.name}\n`;
    const two = releaseWithSums(sums, [other]);
    const several = await install(["--from", two, "--dir", dir]);
    expect(several).toEqual({ code: 1, stdout: "", stderr: `orch install: ${two}/SHA256SUMS lists several versions for ${hostPlatform}; choose one with --version\n` });
    const liar = await install(["--from", two, "--dir", dir, "--version", "9.9.9"]);
    expect(liar.code).toBe(1);
    expect(liar.stderr).toEndWith(`orch install: ${other.name} reports "orch ${version}", expected "orch 9.9.9"; nothing installed\n`);
  });

  test("bad usage: exit 2 with the usage line; a missing folder or archive: exit 1", async () => {
    const usage = "usage: sh install.sh [--from DIR_OR_URL] [--dir DIR] [--version V]\n";
    expect(await install(["--frm", release])).toEqual({ code: 2, stdout: "", stderr: `orch install: unknown argument: --frm\n${usage}` });
    expect(await install(["--dir"])).toEqual({ code: 2, stdout: "", stderr: `orch install: --dir needs a value\n${usage}` });
    expect(await install(["--version", "1.0;rm"])).toEqual({ code: 2, stdout: "", stderr: `orch install: invalid --version: 1.0;rm (expected e.g. 0.1.0)\n${usage}` });
    expect(await install(["--from", release], { ORCH_INSTALL_AVX2: "yes" })).toEqual({
      code: 2,
      stdout: "",
      stderr: `orch install: ORCH_INSTALL_AVX2 and ORCH_INSTALL_ROSETTA take 1 or 0\n${usage}`,
    });
    const missing = join(tempDir(), "nope");
    expect(await install(["--from", missing])).toEqual({ code: 1, stdout: "", stderr: `orch install: release folder not found: ${missing}\n` });
    const empty = tempDir();
    expect(await install([`--from=${empty}`])).toEqual({ code: 1, stdout: "", stderr: `orch install: SHA256SUMS not found in ${empty}\n` });
    const srv = serve(tempDir());
    try {
      const r = await install(["--from", srv.url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toStartWith(`orch install: could not download ${srv.url}SHA256SUMS (curl: (22) `);
    } finally {
      srv.stop();
    }
    const help = await install(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toStartWith(usage);
  });

  test("a release folder's own install.sh installs from that folder", async () => {
    const dir = tempDir();
    const p = Bun.spawn(["sh", join(release, "install.sh"), "--dir", dir], {
      cwd: tempDir(),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tempDir("orch-home-") },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(err).toEndWith(`orch install: ${hostPlatform}: ${archiveName(version, hostPlatform)} from ${release}\n`);
    expect(out).toStartWith(`installed orch ${version} to ${dir}/orch\n`);
    expect(code).toBe(0);
  });

  test("default source: $ORCH_RELEASE_URL, else the published releases (latest, or download/vV)", async () => {
    const srv = serve(release);
    try {
      const dir = tempDir();
      const r = await install(["--dir", dir], { ORCH_RELEASE_URL: srv.url });
      expect(r.code).toBe(0);
      expect(srv.requests).toEqual(["SHA256SUMS", archiveName(version, hostPlatform)]);
    } finally {
      srv.stop();
    }
    // No downloader on PATH: the message names the URL that would have been fetched.
    const noNet = toolPath(["sha256sum"]);
    expect(await install([], { PATH: noNet })).toEqual({
      code: 1,
      stdout: "",
      stderr: "orch install: need curl or wget to download from https://github.com/OWNER/orch/releases/latest/download\n",
    });
    expect(await install(["--version", "v1.2.3"], { PATH: noNet })).toEqual({
      code: 1,
      stdout: "",
      stderr: "orch install: need curl or wget to download from https://github.com/OWNER/orch/releases/download/v1.2.3\n",
    });
  });

  const posh = Bun.which("posh");
  const shells = [{ name: "bash --posix", argv: ["bash", "--posix"] }, ...(posh ? [{ name: "posh", argv: [posh] }] : [])];
  // bash --posix is what macOS /bin/sh runs; posh (when installed) is strictly POSIX.
  test.each(shells)("runs under $name", async ({ argv }) => {
    const dir = tempDir();
    const r = await install(["--from", release, "--dir", dir], {}, argv);
    expect(r.stderr).toEndWith(`${archiveName(version, hostPlatform)} from ${release}\n`);
    expect(r.stdout).toStartWith(`installed orch ${version} to ${dir}/orch\n`);
    expect(r.code).toBe(0);
  });

  test.skipIf(!Bun.which("shellcheck"))("shellcheck -s sh finds nothing", () => {
    const p = Bun.spawnSync(["shellcheck", "-s", "sh", script], { stdout: "pipe", stderr: "pipe" });
    expect(p.stdout.toString() + p.stderr.toString()).toBe("");
    expect(p.exitCode).toBe(0);
  });
});
