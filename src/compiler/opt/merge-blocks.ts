// Blocks with identical instructions and terminator are merged into one.
import { printInstr, printTerm, retarget, type Func } from "../ir/ir.js";

/**
 * Blocks with the same instructions and the same terminator are one block: jumps to the later
 * copies go to the first (blocks returning the same constant; `slot = 0; jmp join` made on two
 * failure paths). Besides the code, this lets the verifier prune: a copy is a second place
 * where a path arrives with a state the first one has already proven safe, but states are only
 * compared at the same instruction.
 */
export function mergeIdenticalBlocks(f: Func): boolean {
  const first = new Map<string, number>();
  const alias = new Map<number, number>();
  for (const b of f.blocks) {
    if (b.id === f.blocks[0]!.id) continue; // the entry has no predecessors to redirect
    const key = [...b.instrs.map(printInstr), printTerm(b.term)].join("\n");
    const x = first.get(key);
    if (x === undefined) first.set(key, b.id);
    else alias.set(b.id, x);
  }
  if (alias.size === 0) return false;
  let changed = false;
  const to = (id: number) => {
    const x = alias.get(id);
    if (x === undefined) return id;
    changed = true;
    return x;
  };
  for (const b of f.blocks) retarget(b.term, to);
  return changed;
}
