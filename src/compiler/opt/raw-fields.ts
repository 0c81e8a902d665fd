// Compares of a byte-swapped packet field against a constant compare the raw field against the
// swapped constant instead, so the swap (and its register) goes away.
import { defOf, type Func, type Instr, type VReg } from "../ir/ir.js";
import { swapBytes } from "../ir/eval.js";

/**
 * `bswap(load) == K` becomes `load == bswap(K)` (as clang does with network-order fields), so
 * the swap disappears when nothing else reads it. Only for a load of exactly the swapped width
 * (its value already fits) and a constant that fits that width.
 */
export function compareRawFields(f: Func): boolean {
  const defs = new Map<VReg, Instr[]>();
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined) defs.set(d, [...(defs.get(d) ?? []), i]);
    }
  const only = (v: VReg): Instr | undefined => {
    const ds = defs.get(v);
    return ds?.length === 1 && v !== f.ctx ? ds[0] : undefined;
  };
  let changed = false;
  for (const b of f.blocks) {
    const t = b.term;
    if (t.op !== "br" || (t.cond !== "eq" && t.cond !== "ne")) continue;
    let [a, k] = [t.a, t.b];
    if (a.kind === "imm") [a, k] = [k, a];
    if (a.kind !== "reg" || k.kind !== "imm") continue;
    const sw = only(a.id);
    if (!sw || sw.op !== "bswap" || sw.a.kind !== "reg") continue;
    const ld = only(sw.a.id);
    if (!ld || ld.op !== "load" || ld.size * 8 !== sw.bits) continue;
    if (BigInt.asUintN(sw.bits, k.value) !== k.value) continue;
    b.term = { ...t, a: sw.a, b: { kind: "imm", value: swapBytes(k.value, sw.bits) } };
    changed = true;
  }
  return changed;
}
