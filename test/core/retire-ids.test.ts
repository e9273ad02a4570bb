/** A later initiative reuses the guide's ids once the earlier one is finished (archived). */
import { expect, test } from "bun:test";
import { importPrdMarkdown } from "../../src/core/plan-import.ts";
import { archiveStream, getStream, getTask, listStreams, setStreamWorktree, updateTask } from "../../src/core/index.ts";
import { storeWorkProduct } from "../../src/core/work-products.ts";
import { isOrchError } from "../../src/errors.ts";
import { ON_POSTGRES } from "../backend.ts";
import { rawQuery, tempStore } from "../helpers.ts";

const one = "# Initiative: One\n\n## Foundation Phase\n### Stream-A: Core\n- TASK-001: one\n- TASK-002: two\n\n## Parallel Phase\n### Stream-B: UI\n- TASK-003: three\n";
const two = "# Initiative: Two\n\n## Foundation Phase\n### Stream-A: Core again\n- TASK-001: first of two\n";

test("refused while the first initiative is at work, naming the way out; once it is archived its ids are renamed everywhere", async () => {
  const store = await tempStore();
  await importPrdMarkdown(store, one);
  await storeWorkProduct(store, { taskId: "TASK-001", type: "technical_design", title: "design", content: "x" });
  let message = "";
  try {
    await importPrdMarkdown(store, two);
  } catch (err) {
    message = isOrchError(err) ? err.message : String(err);
  }
  expect(message).toBe(
    "PRD line 4: stream Stream-A already belongs to initiative INIT-one; give this stream another id, or, once INIT-one is finished, archive its streams and remove their worktrees: its ids are then renamed <id>.INIT-one to make room",
  );

  for (const id of ["TASK-001", "TASK-002", "TASK-003"]) await updateTask(store, { id, status: "completed" });
  await archiveStream(store, "Stream-A");
  await archiveStream(store, "Stream-B");
  // A worktree still recorded would be taken for the new Stream-B of the same name: refused first.
  await setStreamWorktree(store, "Stream-B", { worktreePath: "/repo/.claude/worktrees/Stream-B", branchName: "stream-b" });
  await expect(importPrdMarkdown(store, two)).rejects.toThrow("PRD line 4: stream Stream-A already belongs to initiative INIT-one");
  await setStreamWorktree(store, "Stream-B", { worktreePath: null, branchName: null });
  const r = await importPrdMarkdown(store, two);
  expect(r.retired).toEqual([
    {
      initiativeId: "INIT-one",
      streams: { "Stream-A": "Stream-A.INIT-one", "Stream-B": "Stream-B.INIT-one" },
      tasks: { "TASK-001": "TASK-001.INIT-one", "TASK-002": "TASK-002.INIT-one", "TASK-003": "TASK-003.INIT-one" },
    },
  ]);
  // The new Stream-A and TASK-001 are the second initiative's; the old ones live on, renamed.
  expect(await getStream(store, "Stream-A")).toMatchObject({ streamName: "Core again", initiativeId: "INIT-two", totalTasks: 1, completedTasks: 0 });
  expect(await getTask(store, "TASK-001")).toMatchObject({ title: "first of two", status: "pending" });
  const old = await getStream(store, "Stream-B.INIT-one", { includeArchived: true });
  expect(old).toMatchObject({ archived: true, completedTasks: 1, dependencies: ["Stream-A.INIT-one"] });
  expect(await getTask(store, "TASK-001.INIT-one")).toMatchObject({ status: "completed", metadata: { streamId: "Stream-A.INIT-one" } });
  expect((await listStreams(store, { includeArchived: true })).map((s) => s.streamId).sort()).toEqual(["Stream-A", "Stream-A.INIT-one", "Stream-B.INIT-one"]);
  expect(await rawQuery(store, "SELECT task_id FROM work_products")).toEqual([{ task_id: "TASK-001.INIT-one" }]);
  // PostgreSQL checks the deferred foreign keys at COMMIT: the transaction would have failed.
  if (!ON_POSTGRES) expect(await rawQuery(store, "PRAGMA foreign_key_check")).toEqual([]);
  // Importing the second plan again changes nothing more.
  expect((await importPrdMarkdown(store, two)).retired).toEqual([]);
});
