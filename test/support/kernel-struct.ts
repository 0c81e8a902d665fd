// Struct layouts read from the running kernel's BTF (/sys/kernel/btf/vmlinux) with tsbpf's own
// BTF parser: what the program-kind table and the bpf_attr sizes are checked against.
import { readFileSync } from "node:fs";
import { LazyBtf, type BtfStruct, type BtfType } from "../../src/obj/btf.js";

let vmlinux: LazyBtf | undefined;

export function vmlinuxBtf(): LazyBtf {
  return (vmlinux ??= LazyBtf.parse(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")), {
    label: "vmlinux BTF",
  }));
}

const QUALIFIERS = new Set(["typedef", "const", "volatile", "restrict", "type_tag"]);

/** The type behind typedefs and qualifiers. */
export function resolved(btf: LazyBtf, id: number): BtfType {
  for (;;) {
    const t = btf.typeById(id);
    if (QUALIFIERS.has(t.kind)) id = (t as { type: number }).type;
    else return t;
  }
}

/** sizeof a type (arrays: all elements; pointers: 8). */
export function sizeOf(btf: LazyBtf, id: number): number {
  const t = resolved(btf, id);
  if (t.kind === "array") return t.nelems * sizeOf(btf, t.type);
  if (t.kind === "ptr") return 8;
  if ("size" in t) return t.size;
  throw new Error(`no size for BTF ${t.kind} ${t.name}`);
}

/** The struct or union named `name` with members (not a forward declaration), or undefined. */
export function kernelStruct(
  btf: LazyBtf,
  name: string,
  kind: "struct" | "union" = "struct",
): BtfStruct | undefined {
  for (const id of btf.idsWithEssentialName(name)) {
    const t = btf.typeById(id);
    if (t.kind === kind && t.name === name && t.members.length > 0) return t;
  }
  return undefined;
}

export interface KernelMember {
  offset: number;
  size: number;
  /** element size, for arrays */
  elem?: number;
}

/** A member by name, looking through anonymous struct/union members as C does. */
export function memberOf(
  btf: LazyBtf,
  s: BtfStruct,
  name: string,
  base = 0,
): KernelMember | undefined {
  for (const m of s.members) {
    const off = base + m.bitOffset / 8;
    if (m.name === name) {
      const t = resolved(btf, m.type);
      const elem = t.kind === "array" ? sizeOf(btf, t.type) : undefined;
      return { offset: off, size: sizeOf(btf, m.type), ...(elem !== undefined && { elem }) };
    }
    if (m.name === "") {
      const t = resolved(btf, m.type);
      if (t.kind === "struct" || t.kind === "union") {
        const found = memberOf(btf, t, name, off);
        if (found) return found;
      }
    }
  }
  return undefined;
}
