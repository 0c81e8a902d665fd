// The value of each ALU op and compare on 64-bit constants, as the eBPF machine computes it:
// constant folding and branch threading decide code with these, so they are the IR's semantics,
// not a pass's.
import type { CmpOp } from "./ir.js";

/** The value of the `bswap` op: the low `bits` of `v` with their bytes reversed. */
export function swapBytes(v: bigint, bits: number): bigint {
  let x = BigInt.asUintN(bits, v);
  let y = 0n;
  for (let k = 0; k < bits / 8; k++) {
    y = (y << 8n) | (x & 0xffn);
    x >>= 8n;
  }
  return y;
}

const s64 = (v: bigint) => BigInt.asIntN(64, v);

export const u64 = (v: bigint) => BigInt.asUintN(64, v);

export function evalAlu(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case "add":
      return s64(a + b);
    case "sub":
      return s64(a - b);
    case "mul":
      return s64(a * b);
    case "div":
      return b === 0n ? 0n : s64(u64(a) / u64(b));
    case "mod":
      return b === 0n ? a : s64(u64(a) % u64(b));
    case "and":
      return s64(a & b);
    case "or":
      return s64(a | b);
    case "xor":
      return s64(a ^ b);
    case "lsh":
      return s64(a << (b & 63n));
    case "rsh":
      return s64(u64(a) >> (b & 63n));
    case "arsh":
      return s64(a) >> (b & 63n);
  }
  throw new Error(`internal: unknown alu op ${op}`);
}

export function evalCmp(c: CmpOp, a: bigint, b: bigint): boolean {
  switch (c) {
    case "eq":
      return s64(a) === s64(b);
    case "ne":
      return s64(a) !== s64(b);
    case "gt":
      return u64(a) > u64(b);
    case "ge":
      return u64(a) >= u64(b);
    case "lt":
      return u64(a) < u64(b);
    case "le":
      return u64(a) <= u64(b);
    case "sgt":
      return s64(a) > s64(b);
    case "sge":
      return s64(a) >= s64(b);
    case "slt":
      return s64(a) < s64(b);
    case "sle":
      return s64(a) <= s64(b);
    case "set":
      return (a & b) !== 0n;
  }
}
