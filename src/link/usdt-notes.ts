// USDT probes of a native binary (SystemTap SDT notes, `sys/sdt.h`): the `.note.stapsdt`
// records, where each probe site lies in the file, its semaphore, and its argument specs as
// libbpf's usdt.bpf.h reads them (`struct __bpf_usdt_spec`). Pure: reads only bytes.
//
// A note (type 3, owner "stapsdt") holds the probe address, the link-time address of
// `.stapsdt.base` (for prelinked files), the semaphore address (0 when none), then three
// strings: provider, name, and the arguments as the assembler wrote them, e.g.
// "-4@%eax 8@-16(%rbp) -4@$42": size (negative when signed) @ operand.

import type { ElfBinary } from "./elf-symbols.js";
import { AttachError, FormatError } from "./errors.js";

const NT_STAPSDT = 3;

export interface UsdtNote {
  provider: string;
  name: string;
  /** probe address in the file's address space (adjusted for `.stapsdt.base`) */
  address: number;
  /** semaphore address, 0 when the probe has none */
  semaphore: number;
  /** argument text, e.g. "-4@%eax 8@%rdx" */
  args: string;
}

/** Every USDT note of the binary, in file order. */
export function readUsdtNotes(elf: ElfBinary): UsdtNote[] {
  const sec = elf.sectionContents(".note.stapsdt");
  if (!sec) return [];
  const base = elf.sectionContents(".stapsdt.base")?.header.addr;
  const b = sec.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const fail = (detail: string): never => {
    throw new FormatError(`ELF ${elf.source} .note.stapsdt`, detail);
  };
  const align4 = (n: number) => (n + 3) & ~3;
  const out: UsdtNote[] = [];
  for (let at = 0; at + 12 <= b.length;) {
    const namesz = dv.getUint32(at, true);
    const descsz = dv.getUint32(at + 4, true);
    const type = dv.getUint32(at + 8, true);
    const nameAt = at + 12;
    const descAt = nameAt + align4(namesz);
    const next = descAt + align4(descsz);
    if (namesz > b.length || descsz > b.length || next > b.length)
      fail(`note at offset ${at} runs past the section`);
    const owner = latin1(b.subarray(nameAt, nameAt + namesz)).replace(/\0+$/, "");
    if (owner === "stapsdt" && type === NT_STAPSDT) {
      if (descsz < 3 * 8 + 3) fail(`note at offset ${at} is too short (${descsz} bytes)`);
      const u64 = (o: number) => Number(dv.getBigUint64(descAt + o, true));
      const strings = latin1(b.subarray(descAt + 24, descAt + descsz)).split("\0");
      if (strings.length < 3) fail(`note at offset ${at} lacks provider, name or arguments`);
      let address = u64(0);
      const noteBase = u64(8);
      if (base !== undefined && noteBase !== 0) address += base - noteBase;
      out.push({
        provider: strings[0]!,
        name: strings[1]!,
        address,
        semaphore: u64(16),
        args: strings[2]!,
      });
    }
    at = next;
  }
  return out;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

/** enum __bpf_usdt_arg_type */
export const enum UsdtArgType {
  CONST = 0,
  REG = 1,
  REG_DEREF = 2,
}

export interface UsdtArgSpec {
  type: UsdtArgType;
  /** the constant, or the offset added to the register for REG_DEREF */
  valOff: bigint;
  /** offsetof(struct pt_regs, reg) for REG and REG_DEREF */
  regOff: number;
  signed: boolean;
  /** 64 - 8 × size: the bits cleared (and sign-extended) to widen the value */
  bitshift: number;
}

/** `struct pt_regs` (x86-64) offsets of the registers USDT operands name, by every alias. */
const X64_REGS: Record<string, number> = (() => {
  const out: Record<string, number> = {};
  const add = (off: number, ...names: string[]) => names.forEach((n) => (out[n] = off));
  add(0, "r15", "r15d", "r15w", "r15b");
  add(8, "r14", "r14d", "r14w", "r14b");
  add(16, "r13", "r13d", "r13w", "r13b");
  add(24, "r12", "r12d", "r12w", "r12b");
  add(32, "rbp", "ebp", "bp", "bpl");
  add(40, "rbx", "ebx", "bx", "bl");
  add(48, "r11", "r11d", "r11w", "r11b");
  add(56, "r10", "r10d", "r10w", "r10b");
  add(64, "r9", "r9d", "r9w", "r9b");
  add(72, "r8", "r8d", "r8w", "r8b");
  add(80, "rax", "eax", "ax", "al");
  add(88, "rcx", "ecx", "cx", "cl");
  add(96, "rdx", "edx", "dx", "dl");
  add(104, "rsi", "esi", "si", "sil");
  add(112, "rdi", "edi", "di", "dil");
  add(128, "rip", "eip");
  add(152, "rsp", "esp", "sp", "spl");
  return out;
})();

/**
 * The argument specs of a probe's argument text, as libbpf computes them (x86-64 only):
 * `N@$IMM` a constant, `N@%REG` a register, `N@OFF(%REG)` / `N@(%REG)` memory at a register
 * plus an offset. Anything else (an indexed `OFF(%REG,%IDX,S)` operand, a symbol, another
 * architecture) is an AttachError naming the argument: attaching with a wrong spec would
 * deliver wrong values.
 */
export function parseUsdtArgs(args: string, where: string, arch = process.arch): UsdtArgSpec[] {
  const text = args.trim();
  if (text === "") return [];
  if (arch !== "x64")
    throw new AttachError(
      `${where}: USDT arguments are decoded for x86-64 only, not ${arch} (the probe itself can attach; read registers from ctx instead)`,
    );
  const out: UsdtArgSpec[] = [];
  for (const [i, arg] of text.split(/\s+/).entries()) {
    const bad = (why: string): never => {
      throw new AttachError(`${where}: argument #${i} "${arg}": ${why}`);
    };
    const m = /^(-?\d+)@(.+)$/.exec(arg);
    if (!m) bad("expected SIZE@OPERAND");
    const size = Number(m![1]);
    const bytes = Math.abs(size);
    if (![1, 2, 4, 8].includes(bytes)) bad(`size ${size} is not 1, 2, 4 or 8 bytes`);
    const signed = size < 0;
    const bitshift = 64 - bytes * 8;
    const op = m![2]!;
    const reg = (name: string): number =>
      X64_REGS[name] ?? bad(`register %${name} is not one USDT arguments can name`);
    let c: RegExpExecArray | null;
    if ((c = /^\$(-?\d+)$/.exec(op))) {
      out.push({
        type: UsdtArgType.CONST,
        valOff: BigInt.asUintN(64, BigInt(c[1]!)),
        regOff: 0,
        signed,
        bitshift,
      });
    } else if ((c = /^%([a-z0-9]+)$/.exec(op))) {
      out.push({ type: UsdtArgType.REG, valOff: 0n, regOff: reg(c[1]!), signed, bitshift });
    } else if (/\(%[er]ip\)$/.test(op)) {
      bad("a %rip-relative operand (a global variable) cannot be read from the registers");
    } else if ((c = /^(-?\d+)?\(%([a-z0-9]+)\)$/.exec(op))) {
      out.push({
        type: UsdtArgType.REG_DEREF,
        valOff: BigInt.asUintN(64, BigInt(c[1] ?? 0)),
        regOff: reg(c[2]!),
        signed,
        bitshift,
      });
    } else {
      bad("this operand form is not supported (constants, registers and OFFSET(%REG) are)");
    }
  }
  if (out.length > USDT_MAX_ARGS)
    throw new AttachError(`${where}: ${out.length} arguments, usdt.bpf.h holds ${USDT_MAX_ARGS}`);
  return out;
}

/** BPF_USDT_MAX_ARG_CNT of usdt.bpf.h */
export const USDT_MAX_ARGS = 12;
/** sizeof(struct __bpf_usdt_spec): 12 × 16-byte arg specs, u64 cookie, short arg_cnt, padding */
export const USDT_SPEC_SIZE = 208;

/** `struct __bpf_usdt_spec` bytes, libbpf's layout (little-endian). */
export function encodeUsdtSpec(args: readonly UsdtArgSpec[], cookie: bigint): Uint8Array {
  const out = new Uint8Array(USDT_SPEC_SIZE);
  const dv = new DataView(out.buffer);
  args.forEach((a, i) => {
    const o = i * 16;
    dv.setBigUint64(o, a.valOff, true);
    dv.setUint32(o + 8, a.type, true);
    dv.setInt16(o + 12, a.regOff, true);
    dv.setUint8(o + 14, a.signed ? 1 : 0);
    dv.setInt8(o + 15, a.bitshift);
  });
  dv.setBigUint64(USDT_MAX_ARGS * 16, BigInt.asUintN(64, cookie), true);
  dv.setInt16(USDT_MAX_ARGS * 16 + 8, args.length, true);
  return out;
}
