// Redundancy elimination on must-facts that flow forward through the blocks (intersected where
// paths join):
// - common subexpressions: a pure computation (ALU, byte swap, memory load) whose value a
//   vreg computed on every path here already holds becomes a copy of that vreg, which copy
//   propagation then removes. `ctx.ip()` and `ctx.transport()` derive the same header pointers
//   and read the same fields; C programmers (and clang) compute each once.
// - redundant stack stores: a store of the value a stack slot already holds on every path is
//   dropped. `m.get(key)` then `m.set(key, …)` builds the same key twice; after this the key's
//   fields die at the first set of stores instead of staying live across the lookup call.
//
// Only vregs with one definition name a value in a subexpression (a copy of it is the same value
// wherever it is available); stores remember a vreg until it is defined again.
import {
  defOf,
  successors,
  type Base,
  type Func,
  type Instr,
  type Operand,
  type VReg,
} from "../ir/ir.js";
import { helperId } from "../../obj/helpers.js";

type State = Map<string, string>;

/** Must-facts at each block's entry: forward dataflow, meet = intersection of equal entries. */
function entryStates(f: Func, transfer: (s: State, i: Instr) => void): Map<number, State> {
  const byId = new Map(f.blocks.map((b) => [b.id, b]));
  const entry = new Map<number, State>([[f.blocks[0]!.id, new Map()]]);
  const work = [f.blocks[0]!.id];
  for (let guard = 0; work.length && guard < 200_000; guard++) {
    const b = byId.get(work.pop()!)!;
    const s = new Map(entry.get(b.id)!);
    for (const i of b.instrs) transfer(s, i);
    for (const succ of successors(b.term)) {
      const old = entry.get(succ);
      let nu: State;
      if (!old) nu = new Map(s);
      else {
        nu = new Map();
        for (const [k, v] of old) if (s.get(k) === v) nu.set(k, v);
        if (nu.size === old.size) continue;
      }
      entry.set(succ, nu);
      work.push(succ);
    }
  }
  return entry;
}

function singleDefs(f: Func): Set<VReg> {
  const n = new Map<VReg, number>([[f.ctx, 1]]);
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined) n.set(d, (n.get(d) ?? 0) + 1);
    }
  return new Set([...n].filter(([, c]) => c === 1).map(([v]) => v));
}

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
    if (i.op === "store" || i.op === "atomicAdd" || i.op === "call") {
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

/** Helpers that only read the memory their pointer arguments point to. */
const READS_ONLY = new Set(
  [
    "map_lookup_elem",
    "map_update_elem",
    "map_delete_elem",
    "trace_printk",
    "perf_event_output",
    "ringbuf_output",
  ].map((n) => helperId(n)!),
);

/** Drop stores of the value a stack slot already holds on every path. */
export function eliminateRedundantStores(f: Func): boolean {
  // Nothing to do unless some stack location is stored twice.
  const stored = new Set<string>();
  let repeated = false;
  for (const b of f.blocks)
    for (const i of b.instrs)
      if (i.op === "store" && i.base.kind === "slot") {
        const k = `${i.base.slot}:${i.off}:${i.size}`;
        if (stored.has(k)) repeated = true;
        stored.add(k);
      }
  if (!repeated) return false;
  // Vregs that may point into the frame. When such a pointer is itself stored, any loaded value
  // might be one: give up rather than track it.
  const stackPtr = new Set<VReg>();
  for (let grew = true; grew;) {
    grew = false;
    for (const b of f.blocks)
      for (const i of b.instrs) {
        const from =
          i.op === "addr" ||
          (i.op === "mov" && i.src.kind === "reg" && stackPtr.has(i.src.id)) ||
          (i.op === "alu" && [i.a, i.b].some((o) => o.kind === "reg" && stackPtr.has(o.id)));
        if (from && !stackPtr.has(i.dst)) {
          stackPtr.add(i.dst);
          grew = true;
        }
      }
  }
  for (const b of f.blocks)
    for (const i of b.instrs)
      if ((i.op === "store" || i.op === "atomicAdd") && i.value.kind === "reg")
        if (stackPtr.has(i.value.id)) return false;

  const slotKey = (slot: number, off: number, size: number) => `${slot}:${off}:${size}`;
  const valKey = (o: Operand) => (o.kind === "imm" ? `#${o.value}` : `v${o.id}`);
  const clobbers = (k: string, slot: number, off: number, size: number): boolean => {
    const [s, o, n] = k.split(":").map(Number) as [number, number, number];
    return s === slot && o < off + size && off < o + n;
  };
  const transfer = (s: State, i: Instr): void => {
    if (i.op === "store" || i.op === "atomicAdd") {
      if (i.base.kind === "reg") {
        if (stackPtr.has(i.base.id)) s.clear();
      } else {
        for (const k of [...s.keys()]) if (clobbers(k, i.base.slot, i.off, i.size)) s.delete(k);
        if (i.op === "store") s.set(slotKey(i.base.slot, i.off, i.size), valKey(i.value));
      }
    } else if (i.op === "call") {
      const readsOnly = i.fn === undefined && READS_ONLY.has(i.helper);
      if (!readsOnly && i.args.some((a) => a.kind === "reg" && stackPtr.has(a.id))) s.clear();
    }
    const d = defOf(i);
    if (d !== undefined) for (const [k, v] of s) if (v === `v${d}`) s.delete(k);
  };
  const entry = entryStates(f, transfer);
  let changed = false;
  for (const b of f.blocks) {
    const s = entry.get(b.id);
    if (!s) continue;
    b.instrs = b.instrs.filter((i) => {
      const redundant =
        i.op === "store" &&
        i.base.kind === "slot" &&
        s.get(slotKey(i.base.slot, i.off, i.size)) === valKey(i.value);
      transfer(s, i);
      if (redundant) changed = true;
      return !redundant;
    });
  }
  return changed;
}
