/**
 * A project as a user sets it up for real agents — zod's published source, `orch init`, its
 * files committed as init says, a PRD imported, `orch generate` — the README's flow — with the real Claude Code on PATH and a
 * stand-in model on loopback. Shared by the end-to-end tests and the agent benchmark.
 */
import { withBackendDb } from "../backend.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { claudeBinDir, claudeEnv, publishedPackageRepo } from "./claude-cli.ts";
import { startFakeModel, type FakeModel, type Script } from "./fake-model.ts";
import { freePort } from "../net.ts";

export interface RealProject {
  root: string;
  model: FakeModel;
  env: Record<string, string>;
  orch(args: string[], extraEnv?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
  git(...args: string[]): string;
}


export async function realProject(o: { orchBin: string; claudeVersion: string; prd: string; script: Script }): Promise<RealProject> {
  const root = publishedPackageRepo();
  const model = startFakeModel(o.script);
  // On PostgreSQL (test/backend.ts) ORCH_DB is the stand-in database's URL itself.
  const env: Record<string, string> = withBackendDb({
    ...claudeEnv(model.url),
    PATH: `${claudeBinDir(o.claudeVersion)}:${dirname(o.orchBin)}:${process.env.PATH}`,
    LANG: process.env.LANG ?? "C.UTF-8",
    ORCH_DB: join(mkdtempSync(join(tmpdir(), "orch-real-db-")), "tasks.db"),
    HTTP_API_PORT: String(freePort()),
  });
  const git = (...args: string[]) => {
    const p = Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${p.stderr.toString()}`);
    return p.stdout.toString();
  };
  const orch = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const p = Bun.spawn([o.orchBin, ...args], { cwd: root, env: { ...env, ...extraEnv }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr };
  };
  // The README's flow, as a user types it: init, commit what it says to commit, import the plan.
  const init = await orch(["init"]);
  if (init.code !== 0) throw new Error(`orch init: ${init.stderr}`);
  const line = init.stdout.split("\n").find((l) => l.includes("git add"));
  if (!line) throw new Error(`orch init named nothing to commit:\n${init.stdout}`);
  git("add", ...line.slice(line.indexOf("git add") + "git add ".length).split(" && ")[0]!.split(" "));
  git("commit", "-qm", "orch init");
  const prdFile = join(mkdtempSync(join(tmpdir(), "orch-real-prd-")), "PRD.md");
  writeFileSync(prdFile, o.prd);
  for (const step of [["prd", "import", prdFile], ["generate"]]) {
    const r = await orch(step);
    if (r.code !== 0) throw new Error(`orch ${step.join(" ")}: ${r.stderr}`);
  }
  return { root, model, env, orch, git };
}
