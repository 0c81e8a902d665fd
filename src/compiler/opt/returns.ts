// Duplicates short return blocks into the blocks jumping to them when the returned value is
// known there, so each path returns its own constant.
import type { Func } from "../ir/ir.js";
import { substitute, localStep, CopyEnv } from "./local-copies.js";

/**
 * A jump to a short return block (`v = …; ret v`) whose returned value the jumping block knows
 * (it set it to a constant or a copy) becomes a copy of the return: `r1 = 0; goto L … L: r0 = r1;
 * exit` is `r0 = 0; exit`, and the shared block goes once nothing jumps to it.
 */
export function duplicateReturns(f: Func): boolean {
  let changed = false;
  for (const p of f.blocks) {
    const t = p.term;
    if (t.op !== "jmp") continue;
    const r = f.blocks[t.target];
    if (!r || r === p || r.term.op !== "ret" || r.instrs.length > 2) continue;
    if (!r.instrs.every((i) => i.op === "mov")) continue;
    const env = new CopyEnv();
    for (const i of p.instrs) localStep(env, i);
    for (const i of r.instrs) localStep(env, substitute(i, env)[0]);
    const v = r.term.value;
    if (v.kind !== "reg" || !env.has(v.id)) continue;
    p.instrs.push(...r.instrs.map((i) => ({ ...i })));
    p.term = { ...r.term };
    changed = true;
  }
  return changed;
}
