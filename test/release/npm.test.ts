/**
 * The npm channel end to end: this machine's package (holding dist/orch, the suite's shared build;
 * no cross compile) and @orch-cli/orch are written by scripts/npm.ts, packed by `npm pack`, served by a
 * throwaway registry on loopback, and installed with the README's own command
 * `npm install -g @orch-cli/orch` into an empty prefix. The registry logs every request, so the
 * test sees that npm fetched exactly two tarballs and nothing else from anywhere.
 * (`build --all` writing these folders for every platform is checked in release.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PLATFORMS, type Platform } from "../../scripts/release.ts";
import {
  clearNpmPackages,
  launcherPath,
  mainManifest,
  NPM_MAIN,
  npmPlatformName,
  platformManifest,
  writeMainPackage,
  writePlatformPackage,
  type NpmMeta,
} from "../../scripts/npm.ts";
import { orchBin, tempDir } from "../helpers.ts";

const root = join(import.meta.dir, "..", "..");
const pkg = (await Bun.file(join(root, "package.json")).json()) as { version: string; description: string; license?: string };
const meta: NpmMeta = { version: pkg.version, description: pkg.description, license: pkg.license };
const version = meta.version;
/** The package the launcher looks for here: Node's platform and arch, whatever the CPU's AVX2. */
const host = `${process.platform}-${process.arch}` as Platform;
const baseline = `${host}-baseline` as Platform;
const hasBaseline = (PLATFORMS as readonly string[]).includes(baseline);
const npm = Bun.which("npm");
const node = Bun.which("node");

// npm pack compresses the ~110 MB binary (about 7 s); each install unpacks it again.
setDefaultTimeout(30_000);

interface Packed {
  manifest: Record<string, unknown>;
  tgz: string;
  integrity: string;
  files: { path: string; mode: number }[];
}
const packed = new Map<string, Packed>();
let work = "";

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const p = Bun.spawn(argv, {
    cwd: opts.cwd ?? work,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(work, "home"), ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  return { code: p.exitCode, signal: p.signalCode === null ? null : String(p.signalCode), stdout, stderr };
}

async function pack(dir: string): Promise<void> {
  const r = await run([npm!, "pack", "--json", "--pack-destination", join(work, "tgz"), "--cache", join(work, "cache")], { cwd: dir });
  if (r.code !== 0) throw new Error(`npm pack ${dir} failed: ${r.stderr}`);
  const [info] = JSON.parse(r.stdout) as { filename: string; integrity: string; files: { path: string; mode: number }[] }[];
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
  packed.set(manifest.name as string, { manifest, tgz: join(work, "tgz", info!.filename), integrity: info!.integrity, files: info!.files });
}

/**
 * A registry holding the packed packages, and the other platforms' manifests with tarballs that
 * do not exist (npm needs a manifest to see that os/cpu do not match; it must never fetch those).
 */
function registry() {
  const requests: string[] = [];
  let url = "";
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req): Response {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requests.push(path);
      const tarball = /^\/-\/tgz\/(.+)$/.exec(path)?.[1];
      if (tarball) {
        const p = [...packed.values()].find((x) => x.tgz.endsWith(`/${tarball}`));
        return p ? new Response(Bun.file(p.tgz)) : new Response("not found", { status: 404 });
      }
      const name = path.slice(1);
      const known = PLATFORMS.find((p) => npmPlatformName(p) === name);
      const p = packed.get(name);
      const manifest = p?.manifest ?? (known ? platformManifest(known, meta) : undefined);
      if (!manifest) return Response.json({ error: "not found" }, { status: 404 });
      const dist = p
        ? { tarball: `${url}/-/tgz/${p.tgz.split("/").at(-1)}`, integrity: p.integrity }
        : { tarball: `${url}/-/tgz/never-built-${name.replace("/", "-")}.tgz`, integrity: `sha512-${"A".repeat(86)}==` };
      return Response.json({ name, "dist-tags": { latest: version }, versions: { [version]: { ...manifest, dist } } });
    },
  });
  url = `http://127.0.0.1:${server.port}`;
  return { url, requests, stop: () => server.stop(true) };
}

/** No user or global npmrc, no audit, funding or update check: npm asks the registry for packages only. */
const quiet = (): string[] => [
  "--userconfig",
  join(work, "user-npmrc"),
  "--globalconfig",
  join(work, "global-npmrc"),
  "--no-audit",
  "--no-fund",
  "--no-update-notifier",
];

/**
 * `npm install -g <args>` into a fresh prefix (`global: false`: into a fresh project folder), from
 * `url` only; where the installed `orch` is.
 */
async function npmInstall(url: string, args: string[], global = true): Promise<{ prefix: string; bin: string; r: Run }> {
  const prefix = join(tempDir("orch-npm-prefix-"), "p");
  const r = await run([
    npm!,
    "install",
    ...(global ? ["-g"] : []),
    "--prefix",
    prefix,
    "--registry",
    `${url}/`,
    "--cache",
    join(tempDir("orch-npm-cache-"), "c"), // empty: every tarball comes from the registry
    ...quiet(),
    ...args,
  ]);
  return { prefix, bin: join(prefix, ...(global ? ["bin"] : ["node_modules", ".bin"]), "orch"), r };
}

/** Every scoped package installed under `prefix` (global or not), as `@orch-cli/…` names, nested ones too. */
function installedPackages(prefix: string): string[] {
  const out: string[] = [];
  const walk = (nm: string) => {
    if (!existsSync(nm)) return;
    for (const scope of readdirSync(nm).filter((d) => d.startsWith("@"))) {
      for (const d of readdirSync(join(nm, scope))) {
        out.push(`${scope}/${d}`);
        walk(join(nm, scope, d, "node_modules"));
      }
    }
  };
  walk(join(prefix, "lib", "node_modules"));
  walk(join(prefix, "node_modules"));
  return out.sort();
}

beforeAll(async () => {
  if (!npm || !node) throw new Error("npm and node are needed (they ran `npm install`)");
  work = tempDir("orch-npm-test-");
  mkdirSync(join(work, "tgz"));
  mkdirSync(join(work, "home"));
  writeFileSync(join(work, "user-npmrc"), "");
  writeFileSync(join(work, "global-npmrc"), "");
  const out = join(work, "npm");
  clearNpmPackages(out);
  const dirs = [
    writePlatformPackage(out, host, readFileSync(orchBin()), meta),
    writeMainPackage(out, PLATFORMS, meta, readFileSync(join(root, "README.md"))),
  ];
  // A stand-in for the baseline build: a script that says which package ran it.
  if (hasBaseline) dirs.push(writePlatformPackage(out, baseline, new TextEncoder().encode(`#!/bin/sh\necho "baseline stand-in: $*"\n`), meta));
  await Promise.all(dirs.map(pack));
}, 60_000);

describe("npm packages", () => {
  test("manifests: main pins every default build as optional, platforms carry os/cpu/libc; no scripts anywhere", () => {
    const main = mainManifest(PLATFORMS, meta);
    expect(main).toEqual({
      name: "@orch-cli/orch",
      version,
      description: meta.description,
      ...(meta.license ? { license: meta.license } : {}),
      bin: { orch: "bin/orch" },
      optionalDependencies: {
        "@orch-cli/orch-linux-x64": version,
        "@orch-cli/orch-linux-arm64": version,
        "@orch-cli/orch-darwin-x64": version,
        "@orch-cli/orch-darwin-arm64": version,
      },
    });
    const os = (p: Platform) => {
      const m = platformManifest(p, meta);
      return [m.name, m.os, m.cpu, m.libc, m.preferUnplugged, m.version];
    };
    expect(PLATFORMS.map(os)).toEqual([
      ["@orch-cli/orch-linux-x64", ["linux"], ["x64"], ["glibc"], true, version],
      ["@orch-cli/orch-linux-x64-baseline", ["linux"], ["x64"], ["glibc"], true, version],
      ["@orch-cli/orch-linux-arm64", ["linux"], ["arm64"], ["glibc"], true, version],
      ["@orch-cli/orch-darwin-x64", ["darwin"], ["x64"], undefined, true, version],
      ["@orch-cli/orch-darwin-x64-baseline", ["darwin"], ["x64"], undefined, true, version],
      ["@orch-cli/orch-darwin-arm64", ["darwin"], ["arm64"], undefined, true, version],
    ]);
    for (const p of packed.values()) {
      expect(p.manifest.scripts).toBeUndefined();
      expect(p.manifest.dependencies).toBeUndefined();
    }
    expect(main.scripts).toBeUndefined();
  });

  test("npm pack: the platform package is bin/orch (0755) + package.json + README.md; main is the launcher", () => {
    const files = (name: string) => packed.get(name)!.files.map((f) => `${f.path} ${f.mode.toString(8)}`).sort();
    expect(files(npmPlatformName(host))).toEqual(["README.md 644", "bin/orch 755", "package.json 644"]);
    expect(files(NPM_MAIN)).toEqual(["README.md 644", "bin/orch 755", "package.json 644"]);
    expect(readFileSync(join(work, "npm", "orch", "bin", "orch"))).toEqual(readFileSync(launcherPath));
    expect(statSync(join(work, "npm", "orch-" + host, "bin", "orch")).size).toBe(statSync(orchBin()).size);
  });
});

describe("npm install -g @orch-cli/orch", () => {
  let reg: ReturnType<typeof registry>;
  let prefix = "";
  let orch = "";
  let install: Run;
  let requests: string[] = [];
  beforeAll(async () => {
    reg = registry();
    const res = await npmInstall(reg.url, [NPM_MAIN]);
    prefix = res.prefix;
    orch = res.bin;
    install = res.r;
    requests = reg.requests.splice(0);
  });
  afterAll(() => reg.stop());
  const tgz = (name: string) => `/-/tgz/${packed.get(name)!.tgz.split("/").at(-1)}`;

  test("installs the launcher and only this platform's package, fetching two tarballs and nothing else", async () => {
    expect(install.stderr).toBe("");
    expect(install.code).toBe(0);
    expect(installedPackages(prefix)).toEqual([NPM_MAIN, npmPlatformName(host)].sort());
    // Inside the main package, as a dependency: `npm uninstall -g @orch-cli/orch` takes it along.
    const nested = join(prefix, "lib", "node_modules", NPM_MAIN, "node_modules", npmPlatformName(host), "bin", "orch");
    expect(statSync(nested).mode & 0o777).toBe(0o755);
    const v = await run([orch, "--version"]);
    expect(v).toEqual({ code: 0, signal: null, stdout: `orch ${version}\n`, stderr: "" });
    expect(requests.filter((q) => q.startsWith("/-/tgz/")).sort()).toEqual([tgz(NPM_MAIN), tgz(npmPlatformName(host))].sort());
    // Beyond those, manifests only: the main package's and those of its optional dependencies
    // (npm reads each one's os/cpu to skip it). Never a -baseline package.
    const defaults = PLATFORMS.filter((p) => !p.endsWith("-baseline")).map(npmPlatformName);
    expect(new Set(requests.filter((q) => !q.startsWith("/-/tgz/")))).toEqual(new Set([NPM_MAIN, ...defaults].map((n) => `/${n}`)));
  });

  test("arguments, output and exit code pass through unchanged", async () => {
    const env = { ORCH_DB: join(work, "never.db") };
    for (const args of [["--db", "/nonexistent/x.db", "task", "list"], ["task", "frobnicate"], ["--help"]]) {
      const viaNpm = await run([orch, ...args], { env });
      const direct = await run([orchBin(), ...args], { env });
      expect(viaNpm).toEqual(direct);
      if (args[0] === "--db") expect(direct.code).not.toBe(0);
    }
    expect(existsSync(join(work, "never.db"))).toBe(false);
  });

  test.skipIf(process.platform !== "linux")("SIGTERM to the launcher reaches orch; orch killed by a signal, the launcher dies of it too", async () => {
    const launch = () =>
      Bun.spawn([orch, "serve", "--port", "0", "--db", join(tempDir(), "t.db")], {
        cwd: tempDir(),
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(work, "home") },
        stdin: "ignore",
        stdout: "ignore",
        stderr: "pipe",
      });
    /** Waits for the listening line; the pid of orch itself (the launcher's one child). */
    const listening = async (p: ReturnType<typeof launch>): Promise<number> => {
      const reader = p.stderr.getReader();
      let err = "";
      while (!err.includes("HTTP server listening on")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`orch serve ended: ${err}`);
        err += new TextDecoder().decode(value);
      }
      reader.releaseLock();
      const children = readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, "utf8").trim().split(/\s+/);
      expect(children).toHaveLength(1);
      return Number(children[0]);
    };

    const graceful = launch();
    const orchPid = await listening(graceful);
    graceful.kill("SIGTERM");
    expect(await graceful.exited).toBe(0); // orch serve's clean shutdown, passed back
    expect(existsSync(`/proc/${orchPid}`)).toBe(false);

    const killed = launch();
    process.kill(await listening(killed), "SIGKILL");
    await killed.exited;
    expect(killed.signalCode).toBe("SIGKILL");
  });

  test("without the platform package: one line naming what is missing, exit 1", async () => {
    // Not `-g`: npm 11 installs a global package's optional dependencies despite --omit=optional
    // (npm/cli#8284); in a project it leaves them out.
    const { prefix: bare, bin, r } = await npmInstall(reg.url, ["--omit=optional", NPM_MAIN], false);
    expect(r.code).toBe(0);
    expect(installedPackages(bare)).toEqual([NPM_MAIN]);
    expect(reg.requests.filter((q) => q.startsWith("/-/tgz/"))).toEqual([tgz(NPM_MAIN)]);
    expect(await run([bin, "--version"])).toEqual({
      code: 1,
      signal: null,
      stdout: "",
      stderr: `orch: no binary for ${host} installed; ${NPM_MAIN}-${host} is missing (installed with --omit=optional, or a node_modules or package-lock.json from another platform?): reinstall ${NPM_MAIN}\n`,
    });
    // Node told it runs on a CPU nobody builds for, or on a Linux without glibc (both in --require'd stubs).
    const riscv = join(work, "riscv64.cjs");
    writeFileSync(riscv, `Object.defineProperty(process, "arch", { value: "riscv64" });\n`);
    expect(await run([node!, "--require", riscv, bin, "--version"])).toEqual({
      code: 1,
      signal: null,
      stdout: "",
      stderr: `orch: no binary for ${process.platform}-riscv64 installed; orch is built for linux-x64, linux-arm64, darwin-x64, darwin-arm64\n`,
    });
    if (process.platform === "linux") {
      const musl = join(work, "musl.cjs");
      writeFileSync(musl, `Object.defineProperty(process, "report", { value: { getReport: () => ({ header: {} }) } });\n`);
      expect((await run([node!, "--require", musl, bin, "--version"])).stderr).toBe(
        `orch: no binary for ${host} installed; orch's Linux builds need glibc, and this system has another C library (musl?)\n`,
      );
    }
  });

  // Last: it adds to the shared prefix, as someone with an old CPU would after installing orch.
  test.skipIf(!hasBaseline)("a -baseline package installed beside orch is the one that runs", async () => {
    reg.requests.splice(0);
    const r = await run([npm!, "install", "-g", "--prefix", prefix, "--registry", `${reg.url}/`, "--cache", join(tempDir(), "c"), ...quiet(), npmPlatformName(baseline)]);
    expect(r.code).toBe(0);
    expect(installedPackages(prefix)).toEqual([NPM_MAIN, npmPlatformName(host), npmPlatformName(baseline)].sort());
    expect(reg.requests).toEqual([`/${npmPlatformName(baseline)}`, tgz(npmPlatformName(baseline))]);
    expect(await run([orch, "--version", "x y"])).toEqual({ code: 0, signal: null, stdout: "baseline stand-in: --version x y\n", stderr: "" });
  });
});
