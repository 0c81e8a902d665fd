// Arithmetic on a join of constants, done in the joining paths.
//
// `Number(a > b) << 4` is `s = 1` on one path, `s = 0` on the other, then `d = s << 4`: when
// that shift is the only reader of s, each path can set s to its shifted constant (16 or 0)
// and d is s. The branch-free idioms of C (bcc's log2: `shift = (v > 0xff) << 3`) are written
// this way in probes.
import {
  defOf,
  entryVregs,
  imm,
  termUses,
  usesOf,
  type Func,
  type Instr,
  type VReg,
} from "../ir/ir.js";
import { evalAlu } from "../ir/eval.js";

export function foldJoinConstants(f: Func): boolean {
  const uses = new Map<VReg, number>();
  const defs = new Map<VReg, Instr[]>();
  for (const b of f.blocks) {
    for (const i of b.instrs) {
      for (const u of usesOf(i)) uses.set(u, (uses.get(u) ?? 0) + 1);
      const d = defOf(i);
      if (d !== undefined) defs.set(d, [...(defs.get(d) ?? []), i]);
    }
    for (const u of termUses(b.term)) uses.set(u, (uses.get(u) ?? 0) + 1);
  }
  const entry = new Set(entryVregs(f));
  // s → the shift/mask/… applied to it by its only reader
  const apply = new Map<VReg, (v: bigint) => bigint>();
  for (const b of f.blocks)
    b.instrs = b.instrs.map((i): Instr => {
      if (i.op !== "alu" || i.a.kind !== "reg" || i.b.kind !== "imm") return i;
      const s = i.a.id;
      const ds = defs.get(s);
      if (
        s === i.dst ||
        entry.has(s) ||
        apply.has(s) ||
        uses.get(s) !== 1 ||
        !ds ||
        ds.length < 2 ||
        !ds.every((x) => x.op === "mov" && x.src.kind === "imm")
      )
        return i;
      const { alu } = i;
      const k = i.b.value;
      apply.set(s, (v) => evalAlu(alu, v, k));
      return { op: "mov", dst: i.dst, src: i.a, ...(i.loc ? { loc: i.loc } : {}) };
    });
  if (apply.size === 0) return false;
  for (const b of f.blocks)
    b.instrs = b.instrs.map((x): Instr => {
      const fn = x.op === "mov" && x.src.kind === "imm" ? apply.get(x.dst) : undefined;
      return fn && x.op === "mov" && x.src.kind === "imm" ? { ...x, src: imm(fn(x.src.value)) } : x;
    });
  return true;
}
