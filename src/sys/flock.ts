/**
 * flock(2) through bun:ffi: locks the kernel hands on at once and drops when their holder dies.
 * Null where no C library can be reached (callers then go without, as they say).
 */
import { dlopen, FFIType } from "bun:ffi";

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export type Flock = (fd: number, operation: number) => number;

const C_LIBRARIES: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ["libc.so.6"],
  darwin: ["/usr/lib/libSystem.B.dylib"],
};

let flock: Flock | null | undefined;

export function loadFlock(): Flock | null {
  if (flock !== undefined) return flock;
  flock = null;
  for (const lib of C_LIBRARIES[process.platform] ?? []) {
    try {
      const { symbols } = dlopen(lib, { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
      flock = symbols.flock as Flock;
      break;
    } catch {
      // Not this library (a musl system has no libc.so.6): try the next, else go without.
    }
  }
  return flock;
}
