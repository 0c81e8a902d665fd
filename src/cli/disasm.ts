// `tsbpf disasm FILE [--prog NAME]`: bpftool-style listing with source lines and map names.
import type { BpfObject } from "../obj/object.js";
import { disassemble } from "../obj/disasm.js";
import { UsageError } from "./main.js";

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
    out.push(
      ...disassemble(p.insns, {
        lineInfo: p.lineInfo.map((l) => ({ insn: l.insn, text: l.text.trim() })),
        immForLoad: (slot) => loads.get(slot),
      }),
    );
  }
  return out;
}
