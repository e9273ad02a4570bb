#!/usr/bin/env node
// The `orch` command of the npm package @orch-cli/orch (written there as bin/orch by
// scripts/npm.ts). The compiled binary is not in this package: it comes in @orch-cli/orch-<platform>,
// an optional dependency npm installs only where its os/cpu fields match, the way esbuild and Biome
// ship theirs. So there is no install script and no download; this file finds that binary and runs it.
// Plain CommonJS for any Node that npm itself runs on.
"use strict";
const { spawn } = require("child_process");
const { constants } = require("os");
const path = require("path");

const manifest = require(path.join(__dirname, "..", "package.json"));
const prefix = `${manifest.name}-`;
const key = `${process.platform}-${process.arch}`;
// A -baseline package (x64 CPUs without AVX2) is never an optional dependency (npm would install it
// beside the default one, both matching os/cpu): whoever installs it asks for it, so it wins.
const candidates = process.arch === "x64" ? [`${prefix}${key}-baseline`, `${prefix}${key}`] : [`${prefix}${key}`];

function resolveBinary() {
  for (const name of candidates) {
    try {
      return require.resolve(`${name}/bin/orch`);
    } catch {
      // not installed: try the next one
    }
  }
  return undefined;
}

/** False on a Linux without glibc (musl), where npm skipped the packages for their `libc` field. */
function hasGlibc() {
  try {
    return Boolean(process.report.getReport().header.glibcVersionRuntime);
  } catch {
    return true; // cannot tell: say nothing about it
  }
}

const bin = resolveBinary();
if (bin === undefined) {
  const built = Object.keys(manifest.optionalDependencies || {}).map((n) => n.slice(prefix.length));
  const why = !built.includes(key)
    ? `orch is built for ${built.join(", ")}`
    : process.platform === "linux" && !hasGlibc()
      ? "orch's Linux builds need glibc, and this system has another C library (musl?)"
      : `${prefix}${key} is missing (installed with --omit=optional, or a node_modules or package-lock.json from another platform?): reinstall ${manifest.name}`;
  process.stderr.write(`orch: no binary for ${key} installed; ${why}\n`);
  process.exit(1);
}

const child = spawn(bin, process.argv.slice(2), { stdio: "inherit" });
// Ctrl-C and Ctrl-\ already reach orch: the terminal signals the whole process group. Passing them on
// would deliver them twice (a second SIGINT cuts `orch serve`'s clean shutdown short), so here they
// only must not kill the launcher first. SIGTERM and SIGHUP are usually aimed at this process alone
// (a supervisor, an MCP client stopping the server it started): those are passed on.
const ignore = () => {};
const forward = (sig) => child.kill(sig);
process.on("SIGINT", ignore);
process.on("SIGQUIT", ignore);
process.on("SIGTERM", forward);
process.on("SIGHUP", forward);
child.on("error", (err) => {
  process.stderr.write(`orch: cannot run ${bin}: ${err.message}\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal, so the caller sees what it would have seen running orch itself.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    // Only reached when the signal cannot end this process (ignored since before Node started).
    setTimeout(() => process.exit(128 + (constants.signals[signal] || 0)), 100);
    return;
  }
  process.exit(code === null ? 1 : code);
});
