// Alignment of memory copies. A byte array or struct copied into a field that is not 8-aligned
// (`comm` after a u32) must not use 8-byte accesses: the verifier rejects a misaligned stack
// or context access ("misaligned stack access off 0+0+-20 size 8"). Copies use the largest
// access both sides are aligned for, as clang's memcpy expansion does.
import type { Base, Func, Size } from "../ir/ir.js";

/** The alignment (1, 2, 4 or 8) of `base + off`: stack slots know theirs; a pointer in a
 * register (map value, context, ring buffer record, packet) is taken as 8-aligned. */
export function alignmentOf(f: Func, base: Base, off: number): number {
  const start = base.kind === "slot" ? (f.slots[base.slot]?.align ?? 8) : 8;
  let a = 1;
  while (a < start && off % (a * 2) === 0) a *= 2;
  return a;
}

/** The access size for the next chunk of a copy of `left` bytes. */
export function copyChunk(
  f: Func,
  from: Base,
  fromOff: number,
  to: Base,
  toOff: number,
  left: number,
): Size {
  const a = Math.min(alignmentOf(f, from, fromOff), alignmentOf(f, to, toOff));
  for (const n of [8, 4, 2] as const) if (left >= n && a >= n) return n;
  return 1;
}
