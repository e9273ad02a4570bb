/**
 * How big the stress suites run. Default "quick": a few thousand cases in well under two minutes
 * on a 2-core CI machine (part of `npm test`). `STRESS=full` (`bun run test:stress`): the sizes
 * issue #9 asks for — 16 processes × 1,000 updates, ≥ 10,000 fuzzed messages and requests.
 */
export const FULL = process.env.STRESS === "full";

/** `quick` in the default mode, `full` under STRESS=full. */
export const size = <T>(quick: T, full: T): T => (FULL ? full : quick);

/** Per-test timeout for bun:test (the suite runner passes --timeout 60000; full runs need more). */
export const timeout = (quickMs: number, fullMs: number) => size(quickMs, fullMs);
