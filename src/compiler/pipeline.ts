// The compiler's order, in one place (Go's ssa/compile.go `passes` and `passOrder` idea).
//
// Stages (index.ts runs them for each program; a stage's files import only earlier stages and
// the shared ir/, errors.ts and limits.ts — test/unit/compiler/pipeline.test.ts checks it):
//   frontend  frontend/   the type-checked TypeScript program
//   module    module/     top-level declarations: maps, globals, programs, constants
//   lower     lower/      AST → IR per program (lowerer.ts and the files it names)
//   opt       opt/ + this file: `optimize` below
//   regalloc  backend/regalloc.ts
//   isel      backend/isel.ts   IR → eBPF instructions
//   emit      backend/emit.ts   ELF + BTF
//
// `optimize` = `simplify` (the CLEANUPS rounds to a fixpoint), then path cloning (each clone
// simplified again), then FINISH. ORDER states why the passes are in this order; the test
// checks each "a before b" against the tables, so a reordering that breaks one fails there.
import type { Func } from "./ir/ir.js";
import { cloneDecidedPaths, irSize } from "./opt/clone-paths.js";
import { compareRawFields } from "./opt/raw-fields.js";
import { eliminateDeadDefs } from "./opt/dead-defs.js";
import { layoutBlocks } from "./opt/layout.js";
import { mergeIdenticalBlocks } from "./opt/merge-blocks.js";
import { propagateFacts } from "./opt/propagate-facts.js";
import { threadKnownBranches } from "./opt/thread-known-branches.js";
import { eliminateCommonSubexpressions } from "./opt/cse.js";
import { eliminateRedundantStores } from "./opt/redundant-stores.js";
import { dropUnreadTruncations } from "./opt/demanded.js";
import { removeUnreachable } from "./opt/unreachable.js";
import { foldConstants } from "./opt/fold.js";
import { propagateCopies } from "./opt/copies.js";
import { eliminateDeadCode } from "./opt/unread-vregs.js";
import { threadJumps } from "./opt/jumps.js";
import { propagateLocally } from "./opt/local-copies.js";
import { duplicateReturns } from "./opt/returns.js";
import { foldJoinConstants } from "./opt/join-constants.js";
import { narrowTo32 } from "./opt/alu32.js";
import { cancelSwapPairs } from "./opt/swap-pairs.js";

/** An optimisation pass; the name is the one ORDER uses (function names do not survive bundling). */
interface Pass {
  readonly name: string;
  readonly run: (f: Func) => unknown;
}

/** The clean-up passes of `simplify`, in the order each round runs them. */
export const CLEANUPS: readonly Pass[] = [
  { name: "removeUnreachable", run: removeUnreachable },
  { name: "foldConstants", run: foldConstants },
  { name: "cancelSwapPairs", run: cancelSwapPairs },
  { name: "propagateCopies", run: propagateCopies },
  { name: "propagateLocally", run: propagateLocally },
  { name: "duplicateReturns", run: duplicateReturns },
  { name: "propagateFacts", run: propagateFacts },
  { name: "mergeIdenticalBlocks", run: mergeIdenticalBlocks },
  { name: "eliminateCommonSubexpressions", run: eliminateCommonSubexpressions },
  { name: "eliminateRedundantStores", run: eliminateRedundantStores },
  { name: "eliminateDeadCode", run: eliminateDeadCode },
  { name: "threadJumps", run: threadJumps },
  { name: "threadKnownBranches", run: threadKnownBranches },
  { name: "compareRawFields", run: compareRawFields },
  { name: "dropUnreadTruncations", run: dropUnreadTruncations },
  { name: "foldJoinConstants", run: foldJoinConstants },
  { name: "eliminateDeadDefs", run: eliminateDeadDefs },
];

/** What `optimize` runs after path cloning, in order. */
export const FINISH: readonly Pass[] = [
  { name: "removeUnreachable", run: removeUnreachable },
  { name: "narrowTo32", run: narrowTo32 },
  { name: "layoutBlocks", run: layoutBlocks },
];

/** The steps of `optimize`, as ORDER names them. */
export const OPTIMIZE: readonly string[] = [
  "simplify",
  "cloneDecidedPaths",
  ...FINISH.map((p) => p.name),
];

export interface OrderRule {
  /** `cleanups`: within one round of simplify; `optimize`: the steps of optimize */
  readonly in: "cleanups" | "optimize";
  readonly before: string;
  readonly after: string;
  readonly why: string;
}

/** Ordering constraints: `before` runs before `after`, because `why`. */
export const ORDER: readonly OrderRule[] = [
  {
    in: "cleanups",
    before: "removeUnreachable",
    after: "foldConstants",
    why: "folding counts definitions over all blocks: a definition in a dead block would make a vreg look multi-def and block folding it",
  },
  {
    in: "cleanups",
    before: "foldConstants",
    after: "threadJumps",
    why: "a branch folded on a constant becomes a jump that threadJumps forwards in the same round",
  },
  {
    in: "cleanups",
    before: "propagateCopies",
    after: "eliminateDeadCode",
    why: "once the uses of a copy read its source, the copy is unread and goes in the same round",
  },
  {
    in: "cleanups",
    before: "eliminateRedundantStores",
    after: "eliminateDeadCode",
    why: "a dropped store leaves the vreg it stored unread, which eliminateDeadCode removes",
  },
  {
    in: "cleanups",
    before: "compareRawFields",
    after: "eliminateDeadDefs",
    why: "comparing the raw field leaves the byte swap unread; the liveness DCE removes it",
  },
  {
    in: "optimize",
    before: "simplify",
    after: "cloneDecidedPaths",
    why: "cloning decides branches from path facts and bounds growth by the simplified size; on unsimplified IR it would copy code simplify deletes",
  },
  {
    in: "optimize",
    before: "cloneDecidedPaths",
    after: "removeUnreachable",
    why: "a region every predecessor took a copy of is left unreachable, and the verifier rejects unreachable code",
  },
  {
    in: "optimize",
    before: "cloneDecidedPaths",
    after: "narrowTo32",
    why: "the passes of simplify (run again on every path copy) read `alu` and know nothing of the 32-bit alu32/zext forms narrowTo32 makes",
  },
  {
    in: "cleanups",
    before: "cancelSwapPairs",
    after: "eliminateDeadCode",
    why: "a cancelled pair leaves both swaps unread, which eliminateDeadCode removes in the same round",
  },
  {
    in: "cleanups",
    before: "dropUnreadTruncations",
    after: "foldJoinConstants",
    why: "either order is correct; fixed so that the IR of a round does not depend on which pass found a mask first",
  },
  {
    in: "optimize",
    before: "removeUnreachable",
    after: "layoutBlocks",
    why: "layout chains blocks from the entry and renumbers them in order for regalloc; it must see only reachable blocks",
  },
];

export function optimize(f: Func): Func {
  simplify(f);
  const limit = irSize(f) + 4; // path copies may grow the function this much in total
  for (let k = 0; k < 16 && cloneDecidedPaths(f, simplify, limit); k++);
  for (const p of FINISH) p.run(f);
  return f;
}

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
      if (CLEANUPS[k]!.run(f)) {
        changed = true;
        quiet = 0;
      } else quiet++;
    }
    if (!changed) break;
  }
  removeUnreachable(f);
}
