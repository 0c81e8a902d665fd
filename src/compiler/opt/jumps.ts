// Jump threading through empty blocks, and branches whose both sides go to one block.
import { retarget, type Func } from "../ir/ir.js";

/**
 * Jumps to empty blocks that only jump on go straight to the final target, and a branch going
 * to the same block either way is a jump: its compare decides nothing (an IPv6 bounds check
 * whose outcomes both return the same verdict).
 */
export function threadJumps(f: Func): boolean {
  let changed = sameTargetBranches(f);
  const forward = new Map<number, number>();
  for (const b of f.blocks)
    if (b.instrs.length === 0 && b.term.op === "jmp" && b.term.target !== b.id)
      forward.set(b.id, b.term.target);
  if (forward.size === 0) return changed;
  const final = (id: number): number => {
    let x = id;
    for (let n = 0; forward.has(x) && n < 64; n++) x = forward.get(x)!;
    return x;
  };
  const follow = (id: number): number => {
    const r = final(id);
    if (r !== id) changed = true;
    return r;
  };
  for (const b of f.blocks) retarget(b.term, follow);
  return sameTargetBranches(f) || changed;
}

function sameTargetBranches(f: Func): boolean {
  let changed = false;
  for (const b of f.blocks) {
    const t = b.term;
    if (t.op === "br" && t.t === t.f) {
      b.term = { op: "jmp", target: t.t, ...(t.loc && { loc: t.loc }) };
      changed = true;
    }
  }
  return changed;
}
