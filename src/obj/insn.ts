// eBPF instructions (RFC 9669): the 8-byte slot encoding, opcode constants and builders.
// Pure data; shared by the compiler (emission), the loader (relocation) and the disassembler.
//
// One `Insn` is one 8-byte slot. `lddw` (BPF_LD | BPF_IMM | BPF_DW) spans two slots: the
// first carries the low 32 bits of the immediate, the second (opcode 0) the high 32 bits.
// Keeping slots (not "logical" instructions) means jump offsets and BTF.ext/relocation
// offsets index this array directly, exactly as the kernel counts them.

export interface Insn {
  /** opcode byte: class | size/mode | source | operation */
  code: number;
  /** destination register 0..10 */
  dst: number;
  /** source register 0..10 (or a pseudo value for lddw/call) */
  src: number;
  /** signed 16-bit offset */
  off: number;
  /** signed 32-bit immediate */
  imm: number;
}

export const INSN_SIZE = 8;

// Instruction classes (low 3 bits).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// Load/store size (bits 3-4) and mode (bits 5-7).
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

// Source operand (bit 3) for ALU/JMP.
export const BPF_K = 0x00;
export const BPF_X = 0x08;

// ALU operations (bits 4-7).
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

// Jump operations (bits 4-7).
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;

// Byte swap direction (BPF_END, in the source bit).
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

// Atomic operations (imm field of BPF_ATOMIC).
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;

// Pseudo source registers.
export const BPF_PSEUDO_MAP_FD = 1; // lddw: imm = map fd
export const BPF_PSEUDO_MAP_VALUE = 2; // lddw: imm = map fd, imm2 = offset in value
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4; // lddw: address of a subprogram (callbacks)
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;
export const BPF_PSEUDO_CALL = 1; // call: imm = pc-relative offset of a bpf function
export const BPF_PSEUDO_KFUNC_CALL = 2; // call: imm = BTF id of a kernel function

export const LDDW = BPF_LD | BPF_IMM | BPF_DW; // 0x18

export const R0 = 0,
  R1 = 1,
  R2 = 2,
  R3 = 3,
  R4 = 4,
  R5 = 5,
  R6 = 6,
  R7 = 7,
  R8 = 8,
  R9 = 9,
  R10 = 10;

export const insnClass = (code: number): number => code & 0x07;
export const isWide = (i: Insn): boolean => i.code === LDDW;
export const isCall = (i: Insn): boolean => i.code === (BPF_JMP | BPF_CALL);
export const isPseudoCall = (i: Insn): boolean => isCall(i) && i.src === BPF_PSEUDO_CALL;
export const isExit = (i: Insn): boolean => i.code === (BPF_JMP | BPF_EXIT);

/** Encode slots little-endian into a new buffer. */
export function encodeInsns(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * INSN_SIZE);
  const dv = new DataView(out.buffer);
  insns.forEach((i, n) => {
    const o = n * INSN_SIZE;
    dv.setUint8(o, i.code & 0xff);
    dv.setUint8(o + 1, ((i.src & 0x0f) << 4) | (i.dst & 0x0f));
    dv.setInt16(o + 2, i.off, true);
    dv.setInt32(o + 4, i.imm | 0, true);
  });
  return out;
}

/** Decode little-endian slots. `bytes.length` must be a multiple of 8 (extra bytes ignored). */
export function decodeInsns(bytes: Uint8Array): Insn[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Math.floor(bytes.byteLength / INSN_SIZE);
  const out: Insn[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const o = k * INSN_SIZE;
    const regs = dv.getUint8(o + 1);
    out[k] = {
      code: dv.getUint8(o),
      dst: regs & 0x0f,
      src: regs >> 4,
      off: dv.getInt16(o + 2, true),
      imm: dv.getInt32(o + 4, true),
    };
  }
  return out;
}

/** The 64-bit immediate of an lddw pair (as an unsigned bigint). */
export function wideImm(lo: Insn, hi: Insn): bigint {
  return (BigInt(hi.imm >>> 0) << 32n) | BigInt(lo.imm >>> 0);
}

// ---- Builders: small, obvious constructors used by the compiler and tests. ----

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

export const asm = {
  alu64Imm: (op: number, dst: number, imm: number) => I(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm),
  alu64Reg: (op: number, dst: number, src: number) => I(BPF_ALU64 | op | BPF_X, dst, src),
  alu32Imm: (op: number, dst: number, imm: number) => I(BPF_ALU | op | BPF_K, dst, 0, 0, imm),
  alu32Reg: (op: number, dst: number, src: number) => I(BPF_ALU | op | BPF_X, dst, src),
  mov64Imm: (dst: number, imm: number) => I(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm),
  mov64Reg: (dst: number, src: number) => I(BPF_ALU64 | BPF_MOV | BPF_X, dst, src),
  mov32Imm: (dst: number, imm: number) => I(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm),
  mov32Reg: (dst: number, src: number) => I(BPF_ALU | BPF_MOV | BPF_X, dst, src),
  neg64: (dst: number) => I(BPF_ALU64 | BPF_NEG, dst),
  /** byte swap: `toBe` selects htobe/be-to-host (BPF_TO_BE), `bits` 16/32/64 */
  endian: (dst: number, bits: 16 | 32 | 64, toBe: boolean) =>
    I(BPF_ALU | BPF_END | (toBe ? BPF_TO_BE : BPF_TO_LE), dst, 0, 0, bits),
  /** Two slots: dst = imm64. */
  lddw: (dst: number, imm: bigint, src = 0): [Insn, Insn] => {
    const v = BigInt.asUintN(64, imm);
    return [
      I(LDDW, dst, src, 0, Number(BigInt.asIntN(32, v & 0xffffffffn))),
      I(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))),
    ];
  },
  /** Two slots: dst = map (fd patched by the loader via relocation). */
  ldMapFd: (dst: number, fd = 0): [Insn, Insn] => [I(LDDW, dst, BPF_PSEUDO_MAP_FD, 0, fd), I(0)],
  /** Two slots: dst = &map_value[off] for global data sections. */
  ldMapValue: (dst: number, fd: number, off: number): [Insn, Insn] => [
    I(LDDW, dst, BPF_PSEUDO_MAP_VALUE, 0, fd),
    I(0, 0, 0, 0, off),
  ],
  ldx: (size: number, dst: number, src: number, off: number) =>
    I(BPF_LDX | BPF_MEM | size, dst, src, off),
  stx: (size: number, dst: number, src: number, off: number) =>
    I(BPF_STX | BPF_MEM | size, dst, src, off),
  st: (size: number, dst: number, off: number, imm: number) =>
    I(BPF_ST | BPF_MEM | size, dst, 0, off, imm),
  atomic: (size: number, dst: number, src: number, off: number, op: number) =>
    I(BPF_STX | BPF_ATOMIC | size, dst, src, off, op),
  /** legacy packet loads for socket filters: r0 = ntoh(skb[imm]) */
  ldAbs: (size: number, imm: number) => I(BPF_LD | BPF_ABS | size, 0, 0, 0, imm),
  ja: (off: number) => I(BPF_JMP | BPF_JA, 0, 0, off),
  jmpImm: (op: number, dst: number, imm: number, off: number) =>
    I(BPF_JMP | op | BPF_K, dst, 0, off, imm),
  jmpReg: (op: number, dst: number, src: number, off: number) =>
    I(BPF_JMP | op | BPF_X, dst, src, off),
  jmp32Imm: (op: number, dst: number, imm: number, off: number) =>
    I(BPF_JMP32 | op | BPF_K, dst, 0, off, imm),
  jmp32Reg: (op: number, dst: number, src: number, off: number) =>
    I(BPF_JMP32 | op | BPF_X, dst, src, off),
  call: (helper: number) => I(BPF_JMP | BPF_CALL, 0, 0, 0, helper),
  /** bpf-to-bpf call, imm = target slot - (this slot + 1) */
  callLocal: (rel: number) => I(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, rel),
  exit: () => I(BPF_JMP | BPF_EXIT),
};
