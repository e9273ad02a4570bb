import { describe, expect, test } from "bun:test";
import {
  archiveStream,
  checkStreamConflicts,
  createTask,
  displayClaim,
  findConflicts,
  normalizePath,
  overlap,
  updateTask,
} from "../../src/core/index.ts";
import { tempStore } from "../helpers.ts";

const claim = (p: string, roots?: string[]) => {
  const c = normalizePath(p, roots);
  return c && displayClaim(c);
};

describe("normalizePath", () => {
  test("equivalent spellings meet", () => {
    for (const p of ["src/a.ts", "./src/a.ts", "src//a.ts", " src/a.ts ", "src/./a.ts", "src/x/../a.ts", ".\\src\\a.ts", "././src/a.ts"])
      expect(claim(p)).toBe("src/a.ts");
  });

  test("directories: trailing slash, globs, the whole project", () => {
    expect(normalizePath("src/theme/")).toEqual({ path: "src/theme", dir: true });
    expect(normalizePath("./src/theme//")).toEqual({ path: "src/theme", dir: true });
    expect(normalizePath("src/theme/**")).toEqual({ path: "src/theme", dir: true });
    expect(normalizePath("src/**/*.test.ts")).toEqual({ path: "src", dir: true });
    expect(normalizePath("*.md")).toEqual({ path: "", dir: true });
    expect(claim(".")).toBe(".");
    expect(claim("./")).toBe(".");
    expect(claim("src/theme")).toBe("src/theme"); // no slash: a file claim
  });

  test("absolute paths under a root become relative; others stay absolute", () => {
    expect(claim("/home/me/proj/src/a.ts", ["/home/me/proj"])).toBe("src/a.ts");
    expect(claim("/home/me/proj/src/a.ts", ["/home/me/proj/"])).toBe("src/a.ts");
    expect(claim("/home/me/project2/a.ts", ["/home/me/proj"])).toBe("/home/me/project2/a.ts");
    expect(claim("/home/me/proj", ["/home/me/proj"])).toBe(".");
    expect(claim("/../etc/x")).toBe("/etc/x");
    expect(claim("../other/a.ts")).toBe("../other/a.ts");
  });

  test("empty entries are dropped", () => {
    expect(normalizePath("")).toBeNull();
    expect(normalizePath("   ")).toBeNull();
  });
});

describe("overlap", () => {
  const c = (p: string) => normalizePath(p)!;
  test("same file, file inside a directory, nested directories", () => {
    expect(overlap(c("src/a.ts"), c("./src/a.ts"))).toEqual(c("src/a.ts"));
    expect(overlap(c("src/theme/"), c("src/theme/colors.ts"))).toEqual(c("src/theme/colors.ts"));
    expect(overlap(c("src/theme/colors.ts"), c("src/theme/"))).toEqual(c("src/theme/colors.ts"));
    expect(overlap(c("src/"), c("src/theme/"))).toEqual(c("src/theme/"));
    expect(overlap(c("src/theme"), c("src/theme/"))).toEqual(c("src/theme"));
    expect(overlap(c("."), c("README.md"))).toEqual(c("README.md"));
  });

  test("a shared prefix is not a shared directory", () => {
    expect(overlap(c("src/theme/"), c("src/theme.ts"))).toBeNull();
    expect(overlap(c("src/theme/"), c("src/themes/a.ts"))).toBeNull();
    expect(overlap(c("src/a.ts"), c("src/a.tsx"))).toBeNull();
    expect(overlap(c("src/a.ts"), c("src/"))).not.toBeNull();
    expect(overlap(c("."), c("/etc/passwd"))).toBeNull();
  });
});

describe("findConflicts (pure)", () => {
  const others = [
    { streamId: "Stream-A", streamName: "Core", files: ["src/theme/", "src/types.ts"] },
    { streamId: "Stream-B", streamName: "UI", files: ["src/components/Button.tsx", "./src/components/Input.tsx"] },
    { streamId: "Stream-C", streamName: "Pages", files: [] },
  ];
  test("reports each contending stream with the contended paths, sorted", () => {
    const r = findConflicts(["src/theme/dark.ts", "src/theme/light.ts", "src/components/Input.tsx", "docs/x.md"], others);
    expect(r).toEqual({
      hasConflicts: true,
      conflictingStreams: [
        { streamId: "Stream-A", streamName: "Core", conflictingFiles: ["src/theme/dark.ts", "src/theme/light.ts"] },
        { streamId: "Stream-B", streamName: "UI", conflictingFiles: ["src/components/Input.tsx"] },
      ],
    });
  });
  test("a directory claim of mine collects their files below it", () => {
    const r = findConflicts(["src/components/"], others);
    expect(r.conflictingStreams).toEqual([
      { streamId: "Stream-B", streamName: "UI", conflictingFiles: ["src/components/Button.tsx", "src/components/Input.tsx"] },
    ]);
  });
  test("no files, or disjoint files: no conflicts", () => {
    expect(findConflicts([], others)).toEqual({ hasConflicts: false, conflictingStreams: [] });
    expect(findConflicts(["src/theme.ts", "README.md"], others)).toEqual({ hasConflicts: false, conflictingStreams: [] });
  });
});

describe("checkStreamConflicts (service)", () => {
  async function seed() {
    const s = await tempStore();
    await createTask(s, { id: "A1", title: "a1", metadata: { streamId: "Stream-A", streamName: "Core", files: ["src/theme/"] } });
    await createTask(s, { id: "B1", title: "b1", metadata: { streamId: "Stream-B", streamName: "UI", files: ["src/b.ts"] } });
    await createTask(s, { id: "C1", title: "c1", metadata: { streamId: "Stream-C", streamName: "Pages", files: ["src/c.ts"] } });
    return s;
  }

  test("every task status counts (pending, in progress, completed, cancelled)", async () => {
    const s = await seed();
    expect((await checkStreamConflicts(s, { files: ["src/b.ts"] })).conflictingStreams.map((c) => c.streamId)).toEqual(["Stream-B"]);
    for (const status of ["in_progress", "completed", "cancelled"] as const) {
      await updateTask(s, { id: "B1", status });
      expect((await checkStreamConflicts(s, { files: ["./src/b.ts"] })).hasConflicts).toBe(true);
    }
  });

  test("the caller's own stream is left out; archived streams are ignored", async () => {
    const s = await seed();
    expect((await checkStreamConflicts(s, { streamId: "Stream-A", files: ["src/theme/x.ts"] })).hasConflicts).toBe(false);
    expect((await checkStreamConflicts(s, { streamId: "Stream-B", files: ["src/theme/x.ts"] })).conflictingStreams).toEqual([
      { streamId: "Stream-A", streamName: "Core", conflictingFiles: ["src/theme/x.ts"] },
    ]);
    await archiveStream(s, "Stream-A");
    expect((await checkStreamConflicts(s, { streamId: "Stream-B", files: ["src/theme/x.ts"] })).hasConflicts).toBe(false);
    // An archived stream may still check its own files against the others.
    expect((await checkStreamConflicts(s, { streamId: "Stream-A", files: ["src/c.ts"] })).conflictingStreams[0]!.streamId).toBe("Stream-C");
  });

  test("a stream's files are the union over all its tasks", async () => {
    const s = await seed();
    await createTask(s, { id: "B2", title: "b2", status: "completed", metadata: { streamId: "Stream-B", files: ["src/b2.ts"] } });
    expect((await checkStreamConflicts(s, { files: ["src/b.ts", "src/b2.ts"] })).conflictingStreams).toEqual([
      { streamId: "Stream-B", streamName: "UI", conflictingFiles: ["src/b.ts", "src/b2.ts"] },
    ]);
  });

  test("unknown stream and bad input are refused", async () => {
    const s = await seed();
    await expect(checkStreamConflicts(s, { streamId: "Stream-X", files: [] })).rejects.toThrow("Stream not found: Stream-X");
    await expect(checkStreamConflicts(s, { files: "src/a.ts" as never })).rejects.toThrow("files: Invalid input: expected array, received string");
    await expect(checkStreamConflicts(s, { streamId: "../x", files: [] })).rejects.toThrow("streamId: id must start with a letter or digit");
  });
});
