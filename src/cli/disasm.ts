// `tsbpf disasm FILE [--prog NAME]`: bpftool-style listing with source lines, map names and
// subprogram labels (from the object's func info).
import type { BpfObject, ProgramSpec } from "../obj/object.js";
import { disassemble } from "../obj/disasm.js";
import { UsageError } from "./main.js";

/** Function names by first instruction, from func info and the object's BTF. */
function functionsOf(obj: BpfObject, p: ProgramSpec): Map<number, string> {
  const out = new Map<number, string>();
  for (const fi of p.funcInfo) {
    try {
      const t = obj.btf?.typeById(fi.typeId);
      if (t && "name" in t && t.name) out.set(fi.insn, t.name);
    } catch {
      // a bad type id only costs the label
    }
  }
  return out;
}

export function disasmObject(obj: BpfObject, only?: string): string[] {
  const progs = only ? obj.programs.filter((p) => p.name === only) : obj.programs;
  if (only && progs.length === 0)
    throw new UsageError(
      `no program named ${only} (the object has: ${obj.programs.map((p) => p.name).join(", ") || "none"})`,
    );
  const out: string[] = [];
  for (const p of progs) {
    if (out.length) out.push("");
    out.push(`${p.name}:  ; section ${p.section}`);
    const loads = new Map<number, string>();
    for (const r of p.relocations)
      loads.set(r.insn, r.kind === "map" ? `map[${r.map}]` : `map_value[${r.map}]+${r.offset}`);
    const funcs = functionsOf(obj, p);
    // clang emits a line record per statement part; print a source line once per run.
    const lines = p.lineInfo.filter((l, i, all) => i === 0 || all[i - 1]!.text !== l.text);
    out.push(
      ...disassemble(p.insns, {
        lineInfo: lines.map((l) => ({ insn: l.insn, text: l.text.trim() })),
        labels: [...funcs].filter(([insn]) => insn > 0).map(([insn, text]) => ({ insn, text })),
        immForLoad: (slot) => loads.get(slot),
        symbolForCall: (slot) => {
          const insn = p.insns[slot];
          return insn && insn.src === 1 ? funcs.get(slot + insn.imm + 1) : undefined;
        },
      }),
    );
  }
  return out;
}
