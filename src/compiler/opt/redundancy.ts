// Must-facts that flow forward through the blocks, intersected where paths join: the dataflow
// shared by cse.ts (values available in vregs) and redundant-stores.ts (values stack slots hold).
// Only vregs with one definition name a value in a subexpression (a copy of it is the same value
// wherever it is available); stores remember a vreg until it is defined again.
import { defOf, entryVregs, successors, type Func, type Instr, type VReg } from "../ir/ir.js";

export type State = Map<string, string>;

/** Must-facts at each block's entry: forward dataflow, meet = intersection of equal entries. */
export function entryStates(f: Func, transfer: (s: State, i: Instr) => void): Map<number, State> {
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

export function singleDefs(f: Func): Set<VReg> {
  const n = new Map<VReg, number>(entryVregs(f).map((v) => [v, 1]));
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined) n.set(d, (n.get(d) ?? 0) + 1);
    }
  return new Set([...n].filter(([, c]) => c === 1).map(([v]) => v));
}
