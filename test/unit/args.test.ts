import { describe, expect, test } from "bun:test";
import { parseArgs } from "../../src/cli/args.ts";
import { editDistance, suggest } from "../../src/text/suggest.ts";

const specs = {
  status: { type: "string", description: "" },
  all: { type: "boolean", description: "" },
  help: { type: "boolean", short: "h", description: "" },
} as const;

describe("parseArgs", () => {
  test("flags with separate and inline values, booleans, positionals", () => {
    const r = parseArgs(["ID", "--status", "pending", "--all", "x", "--status=done"], specs, "orch t");
    expect(r.positionals).toEqual(["ID", "x"]);
    expect(r.flags).toEqual({ status: "done", all: true });
  });
  test("-- ends flags", () => {
    expect(parseArgs(["--", "--all"], specs, "orch t").positionals).toEqual(["--all"]);
  });
  test("unknown flag suggests the closest", () => {
    expect(() => parseArgs(["--stat"], specs, "orch task list")).toThrow(
      'unknown flag "--stat" for "orch task list" (did you mean "--status"?)',
    );
    expect(() => parseArgs(["--zzzzzz"], specs, "orch t")).toThrow('unknown flag "--zzzzzz" for "orch t"');
  });
  test("a string flag needs a value; a boolean takes none", () => {
    expect(() => parseArgs(["--status"], specs, "orch t")).toThrow("flag --status needs a value");
    expect(() => parseArgs(["--status", "--all"], specs, "orch t")).toThrow("flag --status needs a value");
    expect(() => parseArgs(["--all=yes"], specs, "orch t")).toThrow("flag --all takes no value");
  });
  test("short flags", () => {
    expect(parseArgs(["-h"], specs, "orch t").flags.help).toBe(true);
    expect(() => parseArgs(["-x"], specs, "orch t")).toThrow('unknown flag "-x"');
  });
});

describe("suggest", () => {
  test("transpositions count once", () => {
    expect(editDistance("strat", "start")).toBe(1);
    expect(suggest("strat", ["serve", "stream", "start", "status"])).toBe("start");
  });
  test("nothing close → no suggestion", () => {
    expect(suggest("xyzzy", ["serve", "start"])).toBeUndefined();
  });
});
