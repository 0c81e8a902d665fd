// Where each field of a map key or value sits, from a tsbpf/types definition (the TypeScript
// API) or from the object's BTF (config files, clang-built objects). Nested structs flatten to
// dotted names (`flow.saddr`); arrays are byte ranges; C enums keep their names.
import type { Btf, BtfType } from "../obj/btf.js";
import type { Type } from "../types/type.js";
import { ExportError } from "./errors.js";

export interface FieldLayout {
  /** dotted path from the key/value root; "" for a scalar key or value */
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /**
   * How the bytes read as an integer: "little"/"big" for tsbpf/types ints (be16/be32 are big),
   * "host" for BTF ints (C stores host order, or network order it did not convert: see ipv4),
   * undefined for arrays and other byte ranges.
   */
  readonly int?: { readonly order: "little" | "big" | "host"; readonly signed: boolean };
  /** C enum value names (BTF) */
  readonly enumNames?: ReadonlyMap<bigint, string>;
  /** a bitfield: not addressable as bytes */
  readonly bitfield?: boolean;
}

export interface Layout {
  /** what it describes, for messages: `struct FlowKey`, `u32` */
  readonly label: string;
  readonly size: number;
  readonly fields: readonly FieldLayout[];
}

export function findField(layout: Layout, name: string | undefined, where: string): FieldLayout {
  const want = name ?? "";
  const f = layout.fields.find((x) => x.name === want);
  if (f) return f;
  const names = layout.fields.map((x) => x.name).filter((n) => n !== "");
  if (want === "")
    throw new ExportError(
      `${where}: ${layout.label} is a struct: name one of its fields (${names.join(", ")})`,
    );
  throw new ExportError(
    `${where}: ${layout.label} has no field "${want}"${names.length ? ` (its fields: ${names.join(", ")})` : " (it is a scalar: leave the field out)"}`,
  );
}

/** The layout of a tsbpf/types type. */
export function layoutOfType(t: Type): Layout {
  const fields: FieldLayout[] = [];
  const walk = (ty: Type, prefix: string, offset: number): void => {
    switch (ty.kind) {
      case "int":
        fields.push({
          name: prefix,
          offset,
          size: ty.size,
          int: { order: ty.byteOrder, signed: ty.signed },
        });
        return;
      case "array":
        fields.push({ name: prefix, offset, size: ty.size });
        return;
      case "struct":
        if (prefix !== "") fields.push({ name: prefix, offset, size: ty.size });
        for (const f of ty.fields)
          walk(f.type, prefix ? `${prefix}.${f.name}` : f.name, offset + f.offset);
        return;
    }
  };
  walk(t, "", 0);
  return { label: t.kind === "struct" ? `struct ${t.name}` : labelOf(t), size: t.size, fields };
}

function labelOf(t: Type): string {
  return t.kind === "int" ? t.name : t.kind === "array" ? `array of ${t.size} bytes` : t.name;
}

const MAX_DEPTH = 16;

/** The layout of BTF type `id` (a map's key or value type). */
export function layoutOfBtf(btf: Btf, id: number): Layout {
  const fields: FieldLayout[] = [];
  const strip = (tid: number): BtfType => {
    let t = btf.typeById(tid);
    for (let i = 0; i < 32; i++) {
      if (
        t.kind === "typedef" ||
        t.kind === "const" ||
        t.kind === "volatile" ||
        t.kind === "restrict" ||
        t.kind === "type_tag"
      )
        t = btf.typeById(t.type);
      else return t;
    }
    return t;
  };
  const walk = (tid: number, prefix: string, offset: number, depth: number): void => {
    const t = strip(tid);
    const size = btf.sizeOf(tid);
    if (depth > MAX_DEPTH) return;
    switch (t.kind) {
      case "int":
        fields.push({
          name: prefix,
          offset,
          size,
          int: { order: "host", signed: (t.encoding & 1) !== 0 },
        });
        return;
      case "enum":
      case "enum64":
        fields.push({
          name: prefix,
          offset,
          size,
          int: { order: "host", signed: t.signed },
          enumNames: new Map(t.values.map((v) => [BigInt(v.value), v.name])),
        });
        return;
      case "struct":
      case "union":
        if (prefix !== "") fields.push({ name: prefix, offset, size });
        for (const m of t.members) {
          if (m.name === "") {
            walk(m.type, prefix, offset + m.bitOffset / 8, depth + 1); // anonymous member
            continue;
          }
          const name = prefix ? `${prefix}.${m.name}` : m.name;
          if (m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0) {
            fields.push({ name, offset: Math.floor(m.bitOffset / 8), size: 0, bitfield: true });
            continue;
          }
          walk(m.type, name, offset + m.bitOffset / 8, depth + 1);
        }
        return;
      default:
        fields.push({ name: prefix, offset, size });
    }
  };
  walk(id, "", 0, 0);
  const t = strip(id);
  const label =
    t.kind === "struct" || t.kind === "union"
      ? `${t.kind} ${t.name || "(anonymous)"}`
      : btf.describe(id);
  return { label, size: btf.sizeOf(id), fields };
}

/** A layout for a map without BTF: the key/value as one opaque field (or an int of 1–8 bytes). */
export function layoutOfSize(size: number): Layout {
  const int = size === 1 || size === 2 || size === 4 || size === 8;
  return {
    label: `${size}-byte value without BTF`,
    size,
    fields: [
      { name: "", offset: 0, size, ...(int && { int: { order: "host" as const, signed: false } }) },
    ],
  };
}
