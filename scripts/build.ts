/**
 * `bun run build` → dist/orch: one self-contained executable.
 * - version injected with `define` (no generated source files);
 * - the user's bunfig.toml/.env are NOT autoloaded (an ORCH_DB line in someone's .env must not
 *   redirect the database);
 * - minified ESM with bytecode and code splitting, so subcommands behind dynamic import() cost
 *   nothing until used (startup ≈ bare Bun).
 * `--target T` cross-compiles (bun-linux-arm64, bun-darwin-arm64, …); `--outfile` names the result.
 *
 * `--all` builds the release instead (scripts/release.ts): every platform, packed as
 * `dist/release/orch-<version>-<platform>.tar.gz`, a copy of scripts/install.sh, and
 * `dist/release/SHA256SUMS`, and the npm packages (scripts/npm.ts) in `dist/npm/`: `orch-<platform>/`
 * for each platform built and `orch/` (@orch-cli/orch, the launcher).
 * `--outdir D` writes the release elsewhere, `--npm-outdir D` the npm packages;
 * `--platforms linux-x64,linux-arm64` builds a subset.
 * Bun fetches each cross-compile runtime from the npm registry once (cached in ~/.bun).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const pkg = (await Bun.file(join(root, "package.json")).json()) as { version: string; description: string; license?: string };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

export async function build(opts: { target?: string; outfile?: string } = {}): Promise<string> {
  const outfile = opts.outfile ?? join(root, "dist", "orch");
  mkdirSync(join(outfile, ".."), { recursive: true });
  const cmd = [
    process.execPath,
    "build",
    join(root, "src", "main.ts"),
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    "--splitting",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--define=ORCH_VERSION=${JSON.stringify(JSON.stringify(pkg.version)).slice(1, -1)}`,
    `--outfile=${outfile}`,
    ...(opts.target ? [`--target=${opts.target}`] : []),
  ];
  const p = Bun.spawnSync(cmd, { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) {
    process.stderr.write(p.stdout.toString() + p.stderr.toString());
    throw new Error(`bun build failed (exit ${p.exitCode})`);
  }
  return outfile;
}

async function buildAll(): Promise<void> {
  const { PLATFORMS, buildRelease } = await import("./release.ts");
  const wanted = arg("platforms")?.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = wanted?.filter((p) => !(PLATFORMS as readonly string[]).includes(p)) ?? [];
  if (unknown.length > 0) {
    console.error(`build: unknown platform ${unknown.join(", ")} (known: ${PLATFORMS.join(", ")})`);
    process.exit(2);
  }
  const npmOutdir = arg("npm-outdir") ?? join(root, "dist", "npm");
  const t0 = performance.now();
  const res = await buildRelease({
    root,
    outdir: arg("outdir") ?? join(root, "dist", "release"),
    version: pkg.version,
    platforms: wanted as (typeof PLATFORMS)[number][] | undefined,
    compile: build,
    log: (line) => console.log(line),
    npm: { outdir: npmOutdir, meta: { version: pkg.version, description: pkg.description, license: pkg.license } },
  });
  for (const a of res.archives) console.log(`${a.name}  ${(a.bytes / 1e6).toFixed(1)} MB`);
  console.log(`wrote ${res.sumsFile} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  console.log(`wrote ${res.npmPackages.length} npm packages in ${npmOutdir} (publish the orch-* ones first, then orch)`);
}

if (import.meta.main) {
  if (process.argv.includes("--all")) {
    await buildAll();
  } else {
    const out = await build({ target: arg("target"), outfile: arg("outfile") });
    console.log(`built ${out}`);
  }
}
