// `tsbpf inspect FILE`: what an eBPF object holds, without loading it.
import { linkedParts, type BpfObject, type ProgramSpec } from "../obj/object.js";
import { MapType, KERNEL_VERSION_ANY, nameOf } from "../obj/consts.js";
import { ProgType } from "../obj/consts.js";
import { resolveCore } from "../load/core-relocate.js";
import { coreKindName } from "../obj/core.js";

export interface ObjectSummary {
  file: string;
  license: string;
  kernelVersion: number;
  btf: boolean;
  lineInfo: boolean;
  /** CO-RE relocation records in .BTF.ext */
  coreRelocations: number;
  /** with a BTF file: how each relocation resolves against it */
  core?: {
    program: string;
    insn: number;
    kind: string;
    local: string;
    result: string;
  }[];
  programs: { name: string; section: string; type: string; kind: string; instructions: number }[];
  maps: {
    name: string;
    type: string;
    keySize: number;
    valueSize: number;
    maxEntries: number;
    flags: number;
    pinning: string;
  }[];
}

const linkedSize = (p: ProgramSpec): number =>
  p.functions ? p.functions.reduce((n, f) => n + f.length, 0) : p.insns.length;

export function summarize(file: string, obj: BpfObject, btfPath?: string): ObjectSummary {
  let core: ObjectSummary["core"];
  if (btfPath !== undefined) {
    const results = resolveCore(obj, obj.programs, btfPath);
    core = obj.programs.flatMap((p) =>
      linkedParts(p).coreRelos.map(({ insn, relo }) => {
        const r = results.get(relo)!;
        return {
          program: p.name,
          insn,
          kind: coreKindName(relo.kind),
          local: r.local,
          result: r.poison ? `poisoned: ${r.poisonReason ?? "no match"}` : `${r.newVal}`,
        };
      }),
    );
  }
  return {
    file,
    license: obj.license,
    kernelVersion: obj.kernelVersion,
    btf: obj.btf !== undefined,
    // Linked sizes from the link plan: no program is linked (and kept) just to be counted.
    lineInfo: obj.programs.some((p) => linkedParts(p).lineInfo.length > 0),
    coreRelocations: [...(obj.btfExt?.coreRelos.values() ?? [])].reduce((n, l) => n + l.length, 0),
    ...(core && { core }),
    programs: obj.programs.map((p) => ({
      name: p.name,
      section: p.section,
      type: p.sectionInfo ? nameOf(ProgType, p.sectionInfo.progType) : "UNKNOWN",
      kind: p.sectionInfo?.displayKind ?? "unknown section",
      instructions: linkedSize(p),
    })),
    maps: obj.maps.map((m) => ({
      name: m.name,
      type: nameOf(MapType, m.type),
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      flags: m.flags,
      pinning: m.pinning,
    })),
  };
}

/** Left-aligned columns; the header row first. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd(),
  );
}

export function formatSummary(s: ObjectSummary): string {
  const version =
    s.kernelVersion === KERNEL_VERSION_ANY
      ? "0xfffffffe (any)"
      : `0x${s.kernelVersion.toString(16)}`;
  const out = [
    `${s.file}: eBPF object`,
    `license: ${s.license || "(none)"}`,
    `kernel version: ${version}`,
    `BTF: ${s.btf ? "yes" : "no"}${s.lineInfo ? " (with line info)" : ""}`,
    `CO-RE relocations: ${s.coreRelocations}`,
    "",
    `Programs (${s.programs.length}):`,
  ];
  if (s.programs.length)
    out.push(
      ...table([
        ["NAME", "SECTION", "TYPE", "KIND", "INSNS"],
        ...s.programs.map((p) => [p.name, p.section, p.type, p.kind, String(p.instructions)]),
      ]).map((l) => `  ${l}`),
    );
  out.push("", `Maps (${s.maps.length}):`);
  if (s.maps.length)
    out.push(
      ...table([
        ["NAME", "TYPE", "KEY", "VALUE", "MAX ENTRIES", "FLAGS", "PINNING"],
        ...s.maps.map((m) => [
          m.name,
          m.type,
          String(m.keySize),
          String(m.valueSize),
          String(m.maxEntries),
          `0x${m.flags.toString(16)}`,
          m.pinning,
        ]),
      ]).map((l) => `  ${l}`),
    );
  if (s.core) {
    out.push("", `CO-RE relocations against the BTF file (${s.core.length}):`);
    if (s.core.length)
      out.push(
        ...table([
          ["PROGRAM", "INSN", "KIND", "LOCAL", "VALUE"],
          ...s.core.map((c) => [c.program, String(c.insn), c.kind, c.local, c.result]),
        ]).map((l) => `  ${l}`),
      );
  }
  return out.join("\n");
}
