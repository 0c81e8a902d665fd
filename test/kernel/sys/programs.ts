// Tiny hand-assembled programs for kernel tests of the syscall layer.
import {
  asm,
  encodeInsns,
  BPF_ADD,
  BPF_DW,
  BPF_JEQ,
  BPF_W,
  R0,
  R1,
  R2,
  R3,
  R4,
  R10,
} from "../../../src/obj/insn.js";
import { ProgType } from "../../../src/obj/consts.js";
import { progLoad } from "../../../src/sys/bpf.js";
import type { FD } from "../../../src/sys/fd.js";

const MAP_LOOKUP_ELEM = 1;

/** `counts[0] += 1; return 0;` over an ARRAY map with u32 keys and u64 values. */
export function counterInsns(mapFd: number): Uint8Array {
  return encodeInsns([
    asm.st(BPF_W, R10, -4, 0),
    asm.mov64Reg(R2, R10),
    asm.alu64Imm(BPF_ADD, R2, -4),
    ...asm.ldMapFd(R1, mapFd),
    asm.call(MAP_LOOKUP_ELEM),
    asm.jmpImm(BPF_JEQ, R0, 0, 2),
    asm.mov64Imm(R1, 1),
    asm.atomic(BPF_DW, R0, R1, 0, BPF_ADD),
    asm.mov64Imm(R0, 0),
    asm.exit(),
  ]);
}

export function loadCounter(
  mapFd: number,
  type: number = ProgType.SOCKET_FILTER,
  name = "counter",
): FD {
  return progLoad({ type, insns: counterInsns(mapFd), license: "GPL", name }).fd;
}

const RINGBUF_OUTPUT = 130;

/** `u64 v = <counter>; bpf_ringbuf_output(map, &v, 8, 0); return 0;` with v = r1 on entry. */
export function ringbufOutputInsns(mapFd: number, value: number): Uint8Array {
  return encodeInsns([
    asm.st(BPF_DW, R10, -8, value),
    ...asm.ldMapFd(R1, mapFd),
    asm.mov64Reg(R2, R10),
    asm.alu64Imm(BPF_ADD, R2, -8),
    asm.mov64Imm(R3, 8),
    asm.mov64Imm(R4, 0),
    asm.call(RINGBUF_OUTPUT),
    asm.mov64Imm(R0, 0),
    asm.exit(),
  ]);
}

/** `return imm;` */
export function returnInsns(imm: number): Uint8Array {
  return encodeInsns([asm.mov64Imm(R0, imm), asm.exit()]);
}
