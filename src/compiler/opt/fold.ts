// Constant folding with branch folding. Vregs with several definitions (joins) are never
// folded: only a vreg defined exactly once has one value.
import {
  defOf,
  entryVregs,
  imm,
  type Func,
  type Instr,
  type Operand,
  type VReg,
} from "../ir/ir.js";
import { evalAlu, evalCmp, swapBytes, u64 } from "../ir/eval.js";

export function defCounts(f: Func): Map<VReg, number> {
  const n = new Map<VReg, number>(entryVregs(f).map((v) => [v, 1]));
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined) n.set(d, (n.get(d) ?? 0) + 1);
    }
  return n;
}

/** Replace single-def constant vregs by their value; fold ALU ops and branches on constants. */
export function foldConstants(f: Func): boolean {
  let changed = false;
  const defs = defCounts(f);
  const consts = new Map<VReg, bigint>();
  for (const b of f.blocks)
    for (const i of b.instrs)
      if (i.op === "mov" && i.src.kind === "imm" && defs.get(i.dst) === 1)
        consts.set(i.dst, i.src.value);
  // Bits a single-def vreg can have set: loads and byte swaps zero-extend.
  const only = new Map<VReg, Instr>();
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined && defs.get(d) === 1) only.set(d, i);
    }
  const widthOf = (v: VReg): number => {
    const i = only.get(v);
    if (i?.op === "load") return i.size * 8;
    if (i?.op === "bswap") return i.bits;
    return 64;
  };
  const sub = (o: Operand): Operand => {
    if (o.kind === "reg" && consts.has(o.id)) {
      changed = true;
      return imm(consts.get(o.id)!);
    }
    return o;
  };
  for (const b of f.blocks) {
    b.instrs = b.instrs.map((i): Instr => {
      switch (i.op) {
        case "mov":
          return { ...i, src: sub(i.src) };
        case "alu": {
          const a = sub(i.a);
          const bb = sub(i.b);
          if (a.kind === "imm" && bb.kind === "imm") {
            changed = true;
            return {
              op: "mov",
              dst: i.dst,
              src: imm(evalAlu(i.alu, a.value, bb.value)),
              ...(i.loc ? { loc: i.loc } : {}),
            };
          }
          // The verifier rejects a division by the constant 0; its defined result is folded:
          // x / 0 is 0 and x % 0 is x.
          if (bb.kind === "imm" && bb.value === 0n && (i.alu === "div" || i.alu === "mod")) {
            changed = true;
            return {
              op: "mov",
              dst: i.dst,
              src: i.alu === "div" ? imm(0) : a,
              ...(i.loc ? { loc: i.loc } : {}),
            };
          }
          // x & K is x when x's set bits are all within K (a zero-extending load or swap)
          if (i.alu === "and" && bb.kind === "imm" && a.kind === "reg") {
            const w = widthOf(a.id);
            if (w < 64 && (u64(bb.value) & ((1n << BigInt(w)) - 1n)) === (1n << BigInt(w)) - 1n) {
              changed = true;
              return { op: "mov", dst: i.dst, src: a, ...(i.loc ? { loc: i.loc } : {}) };
            }
          }
          // x + 0, x | 0, x - 0 … are copies
          if (
            bb.kind === "imm" &&
            bb.value === 0n &&
            ["add", "sub", "or", "xor", "lsh", "rsh", "arsh"].includes(i.alu)
          ) {
            changed = true;
            return { op: "mov", dst: i.dst, src: a, ...(i.loc ? { loc: i.loc } : {}) };
          }
          return { ...i, a, b: bb };
        }
        case "neg": {
          const a = sub(i.a);
          if (a.kind === "imm")
            return { op: "mov", dst: i.dst, src: imm(-a.value), ...(i.loc ? { loc: i.loc } : {}) };
          return { ...i, a };
        }
        case "bswap": {
          const a = sub(i.a);
          if (a.kind === "imm")
            return {
              op: "mov",
              dst: i.dst,
              src: imm(swapBytes(a.value, i.bits)),
              ...(i.loc ? { loc: i.loc } : {}),
            };
          return { ...i, a };
        }
        case "store":
        case "atomicAdd":
          return { ...i, value: sub(i.value) };
        case "atomic":
          return {
            ...i,
            value: sub(i.value),
            ...(i.expected ? { expected: sub(i.expected) } : {}),
          };
        case "call":
          return { ...i, args: i.args.map(sub) };
        default:
          return i;
      }
    });
    const t = b.term;
    if (t.op === "br") {
      const a = sub(t.a);
      const bb = sub(t.b);
      if (a.kind === "imm" && bb.kind === "imm") {
        b.term = {
          op: "jmp",
          target: evalCmp(t.cond, a.value, bb.value) ? t.t : t.f,
          ...(t.loc ? { loc: t.loc } : {}),
        };
        changed = true;
      } else if (t.t === t.f) {
        b.term = { op: "jmp", target: t.t, ...(t.loc ? { loc: t.loc } : {}) };
        changed = true;
      } else b.term = { ...t, a, b: bb };
    } else if (t.op === "ret") b.term = { ...t, value: sub(t.value) };
  }
  return changed;
}
