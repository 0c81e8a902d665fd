// Common subexpressions: a pure computation (ALU, byte swap, memory load) whose value a vreg
// computed on every path here already holds becomes a copy of that vreg, which copy
// propagation then removes. `ctx.ip()` and `ctx.transport()` derive the same header pointers
// and read the same fields; C programmers (and clang) compute each once. Facts: redundancy.ts.
import { defOf, type Base, type Func, type Instr, type Operand } from "../ir/ir.js";
import { type State, entryStates, singleDefs } from "./redundancy.js";

const COMMUTATIVE = new Set(["add", "mul", "and", "or", "xor"]);

/** Replace recomputations of an available pure value by a copy of the vreg holding it. */
export function eliminateCommonSubexpressions(f: Func): boolean {
  const single = singleDefs(f);
  const opnd = (o: Operand): string | undefined =>
    o.kind === "imm" ? `#${o.value}` : single.has(o.id) ? `v${o.id}` : undefined;
  const base = (b: Base): string | undefined =>
    b.kind === "slot" ? `s${b.slot}` : single.has(b.id) ? `v${b.id}` : undefined;
  /** The value an instruction computes, as a key, when it is pure and names fixed values. */
  const computeKey = (i: Instr): string | undefined => {
    const d = defOf(i);
    if (d === undefined || !single.has(d) || d === f.ctx) return undefined;
    switch (i.op) {
      case "alu": {
        let [a, b] = [opnd(i.a), opnd(i.b)];
        if (a === undefined || b === undefined) return undefined;
        if (COMMUTATIVE.has(i.alu) && b < a) [a, b] = [b, a];
        return `${i.alu} ${a} ${b}`;
      }
      case "neg":
      case "bswap": {
        const a = opnd(i.a);
        return a === undefined ? undefined : `${i.op}${i.op === "bswap" ? i.bits : ""} ${a}`;
      }
      case "load": {
        const b = base(i.base);
        return b === undefined
          ? undefined
          : `load${i.size} ${b} ${i.off}${i.core ? ` ${i.core.kind}:${i.core.key}` : ""}`;
      }
      default:
        return undefined; // constants (addr, mapfd, global) are cheaper to recompute than to keep
    }
  };
  // Asked for every instruction on every visit of the dataflow and again when rewriting.
  const keys = new Map<Instr, string | undefined>();
  const keyOf = (i: Instr): string | undefined => {
    if (keys.has(i)) return keys.get(i);
    const k = computeKey(i);
    keys.set(i, k);
    return k;
  };
  // Nothing to do unless some value is computed twice.
  const seen = new Set<string>();
  let repeated = false;
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const k = keyOf(i);
      if (k === undefined) continue;
      if (seen.has(k)) repeated = true;
      seen.add(k);
    }
  if (!repeated) return false;
  const transfer = (s: State, i: Instr): void => {
    // Memory may change under any store or helper call: loads are no longer available.
    if (i.op === "store" || i.op === "atomicAdd" || i.op === "atomic" || i.op === "call") {
      for (const k of [...s.keys()]) if (k.startsWith("load")) s.delete(k);
      return;
    }
    const k = keyOf(i);
    if (k !== undefined && !s.has(k)) s.set(k, `${defOf(i)!}`);
  };
  const entry = entryStates(f, transfer);
  let changed = false;
  for (const b of f.blocks) {
    const s = entry.get(b.id);
    if (!s) continue;
    b.instrs = b.instrs.map((i): Instr => {
      const k = keyOf(i);
      const held = k === undefined ? undefined : s.get(k);
      transfer(s, i);
      const d = defOf(i);
      if (held === undefined || d === undefined || Number(held) === d) return i;
      changed = true;
      return {
        op: "mov",
        dst: d,
        src: { kind: "reg", id: Number(held) },
        ...(i.loc ? { loc: i.loc } : {}),
      };
    });
  }
  return changed;
}
