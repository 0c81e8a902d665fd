// Atomic read-modify-write of a u32/u64/i32/i64 field of a map value or global, as JavaScript's
// `Atomics` does it on a typed array element: each returns the value the field held before.
// Lowered by src/compiler/lower/atomics.ts (BPF_ATOMIC with BPF_FETCH, BPF_XCHG, BPF_CMPXCHG).
import { kernelOnly, unused } from "./kernel-only.js";

type Int = number | bigint;

function rmw<T, K extends keyof T>(target: T, field: K, value: T[K] & Int): T[K] {
  unused(target, field, value);
  return kernelOnly();
}

/**
 * `Atomics.add(ref, "field", n)` and friends: one atomic instruction on `ref.field`, returning
 * the old value (`lock fetch_add`); as a statement whose result is unused, the plain `lock`
 * form. `exchange` stores `n`; `compareExchange(ref, "field", expected, replacement)` stores
 * `replacement` only when the field equals `expected`, and returns the old value either way
 * (it was stored when the result `=== expected`).
 */
export const Atomics = {
  add: rmw,
  sub: rmw,
  and: rmw,
  or: rmw,
  xor: rmw,
  exchange: rmw,
  compareExchange<T, K extends keyof T>(
    target: T,
    field: K,
    expected: T[K] & Int,
    replacement: T[K] & Int,
  ): T[K] {
    unused(target, field, expected, replacement);
    return kernelOnly();
  },
};
