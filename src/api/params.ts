/**
 * Zod schemas for query and path parameters (always strings on the wire). Each message reads
 * after the parameter's name: "limit must be an integer from 1 to 100000". The same schemas
 * validate requests and describe them in /openapi.json.
 */
import { z } from "zod";
import { ID_PATTERN } from "../config.ts";
import { TASK_STATUSES } from "../core/schemas.ts";
import { DEFAULT_PAGE, MAX_PAGE } from "../core/schemas.ts";

export const MAX_LIMIT = MAX_PAGE;

export const boolParam = (description: string) =>
  z
    .enum(["true", "false", "1", "0"], { error: "must be true or false" })
    .transform((v) => v === "true" || v === "1")
    .meta({ description });

export const idParam = (description: string) =>
  z
    .string()
    .max(128, { error: "must be at most 128 characters" })
    .regex(ID_PATTERN, { error: "must start with a letter or digit and contain only letters, digits, '.', '_' or '-'" })
    .meta({ description });

export const limitParam = z
  .string()
  .regex(/^[0-9]+$/, { error: `must be an integer from 1 to ${MAX_LIMIT}` })
  .transform(Number)
  .pipe(z.number().int().min(1, { error: `must be an integer from 1 to ${MAX_LIMIT}` }).max(MAX_LIMIT, { error: `must be an integer from 1 to ${MAX_LIMIT}` }))
  .meta({ description: `at most this many tasks (default ${DEFAULT_PAGE}, at most ${MAX_PAGE}); more are reached with nextCursor` });

/** `limit` of a list the core caps (agents, inbox): the cap is stated, not silently applied. */
export const capParam = (max: number, noun: string, byDefault: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, { error: `must be an integer from 1 to ${max}` })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: `must be an integer from 1 to ${max}` }).max(max, { error: `must be an integer from 1 to ${max}` }))
    .meta({ description: `at most this many ${noun} (default ${byDefault}, at most ${max})` });

export const cursorParam = z
  .string()
  .regex(/^[0-9]{1,19}$/, { error: "must be a nextCursor this API returned" })
  .meta({ description: "the nextCursor of the previous page: the tasks after it" });

export const taskStatusParam = z
  .enum(TASK_STATUSES, { error: `must be one of ${TASK_STATUSES.join(", ")}` })
  .meta({ description: "only tasks with this status" });

export const textParam = (description: string) => z.string().max(200, { error: "must be at most 200 characters" }).meta({ description });
