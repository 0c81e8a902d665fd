// Compiled decoders for BTF types (issue 16): the same values as decodeBtfValue
// (src/obj/btf-value.ts, bpftool's conventions: char arrays as strings, 64-bit ints as
// numbers while safe, enums by name, anonymous members' fields as the parent's), produced by
// one generated function per type (src/types/decoder-gen.ts) instead of a walk over the BTF
// per value. For events of clang-built objects, whose layout comes from their BTF.
//
// What the generator does not express (enums, pointers, floats of odd sizes, 128-bit ints,
// DATASECs, hostile shapes) is decoded by decodeBtfValue for that value, so the result is
// always decodeBtfValue's; a property test holds the two to it on random BTF.
import type { Btf, BtfType } from "../obj/btf.js";
import { BtfIntEncoding } from "../obj/btf.js";
import { BtfValueError, decodeBtfValue, type BtfValue } from "../obj/btf-value.js";
import { CompiledLayout, type DecodeNode } from "../types/decoder-gen.js";
import { CompiledDecoder } from "../types/decoder.js";

/** Decodes a value of one BTF type from `bytes` at `offset` (default 0). */
export type BtfDecoder = (bytes: Uint8Array, offset?: number) => BtfValue;

const MAX_DEPTH = 64;
/** Arrays longer than this are left to the generic decoder (hostile sizes). */
const MAX_ELEMS = 1 << 20;

/** A shape the generator leaves to decodeBtfValue (never escapes compileBtfDecoder). */
class Unsupported extends BtfValueError {}

function target(t: BtfType): number | undefined {
  switch (t.kind) {
    case "typedef":
    case "const":
    case "volatile":
    case "restrict":
    case "type_tag":
    case "var":
      return t.type;
    default:
      return undefined;
  }
}

function strip(btf: Btf, id: number): number {
  for (let i = 0; i < MAX_DEPTH; i++) {
    const next = target(btf.typeById(id));
    if (next === undefined) return id;
    id = next;
  }
  throw new Unsupported();
}

/** Bytes the compiled code reads for `n` (0 for generic calls, which check their own). */
function extent(n: DecodeNode): number {
  switch (n.kind) {
    case "int":
    case "float":
      return n.off + n.size;
    case "bits":
      return n.off + ((n.bitOff + Math.max(n.bits, 1) - 1) >> 3) + 1;
    case "array": {
      if (n.n === 0) return n.off;
      const last = n.off + (n.n - 1) * n.stride + extent(n.elem);
      return n.chars === true ? Math.max(last, n.off + n.n) : last;
    }
    case "struct":
      return n.fields.reduce((m, f) => Math.max(m, n.off + extent(f.node)), n.off);
    case "call":
      return 0;
  }
}

/**
 * A decoder of BTF type `id` compiled once: call it per record. Returns exactly what
 * `decodeBtfValue(btf, id, bytes, offset)` returns (and throws what it throws).
 */
export function compileBtfDecoder(btf: Btf, id: number): BtfDecoder {
  const generic: BtfDecoder = (bytes, offset = 0) => decodeBtfValue(btf, id, bytes, offset);
  let root: DecodeNode;
  try {
    root = nodeOf(btf, id, 0, 0, 0);
  } catch (e) {
    if (e instanceof Unsupported) return generic;
    // An id the BTF lacks, a size that cannot be computed: decode time says so.
    return generic;
  }
  if (root.kind === "call") return generic;
  const size = Math.max(extent(root), 1);
  const dec = new CompiledDecoder<BtfValue>(new CompiledLayout(root, size), `BTF type ${id}`);
  return (bytes, offset = 0) =>
    offset >>> 0 === offset && offset + size <= bytes.length
      ? dec.decode(bytes, offset)
      : generic(bytes, offset);
}

function callNode(btf: Btf, id: number, off: number): DecodeNode {
  return { kind: "call", off, fn: (bytes, at) => decodeBtfValue(btf, id, bytes, at) };
}

function nodeOf(btf: Btf, id: number, off: number, bit: number, depth: number): DecodeNode {
  if (depth > MAX_DEPTH) throw new Unsupported();
  const sid = strip(btf, id);
  const t = btf.typeById(sid);
  switch (t.kind) {
    case "int": {
      if (t.size !== 1 && t.size !== 2 && t.size !== 4 && t.size !== 8) {
        if (bit !== 0) throw new Unsupported();
        return callNode(btf, sid, off);
      }
      const bits = t.bits || t.size * 8;
      const bool = (t.encoding & BtfIntEncoding.BOOL) !== 0;
      const signed = (t.encoding & BtfIntEncoding.SIGNED) !== 0;
      const bitOff = bit + t.bitOffset;
      if (bitOff === 0 && bits === t.size * 8)
        return { kind: "int", off, size: t.size, signed, le: true, wide: "smallest", bool };
      return { kind: "bits", off, bitOff, bits, signed, bool };
    }
    case "float":
      if (bit !== 0) throw new Unsupported();
      return t.size === 4 || t.size === 8
        ? { kind: "float", off, size: t.size }
        : callNode(btf, sid, off);
    case "array": {
      if (t.nelems > MAX_ELEMS) throw new Unsupported();
      const elemId = strip(btf, t.type);
      const elem = btf.typeById(elemId);
      const chars =
        elem.kind === "int" &&
        elem.size === 1 &&
        ((elem.encoding & BtfIntEncoding.CHAR) !== 0 ||
          elem.name === "char" ||
          elem.name === "signed char");
      const stride = btf.sizeOf(t.type);
      return {
        kind: "array",
        off,
        n: t.nelems,
        stride,
        elem: nodeOf(btf, t.type, 0, 0, depth + 1),
        chars,
      };
    }
    case "struct":
    case "union": {
      const fields: { name: string; node: DecodeNode }[] = [];
      for (const m of t.members) {
        if (m.name === "__proto__") throw new Unsupported();
        let node: DecodeNode;
        if (m.bitfieldSize > 0) {
          const mt = btf.typeById(strip(btf, m.type));
          const signed =
            (mt.kind === "int" && (mt.encoding & BtfIntEncoding.SIGNED) !== 0) ||
            ((mt.kind === "enum" || mt.kind === "enum64") && mt.signed);
          node = { kind: "bits", off: 0, bitOff: m.bitOffset, bits: m.bitfieldSize, signed };
        } else {
          node = nodeOf(btf, m.type, Math.floor(m.bitOffset / 8), m.bitOffset % 8, depth + 1);
        }
        if (m.name === "" && node.kind === "struct") {
          // An anonymous struct/union member's fields read as the parent's.
          const at = node.off;
          for (const f of node.fields) fields.push({ name: f.name, node: shift(f.node, at) });
        } else if (m.name === "" && node.kind === "call") {
          throw new Unsupported(); // its value's shape is only known at decode time
        } else fields.push({ name: m.name, node });
      }
      return { kind: "struct", off, fields };
    }
    case "enum":
    case "enum64":
    case "ptr":
      if (bit !== 0) throw new Unsupported();
      return callNode(btf, sid, off);
    default:
      if (bit !== 0) throw new Unsupported();
      return callNode(btf, sid, off); // a DATASEC, or what holds no value (that throws)
  }
}

function shift(n: DecodeNode, by: number): DecodeNode {
  return { ...n, off: n.off + by };
}
