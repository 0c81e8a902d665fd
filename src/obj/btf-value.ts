// Values read and written through their BTF type: the bytes of a map key or value as a JSON-able
// tree (bpftool's `formatted` conventions: structs as objects, arrays as lists, char arrays as
// strings, enums by name, DATASECs as `{".bss": [{var: value}, …]}`), and the way back from
// such a tree (or a plain number, a string for a char array, an enum's name) to bytes.
// Pure: bytes and a parsed BTF in, values out. Used by `tsbpf map` and `tsbpf load --interval`.
import type { Btf, BtfInt, BtfStruct, BtfType } from "./btf.js";
import { BtfIntEncoding } from "./btf.js";
import { TsbpfError } from "../errors.js";

/** A decoded value. 64-bit integers beyond 2^53 stay exact as bigint. */
export type BtfValue =
  null | boolean | number | bigint | string | BtfValue[] | { [field: string]: BtfValue };

/** A value that does not fit its BTF type (wrong shape, unknown field, out of range). */
export class BtfValueError extends TsbpfError {
  override readonly name = "BtfValueError";
}

/** Deep enough for any real type; a deeper chain is a cycle in hostile BTF. */
const MAX_DEPTH = 64;

function modifierTarget(t: BtfType): number | undefined {
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

/** The id under typedefs, qualifiers and VARs. */
function strip(btf: Btf, id: number): number {
  for (let i = 0; i < MAX_DEPTH; i++) {
    const next = modifierTarget(btf.typeById(id));
    if (next === undefined) return id;
    id = next;
  }
  throw new BtfValueError(`BTF type id ${id}: modifier chain longer than ${MAX_DEPTH}`);
}

const isCharInt = (t: BtfType): t is BtfInt =>
  t.kind === "int" &&
  t.size === 1 &&
  ((t.encoding & BtfIntEncoding.CHAR) !== 0 || t.name === "char" || t.name === "signed char");

/** Reads `bits` bits at bit `bitOff` of bytes[off…] (little-endian), as an unsigned bigint. */
function readBits(bytes: Uint8Array, off: number, bitOff: number, bits: number): bigint {
  const first = off + (bitOff >> 3);
  const last = off + ((bitOff + bits - 1) >> 3);
  if (first < 0 || last >= bytes.length) throw new BtfValueError("value shorter than its type");
  let v = 0n;
  for (let i = last; i >= first; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return (v >> BigInt(bitOff & 7)) & ((1n << BigInt(bits)) - 1n);
}

function writeBits(bytes: Uint8Array, off: number, bitOff: number, bits: number, v: bigint): void {
  const mask = (1n << BigInt(bits)) - 1n;
  const first = off + (bitOff >> 3);
  const last = off + ((bitOff + bits - 1) >> 3);
  if (first < 0 || last >= bytes.length) throw new BtfValueError("value buffer too short");
  let cur = 0n;
  for (let i = last; i >= first; i--) cur = (cur << 8n) | BigInt(bytes[i]!);
  const shift = BigInt(bitOff & 7);
  cur = (cur & ~(mask << shift)) | ((v & mask) << shift);
  for (let i = first; i <= last; i++) {
    bytes[i] = Number(cur & 0xffn);
    cur >>= 8n;
  }
}

const smallest = (v: bigint): number | bigint =>
  v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;

function signed(v: bigint, bits: number): bigint {
  return bits > 0 && (v >> BigInt(bits - 1)) & 1n ? v - (1n << BigInt(bits)) : v;
}

/** A printable, NUL-terminated char array as text (bpftool's rule); undefined otherwise. */
function charString(bytes: Uint8Array, off: number, n: number): string | undefined {
  if (off + n > bytes.length) throw new BtfValueError("value shorter than its type");
  let s = "";
  for (let i = 0; i < n; i++) {
    const c = bytes[off + i]!;
    if (c === 0) return s;
    if (c < 0x20 || c > 0x7e) return undefined;
    s += String.fromCharCode(c);
  }
  return undefined; // no terminating NUL
}

/**
 * The value of type `id` stored at `bytes[offset…]`. Throws BtfValueError when the bytes are
 * shorter than the type or the type cannot hold a value (void, function), ObjectError on an id
 * the BTF does not have.
 */
export function decodeBtfValue(btf: Btf, id: number, bytes: Uint8Array, offset = 0): BtfValue {
  return decodeAt(btf, id, bytes, offset, 0, 0);
}

function decodeAt(
  btf: Btf,
  id: number,
  bytes: Uint8Array,
  off: number,
  bitOff: number,
  depth: number,
): BtfValue {
  if (depth > MAX_DEPTH)
    throw new BtfValueError(`BTF type id ${id} nests deeper than ${MAX_DEPTH}`);
  const sid = strip(btf, id);
  const t = btf.typeById(sid);
  switch (t.kind) {
    case "int": {
      const bits = t.bits || t.size * 8;
      const raw = readBits(bytes, off, bitOff + t.bitOffset, bits);
      if ((t.encoding & BtfIntEncoding.BOOL) !== 0) return raw !== 0n;
      const v = (t.encoding & BtfIntEncoding.SIGNED) !== 0 ? signed(raw, bits) : raw;
      return t.size > 8 ? `0x${raw.toString(16)}` : smallest(v);
    }
    case "enum":
    case "enum64": {
      const raw = readBits(bytes, off, bitOff, t.size * 8);
      const v = t.signed ? signed(raw, t.size * 8) : raw;
      for (const e of t.values) if (BigInt(e.value) === v || BigInt(e.value) === raw) return e.name;
      return smallest(v);
    }
    case "float": {
      if (off + t.size > bytes.length) throw new BtfValueError("value shorter than its type");
      const dv = new DataView(bytes.buffer, bytes.byteOffset + off, t.size);
      if (t.size === 4) return dv.getFloat32(0, true);
      if (t.size === 8) return dv.getFloat64(0, true);
      return `0x${readBits(bytes, off, 0, t.size * 8).toString(16)}`;
    }
    case "ptr":
      return `0x${readBits(bytes, off, bitOff, 64).toString(16)}`;
    case "array": {
      const elem = btf.typeById(strip(btf, t.type));
      if (isCharInt(elem)) {
        const s = charString(bytes, off, t.nelems);
        if (s !== undefined) return s;
      }
      const size = btf.sizeOf(t.type);
      const out: BtfValue[] = [];
      for (let i = 0; i < t.nelems; i++)
        out.push(decodeAt(btf, t.type, bytes, off + i * size, 0, depth + 1));
      return out;
    }
    case "struct":
    case "union":
      return decodeMembers(btf, t, bytes, off, depth);
    case "datasec": {
      const vars: BtfValue[] = [];
      for (const v of t.vars) {
        const vt = btf.typeById(v.type);
        if (vt.kind !== "var") continue; // .ksyms functions hold no data
        vars.push({ [vt.name]: decodeAt(btf, vt.type, bytes, off + v.offset, 0, depth + 1) });
      }
      return { [t.name]: vars };
    }
    default:
      throw new BtfValueError(`BTF type id ${sid} (${t.kind}) holds no value`);
  }
}

function decodeMembers(
  btf: Btf,
  t: BtfStruct,
  bytes: Uint8Array,
  off: number,
  depth: number,
): { [field: string]: BtfValue } {
  const out: { [field: string]: BtfValue } = {};
  for (const m of t.members) {
    const byte = off + Math.floor(m.bitOffset / 8);
    const bit = m.bitOffset % 8;
    let v: BtfValue;
    if (m.bitfieldSize > 0) {
      const mt = btf.typeById(strip(btf, m.type));
      const raw = readBits(bytes, off, m.bitOffset, m.bitfieldSize);
      const isSigned =
        (mt.kind === "int" && (mt.encoding & BtfIntEncoding.SIGNED) !== 0) ||
        ((mt.kind === "enum" || mt.kind === "enum64") && mt.signed);
      v = smallest(isSigned ? signed(raw, m.bitfieldSize) : raw);
    } else v = decodeAt(btf, m.type, bytes, byte, bit, depth + 1);
    // An anonymous struct/union member's fields read as the parent's (C's rule for access).
    if (m.name === "" && v !== null && typeof v === "object" && !Array.isArray(v))
      Object.assign(out, v);
    else out[m.name] = v;
  }
  return out;
}

// ---- encoding ----

const describe = (btf: Btf, id: number): string => {
  try {
    return btf.describe(id);
  } catch {
    return `type id ${id}`;
  }
};

function toBigInt(v: unknown, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "string" && /^-?(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)$/i.test(v.trim())) {
    const s = v.trim();
    return s.startsWith("-") ? -BigInt(s.slice(1)) : BigInt(s);
  }
  throw new BtfValueError(`${what}: expected an integer, got ${JSON.stringify(v) ?? String(v)}`);
}

function checkRange(v: bigint, bits: number, isSigned: boolean, what: string): bigint {
  const lo = isSigned ? -(1n << BigInt(bits - 1)) : 0n;
  const hi = isSigned ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (v < lo || v > hi)
    throw new BtfValueError(
      `${what}: ${v} does not fit ${isSigned ? "a signed" : "an unsigned"} ${bits}-bit integer (${lo}..${hi})`,
    );
  return v & ((1n << BigInt(bits)) - 1n);
}

/**
 * `value` as the bytes of type `id`: integers (number, bigint or a decimal/0x string),
 * booleans, enum names, objects for structs (fields left out are zero), arrays (shorter ones
 * are zero-filled), strings for char arrays. Throws BtfValueError naming the field at fault.
 */
export function encodeBtfValue(btf: Btf, id: number, value: unknown, what = "value"): Uint8Array {
  const out = new Uint8Array(btf.sizeOf(id));
  encodeAt(btf, id, value, out, 0, 0, what, 0);
  return out;
}

function encodeAt(
  btf: Btf,
  id: number,
  value: unknown,
  out: Uint8Array,
  off: number,
  bitOff: number,
  what: string,
  depth: number,
): void {
  if (depth > MAX_DEPTH) throw new BtfValueError(`${what}: nests deeper than ${MAX_DEPTH}`);
  const sid = strip(btf, id);
  const t = btf.typeById(sid);
  switch (t.kind) {
    case "int": {
      const bits = t.bits || t.size * 8;
      const isSigned = (t.encoding & BtfIntEncoding.SIGNED) !== 0;
      const v = checkRange(toBigInt(value, what), bits, isSigned, what);
      writeBits(out, off, bitOff + t.bitOffset, bits, v);
      return;
    }
    case "enum":
    case "enum64": {
      let v: bigint;
      const named = typeof value === "string" ? t.values.find((e) => e.name === value) : undefined;
      if (named) v = BigInt(named.value);
      else if (typeof value === "string" && !/^-?(0x)?[0-9a-f]+$/i.test(value))
        throw new BtfValueError(
          `${what}: ${describe(btf, sid)} has no value named "${value}" (it has ${t.values.map((e) => e.name).join(", ") || "none"})`,
        );
      else v = toBigInt(value, what);
      writeBits(out, off, bitOff, t.size * 8, checkRange(v, t.size * 8, t.signed || v < 0n, what));
      return;
    }
    case "float": {
      if (typeof value !== "number") throw new BtfValueError(`${what}: expected a number`);
      const dv = new DataView(out.buffer, out.byteOffset + off, t.size);
      if (t.size === 4) dv.setFloat32(0, value, true);
      else if (t.size === 8) dv.setFloat64(0, value, true);
      else throw new BtfValueError(`${what}: ${t.size}-byte floats are not supported`);
      return;
    }
    case "ptr":
      writeBits(out, off, bitOff, 64, checkRange(toBigInt(value, what), 64, false, what));
      return;
    case "array": {
      const elemId = t.type;
      const elem = btf.typeById(strip(btf, elemId));
      const size = btf.sizeOf(elemId);
      if (typeof value === "string" && isCharInt(elem)) {
        const b = new TextEncoder().encode(value);
        if (b.length > t.nelems)
          throw new BtfValueError(
            `${what}: "${value}" is ${b.length} bytes, the array holds ${t.nelems}`,
          );
        out.set(b, off);
        return;
      }
      if (!Array.isArray(value))
        throw new BtfValueError(
          `${what}: expected an array of ${t.nelems}${isCharInt(elem) ? " (or a string)" : ""}, got ${JSON.stringify(value)}`,
        );
      if (value.length > t.nelems)
        throw new BtfValueError(`${what}: ${value.length} elements, the array holds ${t.nelems}`);
      value.forEach((v, i) =>
        encodeAt(btf, elemId, v, out, off + i * size, 0, `${what}[${i}]`, depth + 1),
      );
      return;
    }
    case "struct":
    case "union": {
      if (value === null || typeof value !== "object" || Array.isArray(value))
        throw new BtfValueError(
          `${what}: expected an object with the fields of ${describe(btf, sid)} (${t.members.map((m) => m.name || "<anon>").join(", ")}), got ${JSON.stringify(value)}`,
        );
      const obj = value as Record<string, unknown>;
      const used = new Set<string>();
      encodeMembers(btf, t, obj, out, off, what, depth, used);
      const unknown = Object.keys(obj).filter((k) => !used.has(k));
      if (unknown.length > 0)
        throw new BtfValueError(
          `${what}: ${describe(btf, sid)} has no field ${unknown.map((k) => `"${k}"`).join(", ")} (it has ${fieldNames(btf, t).join(", ")})`,
        );
      return;
    }
    case "datasec": {
      if (value === null || typeof value !== "object" || Array.isArray(value))
        throw new BtfValueError(`${what}: expected an object of ${t.name} variables`);
      let vars = value as Record<string, unknown>;
      // bpftool's shape {".bss": [{var: v}, …]} as well as {var: v}
      const inner = vars[t.name];
      if (Array.isArray(inner))
        vars = Object.assign({}, ...(inner as object[])) as Record<string, unknown>;
      const names = new Set<string>();
      for (const v of t.vars) {
        const vt = btf.typeById(v.type);
        if (vt.kind !== "var") continue;
        names.add(vt.name);
        if (vt.name in vars)
          encodeAt(
            btf,
            vt.type,
            vars[vt.name],
            out,
            off + v.offset,
            0,
            `${what}.${vt.name}`,
            depth + 1,
          );
      }
      const unknown = Object.keys(vars).filter((k) => !names.has(k));
      if (unknown.length > 0)
        throw new BtfValueError(
          `${what}: ${t.name} has no variable ${unknown.join(", ")} (it has ${[...names].join(", ")})`,
        );
      return;
    }
    default:
      throw new BtfValueError(`${what}: BTF type id ${sid} (${t.kind}) holds no value`);
  }
}

function fieldNames(btf: Btf, t: BtfStruct): string[] {
  return t.members.flatMap((m) => {
    if (m.name !== "") return [m.name];
    const mt = btf.typeById(strip(btf, m.type));
    return mt.kind === "struct" || mt.kind === "union" ? fieldNames(btf, mt) : [];
  });
}

function encodeMembers(
  btf: Btf,
  t: BtfStruct,
  obj: Record<string, unknown>,
  out: Uint8Array,
  off: number,
  what: string,
  depth: number,
  used: Set<string>,
): void {
  for (const m of t.members) {
    if (m.name === "") {
      const mt = btf.typeById(strip(btf, m.type));
      if (mt.kind === "struct" || mt.kind === "union")
        encodeMembers(btf, mt, obj, out, off + Math.floor(m.bitOffset / 8), what, depth + 1, used);
      continue;
    }
    if (!(m.name in obj)) continue;
    used.add(m.name);
    const field = `${what}.${m.name}`;
    if (m.bitfieldSize > 0) {
      const mt = btf.typeById(strip(btf, m.type));
      const isSigned =
        (mt.kind === "int" && (mt.encoding & BtfIntEncoding.SIGNED) !== 0) ||
        ((mt.kind === "enum" || mt.kind === "enum64") && mt.signed);
      const v = checkRange(toBigInt(obj[m.name], field), m.bitfieldSize, isSigned, field);
      writeBits(out, off, m.bitOffset, m.bitfieldSize, v);
    } else
      encodeAt(
        btf,
        m.type,
        obj[m.name],
        out,
        off + Math.floor(m.bitOffset / 8),
        m.bitOffset % 8,
        field,
        depth + 1,
      );
  }
}

// ---- printing ----

/** JSON text of a decoded value; bigints print as plain numbers, as bpftool prints them. */
export function btfValueJson(v: BtfValue): string {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return `[${v.map(btfValueJson).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${btfValueJson(x)}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** One-line, readable form: `{ saddr: 10.0.0.1, comm: "bash", hits: [1, 2] }`-like. */
export function btfValueText(v: BtfValue): string {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return `[${v.map(btfValueText).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    const parts = Object.entries(v).map(
      ([k, x]) => `${IDENT.test(k) ? k : JSON.stringify(k)}: ${btfValueText(x)}`,
    );
    return parts.length === 0 ? "{}" : `{ ${parts.join(", ")} }`;
  }
  return JSON.stringify(v);
}
