// The BTF and relocations of a ProgArray's initial slots (see module/prog-array.ts), laid out
// as clang lays out `__array(values, int (void *)); … = { .values = { [i] = &prog } }`.
import type { BtfBuilder } from "../../obj/btf.js";
import { R_BPF_64_ABS64 } from "../../obj/elf.js";
import type { MapDecl } from "../module/scan.js";

export function progSlotsOf(
  m: MapDecl,
  defSize: number,
  btf: BtfBuilder,
  intId: number,
  ptrTo: (id: number) => number,
):
  | {
      member: { name: string; type: number };
      bytes: number;
      relocs: { offset: number; type: number; symbol: string }[];
    }
  | undefined {
  if (!m.progSlots || m.progSlots.length === 0) return undefined;
  // int (void *): a FUNC_PROTO returning int with one anonymous `void *` parameter
  const proto = btf.addFuncProto(intId, [{ name: "", type: ptrTo(0) }]);
  const member = { name: "values", type: btf.addArray(ptrTo(proto), 0) };
  const last = Math.max(...m.progSlots.map((s) => s.index));
  return {
    member,
    bytes: (last + 1) * 8,
    relocs: m.progSlots.map((s) => ({
      offset: defSize + s.index * 8,
      type: R_BPF_64_ABS64,
      symbol: s.program,
    })),
  };
}
