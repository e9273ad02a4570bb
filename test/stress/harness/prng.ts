/**
 * Seeded randomness for the stress suites: every run prints its seed, and `STRESS_SEED=<n>`
 * replays it exactly. mulberry32: tiny, fast, good enough to shuffle test inputs.
 */

export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The suite's seed: STRESS_SEED if set, else a fresh one (printed either way by `seeded`). */
export function suiteSeed(): number {
  const fromEnv = process.env.STRESS_SEED;
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Number(fromEnv) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

export class Random {
  readonly next: Rng;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** A child generator, so one part of a test drawing more numbers does not shift the others. */
  fork(): Random {
    return new Random(Math.floor(this.next() * 4294967296));
  }
}

/**
 * Run `fn` with a seeded generator; on failure the error says which seed replays it. Every stress
 * test wraps its body in this, so a red CI run is one copy-paste from a local reproduction.
 */
export async function seeded<T>(name: string, fn: (rnd: Random) => Promise<T> | T, seed = suiteSeed()): Promise<T> {
  try {
    return await fn(new Random(seed));
  } catch (err) {
    const e = err as Error;
    const hint = `[${name}] failed with seed ${seed}: replay with STRESS_SEED=${seed}`;
    console.error(hint);
    if (e && typeof e === "object" && typeof e.message === "string") e.message = `${e.message}\n${hint}`;
    throw err;
  }
}
