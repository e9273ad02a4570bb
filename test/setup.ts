/**
 * Preloaded into every `bun test` process (bunfig.toml): a hook here runs once after every test
 * file has run, where a hook in a shared module would run after the first file that imports it.
 */
import { afterAll } from "bun:test";
import { dropTestDatabases } from "./backend.ts";
import { removeTempDirs } from "./helpers.ts";

afterAll(() => {
  removeTempDirs();
  dropTestDatabases();
});
