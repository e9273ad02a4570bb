/**
 * `orch token create NAME | list | revoke NAME`: named API tokens for a team's `orch serve`
 * (core/tokens.ts). The token is printed once, on stdout alone, so `TOKEN=$(orch token create
 * ci)` captures it; only its hash is kept. A revocation reaches running servers within seconds.
 */
import { createToken, listTokens, revokeToken, type TokenInfo } from "../core/tokens.ts";
import { machineId } from "../sys/machine.ts";
import { commandGroup, commonFlags, type Action } from "./command.ts";
import { storeFromFlags } from "./context.ts";
import { type Column, printJson, printTable, say } from "./output.ts";
import { errOut } from "../sys/io.ts";

const columns: Column<TokenInfo>[] = [
  { header: "NAME", value: (t) => t.name, max: 64 },
  { header: "CREATED", value: (t) => t.createdAt },
  { header: "ON", value: (t) => t.createdOn, max: 32 },
  { header: "LAST USED", value: (t) => t.lastUsedAt ?? "never" },
];

const create: Action = {
  summary: "make a named API token (printed once: only its hash is kept)",
  args: ["NAME"],
  flags: { ...commonFlags },
  async run({ flags, positionals }) {
    const t = await createToken(await storeFromFlags(flags), positionals[0]!, machineId());
    if (flags.json) return printJson(t);
    say(`${t.token}\n`);
    errOut(`orch: token ${t.name} created; it is shown this once. Clients send "Authorization: Bearer <token>"; orch token revoke ${t.name} ends it.\n`);
  },
};

const list: Action = {
  summary: "named API tokens (never their values)",
  flags: { ...commonFlags },
  async run({ flags }) {
    const tokens = await listTokens(await storeFromFlags(flags));
    if (flags.json) printJson({ tokens });
    else printTable(tokens, columns, "No named tokens.");
  },
};

const revoke: Action = {
  summary: "end a named API token (running servers refuse it within seconds)",
  args: ["NAME"],
  flags: { ...commonFlags },
  async run({ flags, positionals }) {
    await revokeToken(await storeFromFlags(flags), positionals[0]!);
    if (flags.json) printJson({ name: positionals[0], revoked: true });
    else say(`Revoked ${positionals[0]}\n`);
  },
};

export const command = commandGroup("token", "named API tokens for orch serve", { create, list, revoke });
