// Known-zero bits: for each vreg, the bits that may be set on some path (joins included: the
// union over its definitions).
//
// `Number(a > b) << 4` is a join of 0 and 1 shifted: 0 or 16, so `x >>> shift`'s `shift & 31`
// clears nothing (alu32.ts). fold.ts knows the single-definition cases (loads, swaps); this
// follows values through joins, ORs, shifts and additions. Masks are not dropped in general:
// a mask the verifier sees before a compare is what bounds the compared register on old
// kernels (a ring buffer capture length), even where the value provably needs none.
import { defOf, entryVregs, type Func, type Instr, type Operand, type VReg } from "../ir/ir.js";

const ALL = (1n << 64n) - 1n;
const low = (k: number): bigint => (k >= 64 ? ALL : (1n << BigInt(k)) - 1n);
/** Bits 0..msb(m): anything at most m. */
const upTo = (m: bigint): bigint => (m === 0n ? 0n : low(m.toString(2).length));
const count = (o: Operand): number | undefined =>
  o.kind === "imm" && o.value >= 0n && o.value < 64n ? Number(o.value) : undefined;

/** Bits each vreg may have set (a vreg never defined, or defined at entry, may have any). */
export function mayBeSet(f: Func): Map<VReg, bigint> {
  const m = new Map<VReg, bigint>();
  const defs: Instr[] = [];
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined) {
        defs.push(i);
        m.set(d, 0n);
      }
    }
  for (const v of entryVregs(f)) m.set(v, ALL);
  const of = (o: Operand): bigint =>
    o.kind === "imm" ? BigInt.asUintN(64, o.value) : (m.get(o.id) ?? ALL);
  const transfer = (i: Instr): bigint => {
    switch (i.op) {
      case "mov":
        return of(i.src);
      case "load":
        return i.core ? ALL : low(i.size * 8);
      case "bswap":
        return low(i.bits);
      case "zext":
        return of(i.a) & low(32);
      case "alu32":
        return low(32);
      case "alu": {
        const a = of(i.a);
        const b = of(i.b);
        switch (i.alu) {
          case "and":
            return a & b;
          case "or":
          case "xor":
            return a | b;
          case "add":
            return upTo(a | b) === ALL ? ALL : low(upTo(a | b).toString(2).length + 1);
          case "div":
          case "mod": // x % 0 is x
            return upTo(a);
          case "lsh": {
            const k = count(i.b);
            return k === undefined ? ALL : (a << BigInt(k)) & ALL;
          }
          case "rsh": {
            const k = count(i.b);
            return k === undefined ? upTo(a) : a >> BigInt(k);
          }
          default:
            return ALL;
        }
      }
      default:
        return ALL;
    }
  };
  // Masks only grow (at most 64 times per vreg); past the cap nothing is claimed.
  for (let round = 0; round < 80; round++) {
    let changed = false;
    for (const i of defs) {
      const d = defOf(i)!;
      const old = m.get(d)!;
      const nu = old | transfer(i);
      if (nu !== old) {
        m.set(d, nu);
        changed = true;
      }
    }
    if (!changed) return m;
  }
  return new Map();
}
