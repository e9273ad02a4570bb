import { usageError } from "../errors.ts";

/**
 * A whole-number flag within [min, max]; `fallback` when absent. One rule and one message shape
 * for every numeric flag: `flag --pause must be a whole number from 0 to 60000, not "soon"`.
 */
export function intFlag(name: string, value: string | boolean | undefined, range: { min: number; max: number }): number | undefined;
export function intFlag(name: string, value: string | boolean | undefined, range: { min: number; max: number }, fallback: number): number;
export function intFlag(name: string, value: string | boolean | undefined, range: { min: number; max: number }, fallback?: number): number | undefined {
  if (typeof value !== "string") return fallback;
  if (!/^\d+$/.test(value) || Number(value) < range.min || Number(value) > range.max)
    throw usageError(`flag --${name} must be a whole number from ${range.min} to ${range.max}, not "${value}"`);
  return Number(value);
}
