// `tsbpf disasm FILE [--prog NAME]`: bpftool-style listing with source lines, map names and
// subprogram labels (from the object's func info). A subprogram several programs reach is
// listed once, under the first of them; the others name it with its place in their own
// instructions, so the listing (and the memory it takes) grows with the file, not with
// programs × subprogram size. With --prog, the program is listed whole.
import type { FuncInfo } from "../obj/btf-ext.js";
import { linkedParts, type BpfObject, type LinkedFunction } from "../obj/object.js";
import { disassemble } from "../obj/disasm.js";
import { UsageError } from "./usage-error.js";

/** Function names by first instruction, from func info and the object's BTF. */
function functionsOf(obj: BpfObject, funcInfo: readonly FuncInfo[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const fi of funcInfo) {
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
  /** "section:first instruction" of each subprogram listed so far → the program it is under */
  const listed = new Map<string, string>();
  for (const p of progs) {
    if (out.length) out.push("");
    out.push(`${p.name}:  ; section ${p.section}`);
    // Linked one program at a time and dropped after: never every program's copy at once.
    const { insns, relocations, funcInfo, lineInfo } = linkedParts(p);
    const loads = new Map<number, string>();
    for (const r of relocations)
      loads.set(r.insn, r.kind === "map" ? `map[${r.map}]` : `map_value[${r.map}]+${r.offset}`);
    const funcs = functionsOf(obj, funcInfo);
    // clang emits a line record per statement part; print a source line once per run.
    const lines = lineInfo.filter((l, i, all) => i === 0 || all[i - 1]!.text !== l.text);
    const opts = {
      lineInfo: lines.map((l) => ({ insn: l.insn, text: l.text.trim() })),
      labels: [...funcs].filter(([insn]) => insn > 0).map(([insn, text]) => ({ insn, text })),
      immForLoad: (slot: number) => loads.get(slot),
      symbolForCall: (slot: number) => {
        const insn = insns[slot];
        return insn && insn.src === 1 ? funcs.get(slot + insn.imm + 1) : undefined;
      },
    };
    const parts: readonly LinkedFunction[] = p.functions ?? [
      { name: p.name, section: p.section, sectionInsn: 0, at: 0, length: insns.length },
    ];
    parts.forEach((f, k) => {
      const key = `${f.section}:${f.sectionInsn}`;
      const under = listed.get(key);
      if (k > 0 && under !== undefined && only === undefined) {
        const name = funcs.get(f.at) ?? f.name;
        out.push(`${name}:  ; instructions ${f.at}-${f.at + f.length - 1}, listed under ${under}`);
        return;
      }
      if (k > 0) listed.set(key, p.name);
      out.push(...disassemble(insns, { ...opts, from: f.at, to: f.at + f.length }));
    });
  }
  return out;
}
