// Disassembler for eBPF instruction slots. The default syntax is the kernel verifier's and
// `bpftool prog dump xlated`'s (`(61) r2 = *(u32 *)(r1 +4)`), so the verifier-log annotator
// and `tsbpf disasm` read the same; `syntax: "llvm"` follows `llvm-objdump -d` (used to check
// this module against LLVM). Any slot array is accepted: unknown encodings are printed, never
// thrown.

import {
  BPF_ABS,
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_IND,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOV,
  BPF_NEG,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_ST,
  BPF_STX,
  BPF_TO_BE,
  BPF_X,
  BPF_XCHG,
  LDDW,
  type Insn,
} from "./insn.js";
import { helperName } from "./helpers.js";

/** BPF_JMP | BPF_JCOND: `may_goto` (src 0), kernel ≥ 6.9. */
export const BPF_JCOND = 0xe0;
/** Atomic load-acquire / store-release (imm of BPF_STX | BPF_ATOMIC), kernel ≥ 6.15. */
export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;
/** ALU64 MOV X with off 1: arena address-space cast (kernel ≥ 6.9). */
export const BPF_ADDR_SPACE_CAST = 1;

export interface DisasmOptions {
  /** "bpftool" (default): kernel verifier syntax; "llvm": llvm-objdump syntax. */
  syntax?: "bpftool" | "llvm";
  /** Source lines to print (as `; text`) before the instruction at slot `insn`. */
  lineInfo?: readonly { insn: number; text: string }[];
  /** Labels to print (as `text:`) before the instruction at slot `insn`, e.g. function signatures. */
  labels?: readonly { insn: number; text: string }[];
  /**
   * Name for the target of the call at `slot` (a relocated bpf-to-bpf call, a kfunc), e.g.
   * from the object's relocations or func info. Helpers are named from the helper table.
   */
  symbolForCall?: (slot: number) => string | undefined;
  /** Replacement text for the 64-bit immediate of the lddw at `slot` (e.g. `map[requests]`). */
  immForLoad?: (slot: number) => string | undefined;
  /** Only slots from `from` (default 0) up to `to` (exclusive; default the end). */
  from?: number;
  to?: number;
}

const ALU_OPS = [
  "+=",
  "-=",
  "*=",
  "/=",
  "|=",
  "&=",
  "<<=",
  ">>=",
  "neg",
  "%=",
  "^=",
  "=",
  "s>>=",
  "end",
];
const JMP_OPS = [
  "ja",
  "==",
  ">",
  ">=",
  "&",
  "!=",
  "s>",
  "s>=",
  "call",
  "exit",
  "<",
  "<=",
  "s<",
  "s<=",
];
const SIZES: Record<number, string> = { 0x00: "32", 0x08: "16", 0x10: "8", 0x18: "64" };
const ATOMIC_ALU: Record<number, string> = { 0x00: "add", 0x40: "or", 0x50: "and", 0xa0: "xor" };

/** Hex with sign, like LLVM: -0x4, 0xe. */
const shex = (n: number | bigint): string =>
  n < 0 ? `-0x${(-BigInt(n)).toString(16)}` : `0x${n.toString(16)}`;
/** printf("%+d") */
const plus = (n: number): string => (n < 0 ? `${n}` : `+${n}`);
const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, "0");

/**
 * Format the instruction at slot `i` without its slot number: `(b7) r0 = 2`
 * (bpftool syntax) or `r0 = 0x2` (llvm). The second slot of an lddw is shown as unknown
 * (opcode 0) when formatted on its own; `disassemble` skips it.
 */
export function formatInsn(insns: readonly Insn[], i: number, opts: DisasmOptions = {}): string {
  const insn = insns[i];
  if (!insn) return `<no instruction at slot ${i}>`;
  const llvm = opts.syntax === "llvm";
  const body = formatBody(insns, i, insn, llvm, opts);
  const text = body ?? `<unknown opcode 0x${hex2(insn.code)}>`;
  return llvm ? text : `(${hex2(insn.code)}) ${text}`;
}

/**
 * Disassemble a program: one line per instruction (lddw takes one line for its two slots),
 * `%4d: ` slot numbers, `labels` as `text:` and `lineInfo` as `; text` before their slot
 * (as `bpftool prog dump xlated` prints them).
 */
export function disassemble(insns: readonly Insn[], opts: DisasmOptions = {}): string[] {
  const lines: string[] = [];
  const before = new Map<number, string[]>();
  const add = (slot: number, line: string) => {
    const list = before.get(slot) ?? [];
    list.push(line);
    before.set(slot, list);
  };
  for (const l of opts.labels ?? []) add(l.insn, `${l.text}:`);
  for (const l of opts.lineInfo ?? []) add(l.insn, `; ${l.text}`);
  const to = Math.min(opts.to ?? insns.length, insns.length);
  for (let i = Math.max(0, opts.from ?? 0); i < to; i++) {
    lines.push(...(before.get(i) ?? []));
    lines.push(`${String(i).padStart(4)}: ${formatInsn(insns, i, opts)}`);
    if (insns[i]!.code === LDDW && i + 1 < insns.length) i++;
  }
  return lines;
}

function formatBody(
  insns: readonly Insn[],
  i: number,
  insn: Insn,
  llvm: boolean,
  opts: DisasmOptions,
): string | undefined {
  const { code, dst, src, off, imm } = insn;
  const cls = code & 0x07;
  const addr = (base: number): string =>
    llvm ? `r${base} ${off < 0 ? "-" : "+"} ${shex(Math.abs(off))}` : `r${base} ${plus(off)}`;
  const mem = (base: number): string => `(${addr(base)})`;
  const num = (n: number): string => (llvm ? shex(n) : String(n));
  const size = SIZES[code & 0x18]!;
  const mode = code & 0xe0;

  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      const op = code & 0xf0;
      const r = cls === BPF_ALU ? "w" : "r";
      const isX = (code & BPF_X) !== 0;
      if (op >= 0xe0) return undefined;
      if (op === BPF_END) {
        if (cls === BPF_ALU64) return isX ? undefined : `r${dst} = bswap${imm} r${dst}`;
        return `r${dst} = ${(code & 0x08) === BPF_TO_BE ? "be" : "le"}${imm} r${dst}`;
      }
      if (op === BPF_NEG) return isX ? undefined : `${r}${dst} = -${r}${dst}`;
      let opText = ALU_OPS[op >> 4]!;
      if ((op === 0x30 || op === 0x90) && off === 1) opText = `s${opText}`; // sdiv / smod (v4)
      if (op === BPF_MOV && isX && cls === BPF_ALU64 && off === BPF_ADDR_SPACE_CAST) {
        return `r${dst} = addr_space_cast(r${src}, ${imm >>> 16}, ${imm & 0xffff})`;
      }
      if (!isX) return `${r}${dst} ${opText} ${num(imm)}`;
      const sx = op === BPF_MOV && (off === 8 || off === 16 || off === 32) ? `(s${off})` : ""; // movsx (v4)
      return `${r}${dst} ${opText} ${sx}${r}${src}`;
    }

    case BPF_LDX:
      if (mode === BPF_MEM) return `r${dst} = *(u${size} *)${mem(src)}`;
      if (mode === BPF_MEMSX && size !== "64") return `r${dst} = *(s${size} *)${mem(src)}`;
      return undefined;

    case BPF_ST:
      return mode === BPF_MEM ? `*(u${size} *)${mem(dst)} = ${num(imm)}` : undefined;

    case BPF_STX:
      if (mode === BPF_MEM) return `*(u${size} *)${mem(dst)} = r${src}`;
      if (mode === BPF_ATOMIC) return formatAtomic(insn, size, addr(dst), llvm);
      return undefined;

    case BPF_LD:
      if (mode === BPF_ABS && size !== "64") return `r0 = *(u${size} *)skb[${num(imm)}]`;
      if (mode === BPF_IND && size !== "64") {
        return llvm && imm === 0
          ? `r0 = *(u${size} *)skb[r${src}]`
          : `r0 = *(u${size} *)skb[r${src} + ${num(imm)}]`;
      }
      if (code === LDDW) return formatLddw(insns, i, insn, llvm, opts);
      return undefined;

    case BPF_JMP:
    case BPF_JMP32: {
      const op = code & 0xf0;
      const isX = (code & BPF_X) !== 0;
      const target = llvm ? shex(off) : `pc${plus(off)}`;
      const jmpTarget = llvm ? (off < 0 ? shex(off) : `+${shex(off)}`) : target;
      if (op === BPF_JA) {
        if (cls === BPF_JMP32)
          return isX
            ? undefined
            : `gotol ${llvm ? (imm < 0 ? shex(imm) : `+${shex(imm)}`) : `pc${plus(imm)}`}`;
        return isX ? `gotox r${dst}` : `goto ${jmpTarget}`;
      }
      if (cls === BPF_JMP && op === BPF_CALL && !isX) return formatCall(i, insn, llvm, opts);
      if (cls === BPF_JMP && op === BPF_EXIT && !isX) return "exit";
      if (cls === BPF_JMP && op === BPF_JCOND && !isX && src === 0) return `may_goto ${jmpTarget}`;
      if (op === BPF_CALL || op === BPF_EXIT || op >= 0xe0) return undefined;
      const r = cls === BPF_JMP32 ? "w" : "r";
      const rhs = isX ? `${r}${src}` : llvm ? shex(imm) : `0x${(imm >>> 0).toString(16)}`;
      return `if ${r}${dst} ${JMP_OPS[op >> 4]} ${rhs} goto ${jmpTarget}`;
    }
  }
  return undefined;
}

function formatAtomic(insn: Insn, size: string, addr: string, llvm: boolean): string | undefined {
  const { src, imm } = insn;
  const at = `(${addr})`;
  if (imm === BPF_LOAD_ACQ)
    return `r${insn.dst} = load_acquire((u${size} *)(r${src} ${plus(insn.off)}))`;
  if (imm === BPF_STORE_REL) return `store_release((u${size} *)${at}, r${src})`;
  if (size !== "32" && size !== "64") return undefined;
  const alu = ATOMIC_ALU[imm & ~BPF_FETCH];
  if (alu !== undefined && (imm & BPF_FETCH) === 0)
    return `lock *(u${size} *)${at} ${ALU_OPS[imm >> 4]} r${src}`;
  if (llvm) {
    // LLVM names 32-bit operands w and spells xchg/cmpxchg as pseudo-functions.
    const r = size === "64" ? "r" : "w";
    const suffix = size === "64" ? "_64" : "32_32";
    if (alu !== undefined) return `${r}${src} = atomic_fetch_${alu}((u${size} *)${at}, ${r}${src})`;
    if (imm === BPF_XCHG) return `${r}${src} = xchg${suffix}(${addr}, ${r}${src})`;
    if (imm === BPF_CMPXCHG) return `${r}0 = cmpxchg${suffix}(${addr}, ${r}0, ${r}${src})`;
    return undefined;
  }
  const w = size === "64" ? "64" : "";
  if (alu !== undefined) return `r${src} = atomic${w}_fetch_${alu}((u${size} *)${at}, r${src})`;
  if (imm === BPF_XCHG) return `r${src} = atomic${w}_xchg((u${size} *)${at}, r${src})`;
  if (imm === BPF_CMPXCHG) return `r0 = atomic${w}_cmpxchg((u${size} *)${at}, r0, r${src})`;
  return undefined;
}

function formatLddw(
  insns: readonly Insn[],
  i: number,
  insn: Insn,
  llvm: boolean,
  opts: DisasmOptions,
): string {
  const next = insns[i + 1];
  const d = `r${insn.dst}`;
  if (!next) return `${d} = <lddw missing its second slot>`;
  const custom = opts.immForLoad?.(i);
  if (custom !== undefined) return `${d} = ${custom}`;
  const value = (BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
  switch (insn.src) {
    case 0:
      return llvm
        ? `${d} = ${shex(BigInt.asIntN(64, value))} ll`
        : `${d} = 0x${value.toString(16)}`;
    case BPF_PSEUDO_MAP_FD:
      return `${d} = map[fd:${insn.imm}]`;
    case BPF_PSEUDO_MAP_VALUE:
      return `${d} = map[fd:${insn.imm}][0]+${next.imm}`;
    case BPF_PSEUDO_MAP_IDX:
      return `${d} = map[idx:${insn.imm}]`;
    case BPF_PSEUDO_MAP_IDX_VALUE:
      return `${d} = map[idx:${insn.imm}][0]+${next.imm}`;
    case BPF_PSEUDO_BTF_ID:
      return `${d} = btf_id[${insn.imm}]`;
    case BPF_PSEUDO_FUNC:
      return `${d} = func pc${plus(insn.imm)}`;
    default:
      return `${d} = 0x${value.toString(16)} <lddw src ${insn.src}>`;
  }
}

function formatCall(i: number, insn: Insn, llvm: boolean, opts: DisasmOptions): string {
  const sym = opts.symbolForCall?.(i);
  if (llvm) return `call ${sym ?? shex(insn.imm)}`;
  switch (insn.src) {
    case 0: {
      const name = helperName(insn.imm);
      return `call ${sym ?? (name ? `bpf_${name}` : "unknown")}#${insn.imm}`;
    }
    case BPF_PSEUDO_CALL:
      return `call pc${plus(insn.imm)}${sym ? `#${sym}` : ""}`;
    case BPF_PSEUDO_KFUNC_CALL:
      return `call ${sym ?? "kernel-function"}#${insn.imm}`;
    default:
      return `call <src ${insn.src}>#${insn.imm}`;
  }
}
