// Operands whose path facts say they equal a constant become that constant.
import type { Func, Instr, Operand } from "../ir/ir.js";
import { eqOf, transfer, entryFacts } from "./facts.js";

/**
 * Constants known on every path (a `let` counter or mask in an unrolled loop, a join vreg all of
 * whose definitions reaching a use agree) replace the uses; folding then computes with them.
 */
export function propagateFacts(f: Func): boolean {
  const entry = entryFacts(f);
  let changed = false;
  for (const b of f.blocks) {
    const inFacts = entry.get(b.id);
    if (!inFacts) continue;
    const fs = new Map(inFacts);
    const op = (o: Operand): Operand => {
      const v = o.kind === "reg" ? eqOf(fs, o.id) : undefined;
      if (v === undefined) return o;
      changed = true;
      return { kind: "imm", value: v };
    };
    b.instrs = b.instrs.map((i): Instr => {
      let out: Instr = i;
      if (i.op === "mov") out = { ...i, src: op(i.src) };
      else if (i.op === "alu") out = { ...i, a: op(i.a), b: op(i.b) };
      else if (i.op === "neg" || i.op === "bswap") out = { ...i, a: op(i.a) };
      else if (i.op === "store" || i.op === "atomicAdd") out = { ...i, value: op(i.value) };
      else if (i.op === "atomic")
        out = { ...i, value: op(i.value), ...(i.expected ? { expected: op(i.expected) } : {}) };
      else if (i.op === "call") out = { ...i, args: i.args.map(op) };
      transfer(fs, out);
      return out;
    });
    const t = b.term;
    if (t.op === "br") b.term = { ...t, a: op(t.a), b: op(t.b) };
    else if (t.op === "ret") b.term = { ...t, value: op(t.value) };
  }
  return changed;
}
