// Removes definitions of vregs that no instruction or terminator reads anywhere (a call stays,
// without its result). Cheap and global; dead-defs.ts removes the definitions that liveness
// shows are overwritten before any read, which this pass cannot see for multi-def vregs.
import { defOf, hasSideEffect, termUses, usesOf, type Func, type VReg } from "../ir/ir.js";

/** Remove definitions nobody reads (calls stay, without their result). */
export function eliminateDeadCode(f: Func): boolean {
  let changed = false;
  for (;;) {
    const used = new Set<VReg>();
    for (const b of f.blocks) {
      for (const i of b.instrs) for (const u of usesOf(i)) used.add(u);
      for (const u of termUses(b.term)) used.add(u);
    }
    let removed = false;
    for (const b of f.blocks) {
      b.instrs = b.instrs.filter((i) => {
        const d = defOf(i);
        if (d === undefined || used.has(d)) return true;
        if (i.op === "call") {
          if (i.dst !== undefined) {
            i.dst = undefined;
            removed = true;
          }
          return true;
        }
        if (hasSideEffect(i)) return true;
        removed = true;
        return false;
      });
    }
    if (!removed) break;
    changed = true;
  }
  return changed;
}
