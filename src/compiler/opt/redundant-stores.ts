// Redundant stack stores: a store of the value a stack slot already holds on every path is
// dropped. `m.get(key)` then `m.set(key, …)` builds the same key twice; after this the key's
// fields die at the first set of stores instead of staying live across the lookup call.
import { defOf, type Func, type Instr, type Operand, type VReg } from "../ir/ir.js";
import { helperId } from "../../obj/helpers.js";
import { type State, entryStates } from "./redundancy.js";

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
      if ((i.op === "store" || i.op === "atomicAdd" || i.op === "atomic") && i.value.kind === "reg")
        if (stackPtr.has(i.value.id)) return false;

  const slotKey = (slot: number, off: number, size: number) => `${slot}:${off}:${size}`;
  const valKey = (o: Operand) => (o.kind === "imm" ? `#${o.value}` : `v${o.id}`);
  const clobbers = (k: string, slot: number, off: number, size: number): boolean => {
    const [s, o, n] = k.split(":").map(Number) as [number, number, number];
    return s === slot && o < off + size && off < o + n;
  };
  const transfer = (s: State, i: Instr): void => {
    if (i.op === "store" || i.op === "atomicAdd" || i.op === "atomic") {
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
