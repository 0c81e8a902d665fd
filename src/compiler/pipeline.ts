// PIPELINE_HEADER
import type { Func } from "./ir/ir.js";
import { cloneDecidedPaths, irSize } from "./opt/clone-paths.js";
import { compareRawFields } from "./opt/raw-fields.js";
import { eliminateDeadDefs } from "./opt/dead-defs.js";
import { layoutBlocks } from "./opt/layout.js";
import { mergeIdenticalBlocks } from "./opt/merge-blocks.js";
import { propagateFacts } from "./opt/propagate-facts.js";
import { threadKnownBranches } from "./opt/thread-known-branches.js";
import { eliminateCommonSubexpressions, eliminateRedundantStores } from "./opt/redundancy.js";
import { dropUnreadTruncations } from "./opt/demanded.js";
import { removeUnreachable } from "./opt/unreachable.js";
import { foldConstants } from "./opt/fold.js";
import { propagateCopies } from "./opt/copies.js";
import { eliminateDeadCode } from "./opt/unread-vregs.js";
import { threadJumps } from "./opt/jumps.js";
import { propagateLocally } from "./opt/local-copies.js";
import { duplicateReturns } from "./opt/returns.js";

export function optimize(f: Func): Func {
  simplify(f);
  const limit = irSize(f) + 4; // path copies may grow the function this much in total
  for (let k = 0; k < 16 && cloneDecidedPaths(f, simplify, limit); k++);
  removeUnreachable(f);
  layoutBlocks(f);
  return f;
}

/** The clean-up passes of `simplify`, in the order each round runs them. */
const CLEANUPS: readonly ((f: Func) => boolean)[] = [
  removeUnreachable,
  foldConstants,
  propagateCopies,
  propagateLocally,
  duplicateReturns,
  propagateFacts,
  mergeIdenticalBlocks,
  eliminateCommonSubexpressions,
  eliminateRedundantStores,
  eliminateDeadCode,
  threadJumps,
  threadKnownBranches,
  compareRawFields,
  dropUnreadTruncations,
  eliminateDeadDefs,
];

/**
 * The clean-up passes, repeated until nothing changes (at most 8 rounds). A pass is a
 * deterministic function of the IR that leaves it as it was when it reports no change, so once
 * every pass has run on the current IR without a change the rounds are over: the final round
 * stops at the last pass that changed something instead of running all of them again.
 */
export function simplify(f: Func): void {
  const n = CLEANUPS.length;
  let quiet = 0; // passes run in a row without a change
  for (let round = 0; round < 8 && quiet < n; round++) {
    let changed = false;
    for (let k = 0; k < n && quiet < n; k++) {
      if (CLEANUPS[k]!(f)) {
        changed = true;
        quiet = 0;
      } else quiet++;
    }
    if (!changed) break;
  }
  removeUnreachable(f);
}
