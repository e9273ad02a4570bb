/**
 * The house's rule, checked: the faces (mcp, api, watch) never import each other or cli/, and
 * nothing below the faces imports a face. cli/ is the binary's shell: its commands start the
 * other faces (orch mcp, orch serve, orch watch), so it alone may import them. Read from the source, so a new import that breaks it fails here.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const SRC = join(import.meta.dir, "..", "..", "src");
const FACES = ["cli", "mcp", "api", "watch"];
const BELOW = ["orchestrate", "workspace", "generate", "core", "db", "git", "text", "sys", "net"];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

function importedRooms(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const rooms: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) {
    const target = relative(SRC, join(file, "..", m[1]!));
    rooms.push(target.split("/")[0]!);
  }
  return rooms;
}

test("faces import no other face (and never cli/); layers below the faces import no face", () => {
  const breaches: string[] = [];
  for (const room of [...FACES, ...BELOW]) {
    for (const file of files(join(SRC, room))) {
      for (const target of importedRooms(file)) {
        const face = FACES.includes(target);
        if (face && target !== room && room !== "cli") breaches.push(`${relative(SRC, file)} imports ${target}/`);
      }
    }
  }
  expect(breaches).toEqual([]);
});
