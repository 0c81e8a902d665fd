// Removes definitions that liveness shows are dead: overwritten (or never read) before any
// use on every path, also for vregs with several definitions. unread-vregs.ts is the cheaper
// global test for vregs nobody reads at all.
import { defOf, hasSideEffect, termUses, usesOf, type Func, type Instr } from "../ir/ir.js";
import { liveOutSets } from "../ir/liveness.js";

/** Dead code elimination by liveness: also removes dead definitions of multi-def vregs. */
export function eliminateDeadDefs(f: Func): boolean {
  const liveOut = liveOutSets(f);
  let removed = false;
  f.blocks.forEach((b, pos) => {
    const live = liveOut[pos]!;
    for (const u of termUses(b.term)) live.add(u);
    const kept: Instr[] = [];
    for (let k = b.instrs.length - 1; k >= 0; k--) {
      const i = b.instrs[k]!;
      const d = defOf(i);
      if (d !== undefined && !live.has(d)) {
        if (i.op === "call") {
          i.dst = undefined;
          removed = true;
        } else if (!hasSideEffect(i)) {
          removed = true;
          continue;
        }
      }
      if (d !== undefined) live.delete(d);
      for (const u of usesOf(i)) live.add(u);
      kept.push(i);
    }
    b.instrs = kept.reverse();
  });
  return removed;
}
