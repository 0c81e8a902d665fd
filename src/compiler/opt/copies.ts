// Global copy propagation between single-definition vregs. Memory bases stay registers
// (eBPF addresses through registers).
import type { Func, Instr, Operand, Terminator, VReg } from "../ir/ir.js";
import { defCounts } from "./fold.js";

/** `d = mov s` with both single-def: uses of d read s instead. */
export function propagateCopies(f: Func): boolean {
  const defs = defCounts(f);
  const alias = new Map<VReg, VReg>();
  for (const b of f.blocks)
    for (const i of b.instrs)
      if (
        i.op === "mov" &&
        i.src.kind === "reg" &&
        defs.get(i.dst) === 1 &&
        defs.get(i.src.id) === 1 &&
        i.dst !== i.src.id
      )
        alias.set(i.dst, i.src.id);
  if (alias.size === 0) return false;
  const root = (v: VReg): VReg => {
    let r = v;
    for (let n = 0; alias.has(r) && n < 1000; n++) r = alias.get(r)!;
    return r;
  };
  let changed = false;
  const op = (o: Operand): Operand => {
    if (o.kind === "reg" && alias.has(o.id)) {
      changed = true;
      return { kind: "reg", id: root(o.id) };
    }
    return o;
  };
  const base = <B extends { kind: string }>(b: B): B =>
    b.kind === "reg" ? (op(b as unknown as Operand) as unknown as B) : b;
  for (const b of f.blocks) {
    b.instrs = b.instrs.map((i): Instr => {
      switch (i.op) {
        case "mov":
          return { ...i, src: op(i.src) };
        case "alu":
          return { ...i, a: op(i.a), b: op(i.b) };
        case "neg":
        case "bswap":
          return { ...i, a: op(i.a) };
        case "load":
          return { ...i, base: base(i.base) };
        case "store":
        case "atomicAdd":
          return { ...i, base: base(i.base), value: op(i.value) };
        case "atomic":
          return {
            ...i,
            base: base(i.base),
            value: op(i.value),
            ...(i.expected ? { expected: op(i.expected) } : {}),
          };
        case "call":
          return { ...i, args: i.args.map(op) };
        default:
          return i;
      }
    });
    const t: Terminator = b.term;
    if (t.op === "br") b.term = { ...t, a: op(t.a), b: op(t.b) };
    else if (t.op === "ret") b.term = { ...t, value: op(t.value) };
  }
  return changed;
}
