// Type ids in the running kernel's BTF (/sys/kernel/btf/vmlinux), for programs that attach
// by BTF id (tp_btf, fentry/fexit). The file is several MB with ~100k types, and one load
// needs one id, so this scans type headers for a name instead of building the full model.
import { readFileSync } from "node:fs";
import { BtfKind } from "./obj/btf.js";
import { ObjectError } from "./obj/errors.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";
let vmlinux: Uint8Array | undefined;

/** Bytes of trailing data after the 12-byte common header, per kind. */
function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.INT:
    case BtfKind.VAR:
    case BtfKind.DECL_TAG:
      return 4;
    case BtfKind.ARRAY:
      return 12;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.DATASEC:
    case BtfKind.ENUM64:
      return vlen * 12;
    case BtfKind.ENUM:
    case BtfKind.FUNC_PROTO:
      return vlen * 8;
    default:
      return 0;
  }
}

const kindNumbers = {
  func: BtfKind.FUNC,
  typedef: BtfKind.TYPEDEF,
  struct: BtfKind.STRUCT,
} as const;

/** The id of the first type of `kind` named `name` in raw BTF bytes, or undefined. */
export function findBtfTypeId(
  btf: Uint8Array,
  name: string,
  kind: keyof typeof kindNumbers,
): number | undefined {
  const dv = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
  if (btf.byteLength < 24 || dv.getUint16(0, true) !== 0xeb9f)
    throw new ObjectError("not BTF (bad magic)", { section: "vmlinux BTF", offset: 0 });
  const hdrLen = dv.getUint32(4, true);
  const typeOff = hdrLen + dv.getUint32(8, true);
  const typeEnd = typeOff + dv.getUint32(12, true);
  const strOff = hdrLen + dv.getUint32(16, true);
  const strEnd = strOff + dv.getUint32(20, true);
  if (typeEnd > btf.byteLength || strEnd > btf.byteLength)
    throw new ObjectError("BTF sections exceed the data", { section: "vmlinux BTF" });
  const want = new TextEncoder().encode(name);
  const wantKind = kindNumbers[kind];
  const nameMatches = (off: number): boolean => {
    const p = strOff + off;
    if (p + want.length >= strEnd) return false;
    for (let i = 0; i < want.length; i++) if (btf[p + i] !== want[i]) return false;
    return btf[p + want.length] === 0;
  };
  let id = 1;
  for (let p = typeOff; p + 12 <= typeEnd; id++) {
    const nameOff = dv.getUint32(p, true);
    const info = dv.getUint32(p + 4, true);
    const k = (info >>> 24) & 0x1f;
    if (k === wantKind && nameOff !== 0 && nameMatches(nameOff)) return id;
    p += 12 + extraSize(k, info & 0xffff);
  }
  return undefined;
}

/** Id of a type in the running kernel's BTF; undefined when absent (or no kernel BTF). */
export function kernelBtfTypeId(name: string, kind: keyof typeof kindNumbers): number | undefined {
  if (!vmlinux) {
    try {
      vmlinux = readFileSync(VMLINUX);
    } catch {
      throw new Error(
        `this kernel has no BTF at ${VMLINUX} (CONFIG_DEBUG_INFO_BTF); tp_btf, fentry and fexit need it`,
      );
    }
  }
  return findBtfTypeId(vmlinux, name, kind);
}
