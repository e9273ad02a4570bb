/**
 * `orch allow ID [--always]` and `orch deny ID [--reason TEXT]`: a person answers an inbox
 * question. The waiting agent (its hook or permission tool polls the database) goes on within
 * one poll. Unknown, answered and expired entries are refused by the core with one line.
 */
import { answerQuestion, getQuestion, type Decision } from "../core/inbox.ts";
import { ruleForCall } from "../core/policy.ts";
import type { InboxRow } from "../db/schema.ts";
import { usageError } from "../errors.ts";
import { oneLine } from "../text/neutralise.ts";
import { commonFlags, singleAction, type Command } from "./command.ts";
import { storeFromFlags, str } from "./context.ts";
import { printJson, say } from "./output.ts";

const MAX_BY = 100;
const MAX_REASON = 2000;
/** As POST /api/inbox/:id: the name and reason are shown in tables and told to agents, one line each. */
const CONTROL = /\p{Cc}/u;

function entryId(raw: string, verb: Decision): number {
  const id = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw usageError(`orch ${verb}: ID must be an inbox entry number (orch inbox lists them), not "${oneLine(raw)}"`);
  return id;
}

/** Who answers: --by, else the login name, else "cli". Stored, and shown on every face. */
function answerer(flag: string | undefined): string {
  if (flag === undefined) {
    const user = process.env.USER?.trim() ?? "";
    return user && user.length <= MAX_BY && !CONTROL.test(user) ? user : "cli";
  }
  const by = flag.trim();
  if (!by) throw usageError("flag --by needs a name");
  if (by.length > MAX_BY) throw usageError(`flag --by is longer than ${MAX_BY} characters`);
  if (CONTROL.test(by)) throw usageError("flag --by must be one line of text (no control characters)");
  return by;
}

function reasonFlag(flag: string | undefined): string | null {
  if (flag === undefined) return null;
  const reason = flag.trim();
  if (!reason) throw usageError("flag --reason needs a text");
  if (reason.length > MAX_REASON) throw usageError(`flag --reason is longer than ${MAX_REASON} characters`);
  if (CONTROL.test(reason)) throw usageError("flag --reason must be one line of text (no control characters)");
  return reason;
}

/** The rule --always added for this entry (the same one the core derived and stored). */
const ruleOf = (row: InboxRow): string | null => (row.always && row.toolName ? ruleForCall({ toolName: row.toolName, input: row.toolInput }) : null);

function answerCommand(verb: Decision): Command {
  const past = verb === "allow" ? "allowed" : "denied";
  return singleAction(verb, {
    summary: verb === "allow" ? "let an agent's pending tool call run (--always: and every call like it)" : "refuse an agent's pending tool call (the agent is told --reason)",
    args: ["ID"],
    flags: {
      always: { type: "boolean", description: `${verb} this exact call from now on too (adds a policy rule)` },
      ...(verb === "deny" ? { reason: { type: "string" as const, value: "TEXT", description: "what the agent is told" } } : {}),
      by: { type: "string", value: "NAME", description: "who answers (default $USER)" },
      ...commonFlags,
    },
    async run({ flags, positionals }) {
      const id = entryId(positionals[0]!, verb);
      const by = answerer(str(flags.by));
      const reason = reasonFlag(str(flags.reason));
      const always = flags.always === true;
      const store = await storeFromFlags(flags);
      if (always) {
        // A rule needs a tool call to be about; refuse before anything is stored.
        const prior = await getQuestion(store, id);
        if (prior && !prior.toolName) throw usageError(`inbox entry ${id} is not a tool call: --always has no rule to add`);
      }
      const row = await answerQuestion(store, id, { decision: verb, by, how: "person", reason, always });
      const rule = ruleOf(row);
      if (flags.json) return printJson({ entry: row, rule });
      const where = row.streamId ? ` (${row.streamId})` : "";
      const added = rule ? `; rule added: ${verb} ${rule}` : "";
      // say() neutralises: the question and the rule quote the agent's tool input.
      say(`✓ ${row.id} ${past}: ${oneLine(row.question)}${where}${added}\n`);
    },
  });
}

export const allow = answerCommand("allow");
export const deny = answerCommand("deny");
