// A byte swap of a byte swap is the value itself.
//
// An address read from a header is converted to host order (`ip.saddr` is 0x0a000001 for
// 10.0.0.1) and a `be32` key or field converts it back: `bswap32(bswap32(load32))`. When the
// inner value has no bits above the swap's width (a load of at most that size, or a swap of
// that width) the pair is the inner value; both swaps are then unread and go.
import { defOf, type Func, type Instr, type VReg } from "../ir/ir.js";
import { defCounts } from "./fold.js";

/** Width in bits of what a single-def instruction leaves in its register (64: unknown). */
const widthOf = (i: Instr | undefined): number =>
  i?.op === "load" && !i.core ? i.size * 8 : i?.op === "bswap" ? i.bits : 64;

export function cancelSwapPairs(f: Func): boolean {
  const defs = defCounts(f);
  const only = new Map<VReg, Instr>();
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined && defs.get(d) === 1) only.set(d, i);
    }
  let changed = false;
  for (const b of f.blocks)
    b.instrs = b.instrs.map((i): Instr => {
      if (i.op !== "bswap" || i.a.kind !== "reg") return i;
      const inner = only.get(i.a.id);
      if (inner?.op !== "bswap" || inner.bits !== i.bits || inner.a.kind !== "reg") return i;
      const x = inner.a.id;
      // x keeps the value the inner swap read: it is defined once (or is an entry vreg, never)
      if (defs.get(x) !== 1 || widthOf(only.get(x)) > i.bits) return i;
      changed = true;
      return { op: "mov", dst: i.dst, src: inner.a, ...(i.loc ? { loc: i.loc } : {}) };
    });
  return changed;
}
