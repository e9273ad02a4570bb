/** Flags and formatting shared by `orch prd import` and `orch generate`. */
import { DEFAULT_MAX_PARALLEL } from "../core/graph.ts";
import { usageError } from "../errors.ts";
import type { FlagSpecs } from "./args.ts";

export const maxParallelFlag = {
  "max-parallel": {
    type: "string",
    value: "N",
    description: `most parallel streams allowed (default ${DEFAULT_MAX_PARALLEL})`,
  },
} satisfies FlagSpecs;

export function maxParallelFrom(v: string | boolean | undefined): number {
  if (typeof v !== "string") return DEFAULT_MAX_PARALLEL;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 100_000)
    throw usageError(`flag --max-parallel must be a whole number from 1 to 100000, not "${v}"`);
  return Number(v);
}

/** `Stream-A, Stream-B … and 12 more`: long plans stay one readable line. */
export function idList(ids: readonly string[], max = 8): string {
  if (ids.length === 0) return "-";
  if (ids.length <= max) return ids.join(", ");
  return `${ids.slice(0, max).join(", ")} … and ${ids.length - max} more`;
}
