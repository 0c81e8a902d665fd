// The local BTF of kernel-struct reads (CO-RE): the structs exactly as the probe's declarations
// (tsbpf btf gen) describe them, with the members the probe reads, and the `.BTF.ext`
// relocation records (type id of the root struct, access string "0:i:j…", kind) that make the
// loader (ours or libbpf) move each access to the running kernel's layout. Members of
// anonymous structs/unions were hoisted by the generator; libbpf and src/obj/core.ts match a
// field by name through the target's anonymous members, so the local types stay flat.
// Also the `.kconfig` externs (`kernelVersion()`, `kconfig()`), declared as clang does.
import type { BtfBuilder } from "../../obj/btf.js";
import type { CoreRelo } from "../../obj/btf-ext.js";
import type { CoreRef } from "../ir/ir.js";
import type { KconfigUse, KField, KSpec, KStruct } from "../ir/kernel-structs.js";

interface LocalStruct {
  st: KStruct;
  id: number;
  members: Map<string, KField>;
  /** member name → index in the emitted (offset-sorted) member list */
  index: Map<string, number>;
}

/** Adds the local types of `relos` to `btf`; returns the records per section. */
export function addCoreTypes(
  btf: BtfBuilder,
  relos: readonly { section: string; insn: number; core: CoreRef }[],
): Map<string, CoreRelo[]> {
  const out = new Map<string, CoreRelo[]>();
  if (relos.length === 0) return out;
  const local = new Map<string, LocalStruct>();
  const register = (st: KStruct): LocalStruct => {
    let l = local.get(st.key);
    if (!l) {
      // Added empty now (pointers to it need its id), completed below.
      const id =
        st.kind === "union"
          ? btf.addUnion(st.name, [], st.size)
          : btf.addStruct(st.name, [], st.size);
      l = { st, id, members: new Map(), index: new Map() };
      local.set(st.key, l);
    }
    return l;
  };
  for (const r of relos) {
    const spec = r.core.spec as KSpec;
    register(spec.root);
    for (const { owner, field } of spec.steps) {
      register(owner).members.set(field.name, field);
      if (field.k === "ptr" || field.k === "emb") register(field.target);
    }
  }
  const ints = new Map<string, number>();
  const intType = (size: number, signed: boolean): number => {
    const name = `${signed ? "" : "unsigned "}${{ 1: "char", 2: "short", 4: "int", 8: "long long" }[size]}`;
    let id = ints.get(name);
    if (id === undefined) ints.set(name, (id = btf.addInt(name, size, signed)));
    return id;
  };
  const memberType = (f: KField): number => {
    switch (f.k) {
      case "int":
        return intType(f.size, f.signed);
      case "ptr":
        return btf.addPtr(local.get(f.target.key)!.id);
      case "emb":
        return local.get(f.target.key)!.id;
      case "arr":
        return btf.addArray(intType(f.elemSize, f.signed), f.n);
      case "bits":
        return intType(f.unit, f.signed);
      default:
        return btf.addPtr(0); // an address (void *): only its offset matters
    }
  };
  for (const l of local.values()) {
    const sorted = [...l.members.values()].sort(
      (a, b) => a.off - b.off || (a.name < b.name ? -1 : 1),
    );
    sorted.forEach((f, i) => l.index.set(f.name, i));
    const members = sorted.map((f) => ({
      name: f.name,
      type: memberType(f),
      bitOffset: f.off * 8 + (f.k === "bits" ? f.bitOff : 0),
      bitfieldSize: f.k === "bits" ? f.bits : 0,
    }));
    // A union whose hoisted members sit past its start is laid out as a struct (only a root's
    // kind is matched against the kernel's, and roots are named structs or unions as declared).
    const kind = l.st.kind === "union" && sorted.every((f) => f.off === 0) ? "union" : "struct";
    const kindFlag = members.some((m) => m.bitfieldSize > 0);
    btf.replace(l.id, { kind, name: l.st.name, size: l.st.size, kindFlag, members });
  }
  for (const r of relos) {
    const spec = r.core.spec as KSpec;
    const access = [0, ...spec.steps.map((s) => local.get(s.owner.key)!.index.get(s.field.name)!)];
    if (spec.index !== undefined) access.push(spec.index);
    const list = out.get(r.section) ?? [];
    list.push({
      insn: r.insn,
      typeId: local.get(spec.root.key)!.id,
      accessStr: access.join(":"),
      kind: r.core.kind,
    });
    out.set(r.section, list);
  }
  return out;
}

/** BTF for the `.kconfig` externs read: VARs (extern linkage) in a `.kconfig` DATASEC. */
export function addKconfigTypes(btf: BtfBuilder, externs: ReadonlyMap<string, KconfigUse>): void {
  if (externs.size === 0) return;
  let tristate: number | undefined;
  const vars = [...externs].map(([name, use]) => {
    let type: number;
    let size: number;
    if (use === "tristate") {
      tristate ??= btf.addEnum("libbpf_tristate", [
        { name: "TRI_NO", value: 0 },
        { name: "TRI_YES", value: 1 },
        { name: "TRI_MODULE", value: 2 },
      ]);
      type = tristate;
      size = 4;
    } else if (use === "version") {
      type = btf.addInt("unsigned int", 4, false);
      size = 4;
    } else {
      type = btf.addInt("unsigned long long", 8, false);
      size = 8;
    }
    return { type: btf.addVar(name, type, "extern"), offset: 0, size };
  });
  btf.addDatasec(".kconfig", vars, 0);
}
