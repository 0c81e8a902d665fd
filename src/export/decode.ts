// Label decoders: bytes of a map key → a label value. Pure (no syscalls): the bytes come from
// the kernel but are untrusted as far as these functions go (any length, any content), and
// test/unit/export/decode.test.ts throws random ones at them.
import { ExportError } from "./errors.js";
import type { FieldLayout } from "./layout.js";

/**
 * How a field becomes a label value.
 * - `uint` / `int`: the number (decimal)
 * - `ipv4`, `ipv6`, `ip` (4 or 16 bytes): an address (`10.0.0.1`, `fd00::1`)
 * - `string`: bytes up to the first NUL (a task's `comm`), UTF-8
 * - `hex`: the bytes as hex
 * - `enum`: the C enum's name from BTF; `{ enum: { "6": "tcp", … } }` names values yourself
 *   (a value without a name is exported as its number)
 */
export type DecoderSpec =
  | "uint"
  | "int"
  | "ipv4"
  | "ipv6"
  | "ip"
  | "string"
  | "hex"
  | "enum"
  | { readonly enum: Readonly<Record<string, string>> };

export type Decoder = (view: DataView, base: number) => string;

const DECODER_NAMES = ["uint", "int", "ipv4", "ipv6", "ip", "string", "hex", "enum"];

/** Reads the field as an integer (bigint), per its byte order; undefined when it has none. */
export function intReader(f: FieldLayout, where: string): (view: DataView, base: number) => bigint {
  const size = f.size;
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8)
    throw new ExportError(
      `${where}: field "${f.name}" is ${size} bytes; a number must be 1, 2, 4 or 8 bytes (decode it as hex, string or an address instead)`,
    );
  const little = f.int?.order !== "big";
  const signed = f.int?.signed ?? false;
  const off = f.offset;
  switch (size) {
    case 1:
      return signed ? (v, b) => BigInt(v.getInt8(b + off)) : (v, b) => BigInt(v.getUint8(b + off));
    case 2:
      return signed
        ? (v, b) => BigInt(v.getInt16(b + off, little))
        : (v, b) => BigInt(v.getUint16(b + off, little));
    case 4:
      return signed
        ? (v, b) => BigInt(v.getInt32(b + off, little))
        : (v, b) => BigInt(v.getUint32(b + off, little));
    default:
      return signed
        ? (v, b) => v.getBigInt64(b + off, little)
        : (v, b) => v.getBigUint64(b + off, little);
  }
}

function bytesAt(view: DataView, at: number, size: number): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset + at, size);
}

export function formatIpv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952 text: lower case, the longest run (≥2) of zero groups as `::`, IPv4-mapped as such. */
export function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return `::ffff:${formatIpv4(b.subarray(12, 16))}`;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Builds the decoder for one label; throws ExportError when the field cannot be decoded so. */
export function makeDecoder(f: FieldLayout, spec: DecoderSpec | undefined, where: string): Decoder {
  if (f.bitfield)
    throw new ExportError(`${where}: field "${f.name}" is a bitfield; labels need whole bytes`);
  const off = f.offset;
  const size = f.size;
  const d = spec ?? (f.enumNames ? "enum" : f.int ? (f.int.signed ? "int" : "uint") : "hex");
  if (typeof d === "object") {
    if (d === null || typeof d.enum !== "object" || d.enum === null)
      throw new ExportError(
        `${where}: decode must be one of ${DECODER_NAMES.join(", ")} or { enum: { value: name } }`,
      );
    const names = new Map<bigint, string>();
    for (const [k, v] of Object.entries(d.enum)) {
      let n: bigint;
      try {
        n = BigInt(k);
      } catch {
        throw new ExportError(`${where}: enum key "${k}" is not an integer`);
      }
      if (typeof v !== "string")
        throw new ExportError(`${where}: enum name for ${k} must be a string`);
      names.set(n, v);
    }
    const read = intReader(f, where);
    return (v, b) => {
      const n = read(v, b);
      return names.get(n) ?? n.toString();
    };
  }
  switch (d) {
    case "uint":
    case "int": {
      const int = { order: f.int?.order ?? ("host" as const), signed: d === "int" };
      const read = intReader({ ...f, int }, where);
      return (v, b) => read(v, b).toString();
    }
    case "enum": {
      const names = f.enumNames;
      if (!names)
        throw new ExportError(
          `${where}: field "${f.name}" is not a C enum in the object's BTF: name its values with decode: { enum: { "6": "tcp", … } }`,
        );
      const read = intReader(f, where);
      return (v, b) => {
        const n = read(v, b);
        return names.get(n) ?? n.toString();
      };
    }
    case "ipv4":
      if (size !== 4)
        throw new ExportError(`${where}: field "${f.name}" is ${size} bytes; an IPv4 address is 4`);
      // A tsbpf/types u32 holds the address as a number (ip.saddr: 10.0.0.1 is 0x0a000001),
      // stored little-endian; be32 and C fields hold it in network order in memory.
      if (f.int?.order === "little")
        return (v, b) => {
          const n = v.getUint32(b + off, true);
          return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
        };
      return (v, b) => formatIpv4(bytesAt(v, b + off, 4));
    case "ipv6":
      if (size !== 16)
        throw new ExportError(
          `${where}: field "${f.name}" is ${size} bytes; an IPv6 address is 16`,
        );
      return (v, b) => formatIpv6(bytesAt(v, b + off, 16));
    case "ip":
      if (size === 4) return makeDecoder(f, "ipv4", where);
      if (size === 16) return makeDecoder(f, "ipv6", where);
      throw new ExportError(
        `${where}: field "${f.name}" is ${size} bytes; an IP address is 4 (IPv4) or 16 (IPv6)`,
      );
    case "string":
      return (v, b) => {
        const bytes = bytesAt(v, b + off, size);
        const end = bytes.indexOf(0);
        return utf8.decode(end < 0 ? bytes : bytes.subarray(0, end));
      };
    case "hex":
      return (v, b) => Buffer.from(v.buffer, v.byteOffset + b + off, size).toString("hex");
    default:
      throw new ExportError(
        `${where}: unknown decoder "${String(d)}": use one of ${DECODER_NAMES.join(", ")} or { enum: { value: name } }`,
      );
  }
}
