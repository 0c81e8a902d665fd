// Register allocation over the blocks in layout order, on live ranges with holes.
//
// Each vreg's live range is the set of position segments where it is live (from liveness, not
// the hull from its first to its last appearance): a value live only on one side of a branch
// leaves its register free on the other side and in blocks laid out in between, and only the
// calls it is really live across force it into a callee-saved register. Ranges are assigned in
// order of their start to the first register none of whose ranges they overlap.
//
// Registers: r1–r4 and r6–r9 hold vregs; r0 and r5 are scratch for instruction selection
// (spill reloads, 64-bit immediates, results on their way to a spill slot). A value live across
// a helper call (or used as a call argument) may not sit in r1–r5, which calls clobber and
// argument set-up overwrites, so it gets r6–r9 or a stack slot. Spills are full 8-byte aligned
// slots, the only form in which the verifier keeps a spilled pointer's type and range.
import { defOf, termUses, usesOf, type Func, type Operand, type VReg } from "../ir/ir.js";
import { liveOutSets } from "../ir/liveness.js";

export type Location = { kind: "reg"; reg: number } | { kind: "spill"; index: number };

export interface Allocation {
  loc: Map<VReg, Location>;
  /** number of 8-byte spill slots */
  spillSlots: number;
}

const CALLER_SAVED = [1, 2, 3, 4];
const CALLEE_SAVED = [6, 7, 8, 9];

/** Inclusive position segments [start, end], sorted and disjoint. */
export type Segments = [number, number][];

/**
 * Live ranges of every vreg. Instruction k of the function (in block order) reads its operands
 * at 2k and writes its result at 2k+1, so a value whose last use is an instruction does not
 * overlap that instruction's result; a block's terminator reads at its own even position and
 * values live out of the block reach one past it.
 */
export function liveRanges(f: Func): {
  ranges: Map<VReg, Segments>;
  calls: { pos: number; args: readonly Operand[] }[];
} {
  const blockStart: number[] = [];
  const blockEnd: number[] = [];
  const calls: { pos: number; args: readonly Operand[] }[] = [];
  let pos = 0;
  for (const b of f.blocks) {
    blockStart.push(pos);
    for (const i of b.instrs) {
      if (i.op === "call") calls.push({ pos, args: i.args });
      pos += 2;
    }
    blockEnd.push(pos);
    pos += 2;
  }

  const liveOut = liveOutSets(f);

  // Segments per vreg, built backwards through each block: a segment opens at the last use
  // (or the block end when live out) and closes at the definition (or the block start).
  const raw = new Map<VReg, Segments>();
  const add = (v: VReg, s: number, e: number) => {
    let l = raw.get(v);
    if (!l) raw.set(v, (l = []));
    l.push([s, e]);
  };
  f.blocks.forEach((b, k) => {
    const open = new Map<VReg, number>(); // vreg → end of the segment being built
    for (const x of liveOut[k]!.values()) open.set(x, blockEnd[k]! + 1);
    for (const x of termUses(b.term)) if (!open.has(x)) open.set(x, blockEnd[k]!);
    for (let j = b.instrs.length - 1; j >= 0; j--) {
      const i = b.instrs[j]!;
      const p = blockStart[k]! + 2 * j;
      const d = defOf(i);
      if (d !== undefined) {
        const e = open.get(d);
        add(d, p + 1, e ?? p + 1); // a dead result still needs a place to be written
        open.delete(d);
      }
      for (const x of usesOf(i)) if (!open.has(x)) open.set(x, p);
    }
    for (const [x, e] of open) add(x, blockStart[k]!, e);
  });
  // The context (a subprogram: its arguments) arrives in r1 (r1…r5) before the first instruction.
  for (const v of f.args ?? [f.ctx]) {
    const segs = raw.get(v);
    if (segs) segs.push([-1, -1]);
    else raw.set(v, [[-1, -1]]);
  }
  const ranges = new Map<VReg, Segments>();
  for (const [v, segs] of raw) {
    segs.sort((a, b) => a[0] - b[0]);
    const merged: Segments = [];
    for (const [s, e] of segs) {
      const last = merged[merged.length - 1];
      if (last && s <= last[1] + 1) last[1] = Math.max(last[1], e);
      else merged.push([s, e]);
    }
    ranges.set(v, merged);
  }
  return { ranges, calls };
}

/** Do two sorted segment lists share a position? */
export function overlaps(a: Segments, b: Segments): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x[1] < y[0]) i++;
    else if (y[1] < x[0]) j++;
    else return true;
  }
  return false;
}

/** Insert `add` into the sorted disjoint list `into` (they do not overlap). */
function union(into: Segments, add: Segments): void {
  for (const s of add) {
    let lo = 0;
    let hi = into.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (into[mid]![0] < s[0]) lo = mid + 1;
      else hi = mid;
    }
    into.splice(lo, 0, s);
  }
}

interface Range {
  v: VReg;
  segs: Segments;
  start: number;
  end: number;
  weight: number;
}

/**
 * Allocate registers. A helper's result that lives only until values set up for no other call
 * may stay in r0, where the call leaves it (`if r0 == 0` on a map lookup, no `r1 = r0`); so may
 * a value read only by `return`s, which is then computed where the exit wants it (no
 * `r0 = r1; exit`). Either is moved out again when instruction selection would need r0 as
 * scratch while it is live.
 */
export function allocate(f: Func): Allocation {
  const { ranges, calls } = liveRanges(f);
  const defCount = new Map<VReg, number>();
  const callDefs = new Set<VReg>();
  const readByInstr = new Set<VReg>();
  const returned = new Set<VReg>();
  for (const b of f.blocks) {
    for (const i of b.instrs) {
      for (const u of usesOf(i)) readByInstr.add(u);
      const d = defOf(i);
      if (d === undefined) continue;
      defCount.set(d, (defCount.get(d) ?? 0) + 1);
      if (i.op === "call") callDefs.add(d);
    }
    if (b.term.op === "ret" && b.term.value.kind === "reg") returned.add(b.term.value.id);
    else for (const u of termUses(b.term)) readByInstr.add(u);
  }
  const crossesNoCall = (v: VReg): boolean => {
    const segs = ranges.get(v);
    return (
      segs !== undefined && !calls.some(({ pos }) => segs.some(([s, e]) => s <= pos && pos <= e))
    );
  };
  const inR0 = new Set([
    ...[...callDefs].filter((v) => defCount.get(v) === 1 && crossesNoCall(v)),
    // (not a value arriving in r1–r5: the entry moves use r0 as their scratch)
    ...[...returned].filter(
      (v) => v !== f.ctx && !f.args?.includes(v) && !readByInstr.has(v) && crossesNoCall(v),
    ),
  ]);
  for (let round = 0; ; round++) {
    const a = allocateWith(f, ranges, calls, inR0);
    const bad = r0Conflicts(f, a, ranges, inR0);
    if (bad.length === 0 || round >= 3) {
      if (bad.length === 0) return a;
      inR0.clear();
      return allocateWith(f, ranges, calls, inR0);
    }
    for (const v of bad) inR0.delete(v);
  }
}

/** Values placed in r0 whose range contains an instruction that needs r0 as scratch. */
function r0Conflicts(f: Func, a: Allocation, ranges: Map<VReg, Segments>, inR0: Set<VReg>): VReg[] {
  const held = [...inR0].filter((v) => {
    const l = a.loc.get(v);
    return l?.kind === "reg" && l.reg === 0;
  });
  if (held.length === 0) return [];
  const inReg = (o: Operand) => o.kind === "reg" && a.loc.get(o.id)?.kind === "reg";
  const regNo = (v: VReg) => {
    const l = a.loc.get(v);
    return l?.kind === "reg" ? l.reg : -1;
  };
  // Positions where isel uses r0 for something else.
  const scratch: number[] = [];
  const callAt = new Set<number>();
  let p = 0;
  for (const b of f.blocks) {
    for (const i of b.instrs) {
      if (i.op === "call") callAt.add(p);
      const d = defOf(i);
      let needs = d !== undefined && a.loc.get(d)?.kind === "spill";
      if (i.op === "call") needs = true;
      if (
        (i.op === "alu" || i.op === "alu32") &&
        i.b.kind === "reg" &&
        d !== undefined &&
        regNo(i.b.id) === regNo(d)
      )
        needs = true;
      // a stored value needing a register uses r5 when the base is r0, else r0
      const baseR0 =
        (i.op === "store" || i.op === "atomicAdd") &&
        i.base.kind === "reg" &&
        regNo(i.base.id) === 0;
      // (an immediate is stored directly unless it is a 64-bit one wider than s32: lddw r0)
      const direct =
        i.op === "store" &&
        (inReg(i.value) ||
          (i.value.kind === "imm" &&
            (i.size < 8 || BigInt.asIntN(32, i.value.value) === i.value.value)));
      if (i.op === "store" && !baseR0 && !direct) needs = true;
      if (i.op === "atomicAdd" && !baseR0 && !inReg(i.value)) needs = true;
      // a fetch, exchange or compare-exchange works through r0 (cmpxchg's implicit operand)
      if (i.op === "atomic") needs = true;
      if (needs) scratch.push(p);
      p += 2;
    }
    const t = b.term;
    if (t.op === "br" && !inReg(t.a)) scratch.push(p);
    p += 2;
  }
  return held.filter((v) => {
    const segs = ranges.get(v)!;
    // its own defining call is at the position before its range starts (another defining
    // instruction that needs r0 as scratch conflicts with its own result)
    return scratch.some((x) =>
      segs.some(([s, e]) => s <= x + 1 && x <= e && !(x + 1 === s && callAt.has(x))),
    );
  });
}

function allocateWith(
  f: Func,
  ranges: Map<VReg, Segments>,
  calls: { pos: number; args: readonly Operand[] }[],
  inR0: Set<VReg>,
): Allocation {
  const useCount = new Map<VReg, number>();
  const count = (v: VReg) => useCount.set(v, (useCount.get(v) ?? 0) + 1);
  const usedAt = new Map<number, VReg[]>();
  const copyAt = new Map<number, { dst: VReg; src: VReg }>();
  let p = 0;
  for (const b of f.blocks) {
    for (const i of b.instrs) {
      usesOf(i).forEach(count);
      usedAt.set(p, usesOf(i));
      if (i.op === "mov" && i.src.kind === "reg") copyAt.set(p, { dst: i.dst, src: i.src.id });
      p += 2;
    }
    termUses(b.term).forEach(count);
    p += 2;
  }

  const covers = (segs: Segments, x: number) => segs.some(([s, e]) => s <= x && x <= e);
  // A value live across a call (read after it, written before it) or read by it as an argument
  // may not sit in r1–r5.
  const touchesCall = (segs: Segments): boolean => calls.some(({ pos }) => covers(segs, pos));
  // A value whose life ends as argument k (< 4) of a call it does not outlive, and that is not
  // live across an earlier call, can live in that argument register: arguments are set up in
  // order r1, r2, …, so only its own move touches it.
  const argReg = new Map<VReg, number>();
  for (const { pos, args } of calls)
    args.forEach((a, k) => {
      if (k > 3 || a.kind !== "reg" || argReg.has(a.id)) return;
      const segs = ranges.get(a.id)!;
      if (segs[segs.length - 1]![1] !== pos) return;
      if (args.some((b, j) => j !== k && b.kind === "reg" && b.id === a.id)) return;
      if (segs[0]![0] < 0) return;
      if (calls.some((c) => c.pos !== pos && covers(segs, c.pos))) return;
      argReg.set(a.id, 1 + k);
    });

  const list: Range[] = [...ranges].map(([v, segs]) => {
    const len = segs.reduce((n, [s, e]) => n + e - s + 1, 0);
    return {
      v,
      segs,
      start: segs[0]![0],
      end: segs[segs.length - 1]![1],
      weight: (useCount.get(v) ?? 0) / (len + 1),
    };
  });
  list.sort((a, b) => a.start - b.start || a.v - b.v);

  const loc = new Map<VReg, Location>();
  const regSegs = new Map<number, Segments>();
  const owners = new Map<number, Range[]>();
  for (const r of [0, ...CALLER_SAVED, ...CALLEE_SAVED]) {
    regSegs.set(r, []);
    owners.set(r, []);
  }
  const regOf = new Map<VReg, number>();
  const spilled: Range[] = [];
  const assign = (rg: Range, r: number) => {
    union(
      regSegs.get(r)!,
      rg.segs.map(([s, e]) => [s, e]),
    );
    owners.get(r)!.push(rg);
    regOf.set(rg.v, r);
  };
  const evict = (rg: Range) => {
    const r = regOf.get(rg.v)!;
    regOf.delete(rg.v);
    const own = owners.get(r)!.filter((x) => x !== rg);
    owners.set(r, own);
    const segs: Segments = [];
    for (const o of own)
      union(
        segs,
        o.segs.map(([s, e]) => [s, e]),
      );
    regSegs.set(r, segs);
    spilled.push(rg);
  };

  for (const rg of list) {
    // A value dying into a copy to a join value already placed (`v43 = v44` on one of v43's
    // paths, v44 laid out after v43's first definition) takes the join value's register: the
    // copy disappears.
    let hint: number | undefined;
    for (const [, e] of rg.segs) {
      const c = copyAt.get(e);
      if (c?.src === rg.v && regOf.has(c.dst)) hint ??= regOf.get(c.dst);
    }
    // A source read by the defining instruction and dying there hands over its register (the
    // instruction reads it before writing; isel copes with `d = b op d` through r0). This
    // removes most of the copies `let` and inlining introduce. Dying there means on this path:
    // a join value (defined on several paths) may live on in segments laid out later.
    if (rg.start > 0 && rg.start % 2 === 1)
      for (const s of usedAt.get(rg.start - 1) ?? []) {
        const segs = ranges.get(s)!;
        if (regOf.has(s) && segs.some(([, e]) => e === rg.start - 1)) hint ??= regOf.get(s);
      }
    // An argument of a subprogram stays in the register it arrives in when it can.
    const arrives = f.args?.indexOf(rg.v) ?? -1;
    if (arrives >= 0 && arrives < 4) hint = 1 + arrives;
    const own = argReg.get(rg.v);
    const r0 = inR0.has(rg.v);
    const allowed =
      own !== undefined
        ? [own, ...CALLEE_SAVED]
        : touchesCall(rg.segs)
          ? CALLEE_SAVED
          : [...(r0 ? [0] : []), ...CALLER_SAVED, ...CALLEE_SAVED];
    const fits = (r: number) => !overlaps(regSegs.get(r)!, rg.segs);
    const preferred = r0 ? 0 : (own ?? hint);
    const free =
      preferred !== undefined && allowed.includes(preferred) && fits(preferred)
        ? preferred
        : allowed.find(fits);
    if (free !== undefined) {
      assign(rg, free);
      continue;
    }
    // Spill what is used least per position it stays live: long-lived, rarely read values go to
    // the stack, hot ones (packet bounds, loop counters) keep registers. A register is taken
    // over when every range in it that overlaps this one weighs less.
    let best: { r: number; conflicts: Range[]; w: number } | undefined;
    for (const r of allowed) {
      const conflicts = owners.get(r)!.filter((o) => overlaps(o.segs, rg.segs));
      const w = Math.max(...conflicts.map((o) => o.weight));
      if (!best || w < best.w) best = { r, conflicts, w };
    }
    if (best && best.w < rg.weight) {
      for (const o of best.conflicts) evict(o);
      assign(rg, best.r);
    } else spilled.push(rg);
  }
  for (const [v, r] of regOf) loc.set(v, { kind: "reg", reg: r });

  // Spill slots, shared by ranges that do not overlap.
  spilled.sort((a, b) => a.start - b.start);
  const slots: Segments[] = [];
  for (const rg of spilled) {
    let s = slots.findIndex((segs) => !overlaps(segs, rg.segs));
    if (s < 0) {
      s = slots.length;
      slots.push([]);
    }
    union(
      slots[s]!,
      rg.segs.map(([a, b]) => [a, b]),
    );
    loc.set(rg.v, { kind: "spill", index: s });
  }
  return { loc, spillSlots: slots.length };
}
