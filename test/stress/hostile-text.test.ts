/**
 * Agent-written text on a terminal is data: task titles, agent names, stream names, notes,
 * blocked reasons and PRD text full of escape sequences (screen clearing, OSC 52 clipboard
 * writes, title changes, C1 controls, bidi overrides, carriage returns that fake a line) go in
 * through the CLI and PRD import; every human-facing output of the compiled binary must carry no
 * control character but line breaks, and every `--json` output must give the text back exactly.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tempRepo } from "../git/repo-helpers.ts";
import { runOrch, tempDir, writeTemp } from "../helpers.ts";
import { size, timeout } from "./harness/mode.ts";
import { seeded, type Random } from "./harness/prng.ts";

const NASTY = [
  "\x1b[2J\x1b[H", // clear the screen
  "\x1b]52;c;ZWNobyBwd25lZA==\x07", // write the clipboard
  "\x1b]0;owned\x07", // set the window title
  "\x9b31m", // C1 CSI
  "\r✓ All streams complete", // a carriage return faking a line
  "\u202egnp.exe", // right-to-left override
  "\x07\x08\x7f",
  "\n✓ merged\n", // a fake line
  "\x1b[31mred\x1b[0m",
];

function hostile(rnd: Random): string {
  let s = rnd.pick(["Title", "Fix", "名前", "emoji 🚀", ""]);
  for (let i = rnd.range(1, 3); i > 0; i--) s += rnd.pick(NASTY) + rnd.pick([" a", "b", "", " ü"]);
  return s;
}

/** Control characters other than the line break: what must never reach a terminal. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("hostile text never reaches the terminal as control characters", () => {
  test(
    "task, stream, prd, start, generate, continue, watch and error lines; --json keeps the text exact",
    async () => {
      await seeded("hostile-text", async (rnd) => {
        const root = tempRepo();
        const db = join(tempDir(), "tasks.db");
        const env = { ORCH_DB: db, HTTP_API_PORT: "1" };
        const orch = (...args: string[]) => runOrch(args, { cwd: root, env });
        const names = Array.from({ length: 4 }, () => hostile(rnd));
        // The PRD's prose fields: initiative and stream names (task ids must be tokens).
        const prd = writeTemp(
          "PRD.md",
          `# Initiative: ${names[0]!.replace(/[\r\n]/g, " ")}\n\n## Foundation Phase\n### Stream-A: ${names[1]!.replace(/[\r\n]/g, " ")}\n- TASK-001: ${names[2]!.replace(/[\r\n]/g, " ")}\n\n## Parallel Phase\n### Stream-B: B\n- TASK-002: two\n`,
        );
        expect((await orch("prd", "import", prd)).code).toBe(0);
        const written: Record<string, string> = {};
        let checked = 0;
        for (let i = 0; i < size(6, 40); i++) {
          const id = `T-${i}`;
          const [title, agent, notes, reason, streamName] = Array.from({ length: 5 }, () => hostile(rnd));
          const made = await orch("task", "create", "--id", id, "--title", title!, "--agent", agent!, "--stream", "Stream-C", "--stream-name", streamName!, "--phase", "parallel");
          expect(made.code).toBe(0);
          expect((await orch("task", "update", id, "--status", "blocked", "--notes", notes!, "--blocked-reason", reason!)).code).toBe(0);
          // Stored as given, but for surrounding white space (titles and names are trimmed).
          const want = [title, agent, notes, reason].map((v) => v!.trim());
          written[id] = want[0]!;
          const got = JSON.parse((await orch("task", "get", id, "--json")).stdout);
          expect([got.title, got.assignedAgent, got.notes, got.blockedReason].map((v: string) => v.trim())).toEqual(want);
          checked++;
        }
        const outputs = [
          await orch("task", "list"),
          await orch("task", "get", "T-0"),
          await orch("stream", "list"),
          await orch("stream", "get", "Stream-A"),
          await orch("stream", "get", "Stream-C"),
          await orch("prd", "list"),
          await orch("start", "--dry-run"),
          await orch("start", "--status"),
          await orch("generate", "status"),
          await orch("watch", "--once"),
          await orch("task", "get", `nope${rnd.pick(NASTY)}`),
          await orch("task", "update", "T-0", "--status", `done${rnd.pick(NASTY)}`),
        ];
        for (const r of outputs) {
          expect(r.stdout).not.toMatch(CONTROL);
          expect(r.stderr).not.toMatch(CONTROL);
        }
        // The text was shown, neutralised (not dropped): `\x1b` as four visible characters.
        expect((await orch("task", "list")).stdout).toMatch(/\\x(1b|9b|07|0d)/);
        const list = JSON.parse((await orch("task", "list", "--json", "--stream", "Stream-C")).stdout);
        for (const t of list.tasks) expect(t.title).toBe(written[t.id]);
        return checked;
      });
    },
    timeout(60_000, 300_000),
  );
});
