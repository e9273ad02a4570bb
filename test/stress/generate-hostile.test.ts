/**
 * What orch writes again keeps what the user changed, and what it writes for another program says
 * what was written (issue #16: `orch generate` dropped the user's keys from
 * orchestration-config.json; a stream name with DEL or U+0085 made the GitHub workflow invalid
 * YAML; `*bold*` names rendered as markup in the README).
 *
 * Projects with hostile stream and initiative names (quotes, newlines, `${{ }}`, backticks, YAML
 * and markdown specials, control and separator characters, lone surrogates, bidi overrides) and
 * hostile ids (every character an id may hold), generated with `--ci github` and checked by
 * other programs: python3's yaml (else Bun's YAML) parses the workflow and its names equal the
 * database's; python3's ast parses every launcher; JSON.parse reads the config back exactly;
 * Bun's markdown renders the README whose title and table cells are the names as written. Then
 * the user's turn: random keys and values (nested, unicode, `__proto__`) in the config, edits to
 * the README, launchers and workflow, and a plan that changes — regenerating keeps every one of
 * them (the edited files kept and named, the untouched replaced); a config broken into invalid
 * JSON is refused with one line and every file left byte for byte.
 *
 * Quick: 120 projects (10 through the binary). STRESS=full: 1,000 (60).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { importPrdMarkdown, listStreams, updateTask } from "../../src/core/index.ts";
import { openStore, type Store } from "../../src/db/client.ts";
import { generateOrchestration, visible } from "../../src/generate/orchestration.ts";
import { writeFiles } from "../../src/generate/writer.ts";
import { rawSqlite, tempDir } from "../helpers.ts";
import { FULL, size } from "./harness/mode.ts";
import { cleanEnv, orchBin } from "./harness/orch.ts";
import { Random, seeded } from "./harness/prng.ts";

const PROJECTS = size(120, 1000);
const THROUGH_BINARY = size(10, 60);
const CONFIG = ".claude/orchestration/orchestration-config.json";
const README = ".claude/orchestration/README.md";
const WORKFLOW = ".github/workflows/orchestration.yml";
const LAUNCHERS = [".claude/orchestration/start-streams.py", ".claude/orchestration/watch-status.py"];

const PIECES = [
  '"', "'", "\\", "\n", "\r\n", "\t", "${{ secrets.TOKEN }}", "${{", "}}", "`rm -rf /`", "```", ": ", " #", "- ", "? ", "| ", "> ", "&anchor", "*alias",
  "!tag", "%", "@", "[", "]", "{", "}", ",", "*bold*", "_it_", "<script>alert(1)</script>", "[link](javascript:x)", "![img](x)", "# heading",
  "~~", "&amp;", "\u0000", "\u0007", "\u001b[31m", "\u007f", "\u0085", "\u00a0", "\u2028", "\u2029", "\u202e", "\u2066", "\ufeff", "\ufffe",
  "\ud800", "\udc00", "😀", "é", "漢字", "null", "true", "~", "0x1F", "1e3", "---", "...", " leading", "trailing ",
];

function hostileText(rnd: Random, max: number): string {
  let s = "";
  for (let i = rnd.range(1, 6); i > 0; i--) s += rnd.chance(0.7) ? rnd.pick(PIECES) : rnd.pick(["name", "Core", "ok", " "]);
  s = s.trim().slice(0, max);
  return s || "x";
}

const ID_CHARS = "abcXYZ019._-";
function hostileId(rnd: Random, n: number): string {
  let id = rnd.pick(["a", "Z", "0", "9"]);
  for (let i = rnd.range(0, 6); i > 0; i--) id += ID_CHARS[rnd.int(ID_CHARS.length)];
  id = id.replace(/\.\.+/g, ".").replace(/\.$|\.lock$/i, "");
  return `${id}-${n}`;
}

/** A plan through the PRD, then hostile names through task metadata (as an agent's MCP call may set them). */
async function hostileProject(rnd: Random, store: Store, p: number): Promise<string[]> {
  const ids = Array.from({ length: rnd.range(2, 5) }, (_, k) => hostileId(rnd, p * 10 + k));
  const [foundation, ...rest] = ids;
  const lines = [`# Initiative: Project ${p}`, "## Foundation Phase", `### ${foundation}: f`, `- T${p}-0: t`];
  if (rest.length) lines.push("## Parallel Phase");
  rest.forEach((id, k) => lines.push(`### ${id}: s`, `- T${p}-${k + 1}: t`));
  await importPrdMarkdown(store, lines.join("\n"));
  for (const [k, id] of ids.entries())
    await updateTask(store, {
      id: `T${p}-${k}`,
      metadata: { streamId: id, streamName: hostileText(rnd, 200), streamPhase: k === 0 ? "foundation" : "parallel", dependencies: k === 0 ? [] : [foundation!] },
    });
  rawSqlite(store).run("UPDATE initiatives SET name = ? WHERE id = ?", [hostileText(rnd, 300), `INIT-project-${p}`]);
  return ids;
}

const python = Bun.spawnSync(["python3", "-c", "import yaml, ast"]).exitCode === 0;

/** Parse every workflow with a YAML parser and every launcher with Python's; returns the workflows' data. */
function parseWithOthers(dir: string, projects: string[]): { workflows: any[]; problems: string[] } {
  if (!python) {
    const workflows = projects.map((p) => Bun.YAML.parse(readFileSync(join(p, WORKFLOW), "utf8")));
    return { workflows, problems: [] };
  }
  const script = `
import ast, json, sys, yaml
out = []
for root in json.load(open(sys.argv[1])):
    for py in ${JSON.stringify(LAUNCHERS)}:
        ast.parse(open(root + "/" + py, encoding="utf-8").read())
    out.append(yaml.safe_load(open(root + "/${WORKFLOW}", encoding="utf-8")))
json.dump(out, open(sys.argv[2], "w"))
`;
  writeFileSync(join(dir, "roots.json"), JSON.stringify(projects));
  const r = Bun.spawnSync(["python3", "-c", script, join(dir, "roots.json"), join(dir, "parsed.json")], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) return { workflows: [], problems: [`python3 could not parse the generated files: ${r.stderr.toString().slice(-800)}`] };
  return { workflows: JSON.parse(readFileSync(join(dir, "parsed.json"), "utf8")), problems: [] };
}

const flat = (s: string) => s.replace(/[\r\n]+/g, " ");
const unescapeHtml = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");

/** The files say what the database says. */
async function checkSaysTheSame(store: Store, root: string, initiativeId: string, workflow: any): Promise<string[]> {
  const problems: string[] = [];
  const streams = await listStreams(store, { initiativeId });
  const init = (rawSqlite(store).query("SELECT name FROM initiatives WHERE id = ?").get(initiativeId) as { name: string }).name;
  const config = JSON.parse(readFileSync(join(root, CONFIG), "utf8"));
  if (config.initiative.name !== init) problems.push(`config initiative ${JSON.stringify(config.initiative.name)} ≠ ${JSON.stringify(init)}`);
  streams.forEach((s, k) => {
    if (config.streams[k]?.streamName !== s.streamName) problems.push(`config streamName ${JSON.stringify(config.streams[k]?.streamName)} ≠ ${JSON.stringify(s.streamName)}`);
  });
  const yamlText = (s: string) => visible(s).replaceAll("${{", "$ {{");
  if (workflow?.name !== `Parallel Development: ${yamlText(init)}`) problems.push(`workflow name ${JSON.stringify(workflow?.name)} ≠ ${JSON.stringify(yamlText(init))}`);
  const jobs = Object.values(workflow?.jobs ?? {}) as { name: string; env: { STREAM_ID: string } }[];
  if (jobs.length !== streams.length) problems.push(`${jobs.length} jobs for ${streams.length} streams`);
  streams.forEach((s, k) => {
    const want = `${s.streamId}: ${yamlText(s.streamName)} (${s.streamPhase})`;
    if (jobs[k]?.name !== want) problems.push(`job name ${JSON.stringify(jobs[k]?.name)} ≠ ${JSON.stringify(want)}`);
    if (jobs[k]?.env?.STREAM_ID !== s.streamId) problems.push(`STREAM_ID ${JSON.stringify(jobs[k]?.env?.STREAM_ID)} ≠ ${s.streamId}`);
  });
  const yml = readFileSync(join(root, WORKFLOW), "utf8");
  const expressions = yml.match(/\$\{\{[^}]*\}\}/g) ?? [];
  // Only orch's own: the inputs, the run id, and the two secrets every job reads.
  const own = new Set(["${{ inputs.initiative_id }}", "${{ github.run_id }}", "${{ secrets.ORCH_DB }}", "${{ secrets.ANTHROPIC_API_KEY }}"]);
  if (expressions.some((e) => !own.has(e))) problems.push(`a GitHub expression from a name: ${expressions.join(", ")}`);
  const html = Bun.markdown.html(readFileSync(join(root, README), "utf8"));
  const title = unescapeHtml(/<h1>(.*?)<\/h1>/s.exec(html)?.[1] ?? "");
  if (title !== `Orchestration: ${flat(visible(init))}`) problems.push(`README title ${JSON.stringify(title)} ≠ ${JSON.stringify(flat(visible(init)))}`);
  const rows = [...html.matchAll(/<tr><td><code>(.*?)<\/code><\/td><td>(.*?)<\/td>/gs)].map((m) => [unescapeHtml(m[1]!), unescapeHtml(m[2]!)]);
  streams.forEach((s, k) => {
    const want = flat(visible(s.streamName));
    if (rows[k]?.[0] !== s.streamId || rows[k]?.[1] !== want) problems.push(`README row ${JSON.stringify(rows[k])} ≠ ${JSON.stringify([s.streamId, want])}`);
  });
  return problems;
}

/** Random JSON a user may put in the config. */
function userValue(rnd: Random, depth = 0): unknown {
  switch (rnd.int(depth > 2 ? 4 : 6)) {
    case 0:
      return hostileText(rnd, 80).replace(/[\ud800-\udfff]/g, "");
    case 1:
      return rnd.range(-5, 1000);
    case 2:
      return rnd.pick([true, false, null]);
    case 3:
      return rnd.next();
    case 4:
      return Array.from({ length: rnd.range(0, 3) }, () => userValue(rnd, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: rnd.range(0, 3) }, () => [rnd.pick(["a", "b", "é", "__proto__", "constructor", "x y"]), userValue(rnd, depth + 1)]));
  }
}

const USER_KEYS = { agentCommand: () => 'claude -p "/continue {streamId}" --verbose', launcher: () => "headless", restartLimit: () => 3, stallTimeout: () => 900, worktree: () => ({ copy: [".env"], setup: "bun install" }), maxParallelStreams: () => 7, pollInterval: () => 12 };

function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      const rel = d ? `${d}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else out.set(rel, readFileSync(join(root, rel), "utf8"));
    }
  };
  walk("");
  return out;
}

describe("stress: generated files under hostile text and user edits", () => {
  test(
    `${PROJECTS} projects: other programs parse what orch writes, and regenerating keeps the user's changes`,
    () =>
      seeded("generate-hostile", async (rnd) => {
        const dir = tempDir("orch-stress-generate-");
        const db = join(dir, "tasks.db");
        const store = await openStore(db);
        const problems: string[] = [];
        const roots: string[] = [];
        const inits: string[] = [];
        let userKeys = 0;
        let keptFiles = 0;
        let refused = 0;
        for (let p = 0; p < PROJECTS; p++) {
          await hostileProject(rnd, store, p);
          const root = join(dir, `p${p}`);
          mkdirSync(root);
          const g = await generateOrchestration(store, { projectRoot: root, host: "127.0.0.1", port: 9090, ci: "github", initiativeId: `INIT-project-${p}` });
          writeFiles(root, g.files);
          roots.push(root);
          inits.push(`INIT-project-${p}`);
        }
        const parsed = parseWithOthers(dir, roots);
        problems.push(...parsed.problems);
        for (const [p, root] of roots.entries()) {
          if (parsed.workflows[p] !== undefined) problems.push(...(await checkSaysTheSame(store, root, inits[p]!, parsed.workflows[p])).map((x) => `project ${p}: ${x}`));
        }

        // The user's turn, then regenerate.
        for (const [p, root] of roots.entries()) {
          if (problems.length > 10) break;
          const config = JSON.parse(readFileSync(join(root, CONFIG), "utf8"));
          const mine: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(USER_KEYS)) if (rnd.chance(0.6)) mine[k] = v();
          for (let i = rnd.range(0, 4); i > 0; i--) mine[`user-${rnd.pick(["a", "é", "__proto__", "x y", "$", "0"])}-${i}`] = userValue(rnd);
          Object.assign(config, mine);
          writeFileSync(join(root, CONFIG), JSON.stringify(config, null, rnd.pick([0, 2, 4])));
          userKeys += Object.keys(mine).length;
          const edited = [README, WORKFLOW, ...LAUNCHERS].filter(() => rnd.chance(0.3));
          for (const f of edited) writeFileSync(join(root, f), `${readFileSync(join(root, f), "utf8").replace(/\n/, rnd.pick(["\n# mine\n", "\n\n"]))}`);
          const editedText = new Map(edited.map((f) => [f, readFileSync(join(root, f), "utf8")]));
          if (rnd.chance(0.5)) await updateTask(store, { id: `T${p}-0`, status: rnd.pick(["completed", "in_progress"]) });
          const onDisk = (path: string) => {
            try {
              return readFileSync(join(root, path), "utf8");
            } catch {
              return null;
            }
          };
          const g = await generateOrchestration(store, { projectRoot: root, host: "127.0.0.1", port: 9090, ci: "github", initiativeId: inits[p], onDisk });
          writeFiles(root, g.files);
          const after = JSON.parse(readFileSync(join(root, CONFIG), "utf8"));
          for (const [k, v] of Object.entries(mine)) if (JSON.stringify(after[k]) !== JSON.stringify(v)) problems.push(`project ${p}: key ${JSON.stringify(k)} became ${JSON.stringify(after[k])?.slice(0, 80)}, was set to ${JSON.stringify(v)?.slice(0, 80)}`);
          if (after.streams[0].completedTasks !== (await listStreams(store, { initiativeId: inits[p] }))[0]!.completedTasks) problems.push(`project ${p}: streams not refreshed`);
          if (JSON.stringify([...g.kept].sort()) !== JSON.stringify([...edited].sort())) problems.push(`project ${p}: kept ${JSON.stringify(g.kept)}, edited ${JSON.stringify(edited)}`);
          for (const [f, text] of editedText) if (readFileSync(join(root, f), "utf8") !== text) problems.push(`project ${p}: the user's ${f} was replaced`);
          keptFiles += g.kept.length;

          // A config broken by hand: refused, every file as it was.
          if (rnd.chance(0.3)) {
            const broken = readFileSync(join(root, CONFIG), "utf8").replace(/[}\]"]\s*$/, rnd.pick(["", ",", "}}", "oops"]));
            writeFileSync(join(root, CONFIG), broken);
            const before = snapshot(root);
            try {
              const g2 = await generateOrchestration(store, { projectRoot: root, host: "127.0.0.1", port: 9090, ci: "github", initiativeId: inits[p], onDisk });
              writeFiles(root, g2.files);
              problems.push(`project ${p}: a broken config was not refused: ${JSON.stringify(broken.slice(-40))}`);
            } catch (err) {
              const m = (err as Error).message;
              if (!/^\.claude\/orchestration\/orchestration-config\.json is not (valid JSON|a JSON object)/.test(m) || /\n/.test(m)) problems.push(`project ${p}: refused with ${JSON.stringify(m)}`);
              refused++;
            }
            const now = snapshot(root);
            if ([...before].some(([f, t]) => now.get(f) !== t) || now.size !== before.size) problems.push(`project ${p}: a refused generate changed files`);
          }
        }

        // The binary: the same checks on its own files, a user key kept, a broken config refused.
        let binaryRuns = 0;
        for (let p = 0; p < Math.min(THROUGH_BINARY, roots.length); p++) {
          const proj = join(dir, `bin${p}`);
          mkdirSync(join(proj, dirname(CONFIG)), { recursive: true });
          writeFileSync(join(proj, CONFIG), JSON.stringify({ agentCommand: "my-agent {streamId}", mine: { kept: [p] } }));
          const env = cleanEnv({ HOME: dir, ORCH_DB: db });
          const run = (extra: string[]) => Bun.spawnSync([orchBin(), "generate", "--ci", "github", "--initiative", inits[p]!, ...extra], { cwd: proj, env, stdout: "pipe", stderr: "pipe" });
          const r = run([]);
          if (r.exitCode !== 0) {
            problems.push(`binary ${p}: exit ${r.exitCode}: ${r.stderr.toString().slice(0, 300)}`);
            continue;
          }
          const c = JSON.parse(readFileSync(join(proj, CONFIG), "utf8"));
          if (c.agentCommand !== "my-agent {streamId}" || c.mine?.kept?.[0] !== p) problems.push(`binary ${p}: user keys lost: ${JSON.stringify(c).slice(0, 200)}`);
          if (python) {
            const check = Bun.spawnSync(["python3", "-c", "import sys, yaml; yaml.safe_load(open(sys.argv[1], encoding='utf-8'))", join(proj, WORKFLOW)], { stderr: "pipe" });
            if (check.exitCode !== 0) problems.push(`binary ${p}: workflow is not YAML: ${check.stderr.toString().slice(-300)}`);
          }
          writeFileSync(join(proj, CONFIG), '{"agentCommand": "x",');
          const before = snapshot(proj);
          const bad = run([]);
          const err = bad.stderr.toString();
          if (bad.exitCode !== 1 || !/^orch: \.claude\/orchestration\/orchestration-config\.json is not valid JSON[^\n]*\n$/.test(err)) problems.push(`binary ${p}: broken config: exit ${bad.exitCode}, ${JSON.stringify(err)}`);
          const now = snapshot(proj);
          if ([...before].some(([f, t]) => now.get(f) !== t)) problems.push(`binary ${p}: a refused generate changed files`);
          binaryRuns++;
        }
        await store.close();
        console.error(
          `generate-hostile: ${PROJECTS} projects with hostile names parsed by ${python ? "python3 (yaml, ast)" : "Bun's YAML"} and Bun's markdown, saying what the database says; ${userKeys} user keys kept, ${keptFiles} edited files kept, ${refused} broken configs refused with nothing changed; ${binaryRuns} through the binary${FULL ? " [full]" : ""}`,
        );
        expect(problems).toEqual([]);
      }),
    size(180_000, 900_000),
  );
});
