/** Flags and formatting shared by `orch prd import` and `orch generate`. */
import { DEFAULT_MAX_PARALLEL } from "../core/graph.ts";
import { intFlag } from "./context.ts";
import type { FlagSpecs } from "./args.ts";

export const maxParallelFlag = {
  "max-parallel": {
    type: "string",
    value: "N",
    description: `most parallel streams allowed (default ${DEFAULT_MAX_PARALLEL})`,
  },
} satisfies FlagSpecs;

export function maxParallelFrom(v: string | boolean | undefined): number {
  return intFlag("max-parallel", v, { min: 1, max: 100_000 }, DEFAULT_MAX_PARALLEL);
}

/** `Stream-A, Stream-B … and 12 more`: long plans stay one readable line. */
export function idList(ids: readonly string[], max = 8): string {
  if (ids.length === 0) return "-";
  if (ids.length <= max) return ids.join(", ");
  return `${ids.slice(0, max).join(", ")} … and ${ids.length - max} more`;
}
