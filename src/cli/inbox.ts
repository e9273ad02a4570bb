/**
 * `orch inbox`: the questions agents wait on (oldest first), and with --all every answered or
 * expired one too, with who answered, how and when. A thin face over core/inbox.ts.
 */
import { countPending, listInbox } from "../core/inbox.ts";
import type { InboxRow } from "../db/schema.ts";
import { ageText, shortSession } from "../watch/needs-you.ts";
import { commonFlags, singleAction } from "./command.ts";
import { storeFromFlags, str } from "./context.ts";
import { type Column, printJson, printTable, say } from "./output.ts";

const who = (q: InboxRow) => q.agent ?? (q.sessionId ? shortSession(q.sessionId) : "-");

export function inboxColumns(now: number, all: boolean): Column<InboxRow>[] {
  const base: Column<InboxRow>[] = [
    { header: "ID", value: (q) => String(q.id) },
    { header: "STREAM", value: (q) => q.streamId ?? "-", max: 24 },
    { header: "AGENT", value: who, max: 16 },
    // The question quotes the tool input an agent wrote: renderTable makes it one safe line.
    { header: "QUESTION", value: (q) => q.question, max: 60 },
    { header: "AGE", value: (q) => ageText(q.createdAt, now) },
  ];
  if (!all) return base;
  return [
    ...base,
    { header: "STATUS", value: (q) => q.status },
    { header: "ANSWERED", value: (q) => (q.answeredBy ? `${q.answeredBy} (${q.answeredHow ?? "?"})` : "-"), max: 24 },
    { header: "WHEN", value: (q) => (q.answeredAt ? `${ageText(q.answeredAt, now)} ago` : "-") },
    { header: "REASON", value: (q) => q.reason ?? "-", max: 48 },
  ];
}

export const command = singleAction("inbox", {
  summary: "questions agents wait on (answer with orch allow|deny ID)",
  flags: {
    all: { type: "boolean", description: "answered and expired entries too, newest first" },
    stream: { type: "string", value: "ID", description: "only this stream's questions" },
    ...commonFlags,
  },
  async run({ flags }) {
    const all = flags.all === true;
    const store = await storeFromFlags(flags);
    const streamId = str(flags.stream);
    const list = await listInbox(store, { all, streamId });
    // The API's shape (GET /api/inbox), so a script can switch between them.
    if (flags.json) return printJson({ entries: list, pending: await countPending(store, { streamId }) });
    printTable(list, inboxColumns(Date.now(), all), all ? "The inbox is empty." : "Nothing waits for you.");
    const pending = list.filter((q) => q.status === "pending");
    if (pending.length) say(`\nAnswer with: orch allow ${pending[0]!.id} [--always] / orch deny ${pending[0]!.id} [--reason TEXT]\n`);
  },
});
