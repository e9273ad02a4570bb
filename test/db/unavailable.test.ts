/** db/unavailable.ts: a database error read by its codes (never its wording) — retry it, wait for the server, or neither. */
import { expect, test } from "bun:test";
import { databaseUnavailable, retryable } from "../../src/db/unavailable.ts";
import { failed, unavailable } from "../../src/errors.ts";

const driver = (fields: { code?: string; errno?: string }) => Object.assign(new Error("whatever the driver says"), fields);
/** As drizzle wraps a driver's error. */
const wrapped = (cause: unknown) => Object.assign(new Error("Failed query: select 1"), { cause });

test("lost or refused connections and a server going down: unavailable, through drizzle's wrapper too", () => {
  for (const e of [
    driver({ code: "ERR_POSTGRES_CONNECTION_CLOSED" }),
    driver({ code: "ERR_POSTGRES_CONNECTION_REFUSED" }),
    driver({ errno: "08006" }),
    driver({ errno: "57P01" }),
    wrapped(driver({ code: "ERR_POSTGRES_CONNECTION_TIMEOUT" })),
    unavailable("cannot open database postgres://h/db: connection refused"),
    wrapped(unavailable("x")),
  ]) {
    expect(databaseUnavailable(e)).toBe(true);
  }
});

test("conflicts, refusals and everything else: not unavailable, whatever the message says", () => {
  for (const e of [
    driver({ errno: "40001" }),
    driver({ errno: "42P01" }),
    failed("the connection was refused"),
    new Error("ERR_POSTGRES_CONNECTION_CLOSED"),
    wrapped(new Error("connection refused")),
    null,
    "text",
  ]) {
    expect(databaseUnavailable(e)).toBe(false);
  }
  expect(retryable(driver({ errno: "40P01" }))).toBe("conflict");
});
