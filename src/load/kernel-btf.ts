// The running kernel's BTF (/sys/kernel/btf/vmlinux and its modules' split BTF beside it):
// type ids for programs that attach by BTF id (tp_btf, fentry/fexit), and the targets of CO-RE
// relocations. The vmlinux file is ~5 MB with ~100k types; it is read once per process and
// decoded lazily (LazyBtf: an index of type headers, types decoded when CO-RE asks).
import { closeSync, fstatSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BtfKind, btfTypeExtraSize, LazyBtf } from "../obj/btf.js";
import type { CoreTargets } from "../obj/core.js";
import { ObjectError } from "../obj/errors.js";
import { mmap, MmapFlags, Prot } from "../sys/mmap.js";
import { TsbpfError } from "../errors.js";

const BTF_DIR = "/sys/kernel/btf";
const VMLINUX = `${BTF_DIR}/vmlinux`;
let vmlinux: Uint8Array | undefined;
let vmlinuxBtf: LazyBtf | undefined;
let moduleBtfs: { name: string; btf: LazyBtf }[] | undefined;
const fileBtfs = new Map<string, LazyBtf>();

const extraSize = btfTypeExtraSize;

const kindNumbers = {
  func: BtfKind.FUNC,
  typedef: BtfKind.TYPEDEF,
  struct: BtfKind.STRUCT,
  var: BtfKind.VAR,
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

/** Number of types in raw BTF bytes (the last type id; split BTF continues after it). */
export function btfTypeCount(btf: Uint8Array): number {
  const dv = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
  const hdrLen = dv.getUint32(4, true);
  const typeOff = hdrLen + dv.getUint32(8, true);
  const typeEnd = typeOff + dv.getUint32(12, true);
  let n = 0;
  for (let p = typeOff; p + 12 <= typeEnd; n++) {
    const info = dv.getUint32(p + 4, true);
    p += 12 + extraSize((info >>> 24) & 0x1f, info & 0xffff);
  }
  return n;
}

let vmlinuxTypeCount: number | undefined;

/**
 * A function or variable in the BTF of a loaded kernel module (/sys/kernel/btf/<module>, split
 * BTF whose ids continue after vmlinux's): the module's name and the type's kernel-wide id, or
 * undefined when no module has it. Modules are searched in name order; files are read anew
 * each call (modules come and go).
 */
export function moduleBtfTypeId(
  name: string,
  kind: keyof typeof kindNumbers,
): { module: string; id: number } | undefined {
  let names: string[];
  try {
    names = readdirSync(BTF_DIR).filter((n) => n !== "vmlinux");
  } catch {
    return undefined;
  }
  if (names.length === 0) return undefined;
  vmlinuxTypeCount ??= btfTypeCount(readVmlinux("module BTF is split against it"));
  for (const module of names.sort()) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(BTF_DIR, module));
    } catch {
      continue; // unloaded meanwhile
    }
    const local = findSplitBtfTypeId(bytes, name, kind, vmlinuxTypeCount);
    if (local !== undefined) return { module, id: local };
  }
  return undefined;
}

/**
 * findBtfTypeId for split BTF: names may live in the base's strings (offsets below the base
 * string size are the base's), so only names in the split part's own strings are compared —
 * a module's own functions and variables always are. Returns the kernel-wide id.
 */
function findSplitBtfTypeId(
  btf: Uint8Array,
  name: string,
  kind: keyof typeof kindNumbers,
  baseCount: number,
): number | undefined {
  const base = readVmlinux("module BTF is split against it");
  const bdv = new DataView(base.buffer, base.byteOffset, base.byteLength);
  const baseStrLen = bdv.getUint32(20, true);
  const dv = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
  if (btf.byteLength < 24 || dv.getUint16(0, true) !== 0xeb9f)
    throw new ObjectError("not BTF (bad magic)", { section: "module BTF", offset: 0 });
  const hdrLen = dv.getUint32(4, true);
  const typeOff = hdrLen + dv.getUint32(8, true);
  const typeEnd = typeOff + dv.getUint32(12, true);
  const strOff = hdrLen + dv.getUint32(16, true);
  const strEnd = strOff + dv.getUint32(20, true);
  if (typeEnd > btf.byteLength || strEnd > btf.byteLength)
    throw new ObjectError("BTF sections exceed the data", { section: "module BTF" });
  const want = new TextEncoder().encode(name);
  const wantKind = kindNumbers[kind];
  let id = baseCount + 1;
  for (let p = typeOff; p + 12 <= typeEnd; id++) {
    const nameOff = dv.getUint32(p, true);
    const info = dv.getUint32(p + 4, true);
    const k = (info >>> 24) & 0x1f;
    if (k === wantKind && nameOff >= baseStrLen) {
      const at = strOff + nameOff - baseStrLen;
      let ok = at + want.length < strEnd;
      for (let i = 0; ok && i < want.length; i++) ok = btf[at + i] === want[i];
      if (ok && btf[at + want.length] === 0) return id;
    }
    p += 12 + extraSize(k, info & 0xffff);
  }
  return undefined;
}

/**
 * The file's bytes, mapped read-only where the kernel allows it (sysfs BTF since 6.16, as libbpf
 * maps it: the kernel's own BTF pages, no copy in this process), else read.
 */
function mapOrRead(path: string): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (size > 0)
      try {
        return new Uint8Array(mmap(fd, size, Prot.READ, MmapFlags.PRIVATE, 0, path), 0, size);
      } catch {
        // older kernels: not mappable
      }
  } finally {
    closeSync(fd);
  }
  return readFileSync(path);
}

/**
 * The kernel's BTF (or a BTF file given instead) cannot be read. The message names the file and
 * what needed it, and what to pass instead.
 */
export class KernelBtfError extends TsbpfError {
  override readonly name = "KernelBtfError";
}

function readVmlinux(why: string): Uint8Array {
  if (!vmlinux) {
    try {
      vmlinux = mapOrRead(VMLINUX);
    } catch (e) {
      throw new KernelBtfError(
        `this kernel has no readable BTF at ${VMLINUX} (CONFIG_DEBUG_INFO_BTF): ${(e as Error).message}; ${why}`,
        { cause: e },
      );
    }
  }
  return vmlinux;
}

/**
 * Id of a type in the running kernel's BTF; undefined when absent. Throws KernelBtfError when
 * the kernel has no BTF; `why` says what needed it (tp_btf/fentry/iter targets, __ksym externs).
 */
export function kernelBtfTypeId(
  name: string,
  kind: keyof typeof kindNumbers,
  why = "tp_btf, fentry, fexit and iter programs need it to find their target",
): number | undefined {
  return findBtfTypeId(readVmlinux(why), name, kind);
}

/**
 * The targets CO-RE relocations resolve against: the BTF file `btfPath` when given (raw BTF,
 * or an ELF file with a .BTF section such as a vmlinux image; no module BTF then, as in
 * libbpf), else the running kernel's vmlinux BTF with its modules' BTF as the fallback.
 * Everything is read once per process.
 */
export function coreTargets(btfPath?: string): CoreTargets {
  if (btfPath !== undefined) return { vmlinux: btfFromFile(btfPath) };
  if (!vmlinuxBtf) {
    const bytes = readVmlinux(
      "CO-RE relocations need the kernel's types: pass the kernel's BTF as a file (btfPath, tsbpf --btf FILE)",
    );
    vmlinuxBtf = LazyBtf.parse(bytes, { label: VMLINUX });
  }
  const base = vmlinuxBtf;
  return { vmlinux: base, modules: () => (moduleBtfs ??= readModuleBtfs(base)) };
}

/** Split BTF of every loaded module with BTF (/sys/kernel/btf/<module>), by name. */
function readModuleBtfs(base: LazyBtf): { name: string; btf: LazyBtf }[] {
  let names: string[];
  try {
    names = readdirSync(BTF_DIR).filter((n) => n !== "vmlinux");
  } catch {
    return [];
  }
  const out: { name: string; btf: LazyBtf }[] = [];
  for (const name of names.sort()) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(BTF_DIR, name));
    } catch {
      continue; // unloaded meanwhile
    }
    out.push({ name, btf: LazyBtf.parse(bytes, { base, label: `${BTF_DIR}/${name}` }) });
  }
  return out;
}

function btfFromFile(path: string): LazyBtf {
  const hit = fileBtfs.get(path);
  if (hit) return hit;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new KernelBtfError(`cannot read the BTF file ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const btf = LazyBtf.parse(elfBtfSection(bytes, path) ?? bytes, { label: path });
  fileBtfs.set(path, btf);
  return btf;
}

/** The .BTF section of an ELF64 little-endian file (any machine); undefined when not ELF. */
export function elfBtfSection(bytes: Uint8Array, path = "file"): Uint8Array | undefined {
  if (
    bytes.byteLength < 64 ||
    bytes[0] !== 0x7f ||
    bytes[1] !== 0x45 ||
    bytes[2] !== 0x4c ||
    bytes[3] !== 0x46
  )
    return undefined;
  const fail = (why: string): ObjectError =>
    new ObjectError(`${path}: ${why}`, { section: ".BTF" });
  if (bytes[4] !== 2 || bytes[5] !== 1) throw fail("only ELF64 little-endian files are read");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  const sh = (i: number): { name: number; off: number; size: number } => {
    const at = shoff + i * 64;
    if (at + 64 > bytes.byteLength) throw fail(`section header ${i} is past the end`);
    return {
      name: dv.getUint32(at, true),
      off: Number(dv.getBigUint64(at + 24, true)),
      size: Number(dv.getBigUint64(at + 32, true)),
    };
  };
  if (shstrndx >= shnum) throw fail("no section name table");
  const strtab = sh(shstrndx);
  const want = ".BTF\0";
  for (let i = 1; i < shnum; i++) {
    const s = sh(i);
    const p = strtab.off + s.name;
    let ok = p + want.length <= bytes.byteLength;
    for (let k = 0; ok && k < want.length; k++) ok = bytes[p + k] === want.charCodeAt(k);
    if (!ok) continue;
    if (s.off + s.size > bytes.byteLength) throw fail(".BTF section is past the end of the file");
    return bytes.subarray(s.off, s.off + s.size);
  }
  throw fail("ELF file without a .BTF section");
}
