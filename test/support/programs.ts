// Hand-assembled building blocks for kernel tests that need a program but not the compiler:
// loaded with progLoad, they depend on nothing but the syscall layer.
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
  type Insn,
} from "../../src/obj/insn.js";
import { ProgType } from "../../src/obj/consts.js";
import { progLoad } from "../../src/sys/bpf.js";
import type { FD } from "../../src/sys/fd.js";

/** Helper ids (enum bpf_func_id) the test programs call. */
export const Helper = {
  MAP_LOOKUP_ELEM: 1,
  GET_CURRENT_PID_TGID: 14,
  PERF_EVENT_OUTPUT: 25,
  RINGBUF_OUTPUT: 130,
} as const;

/**
 * `r0 = bpf_map_lookup_elem(mapFd, &(u32){key})`, then skip `skip` insns when r0 is null.
 * Uses the stack slot at r10-4 and clobbers r1-r5.
 */
export function lookupKey(mapFd: number, key: number, skip: number): Insn[] {
  return [
    asm.st(BPF_W, R10, -4, key),
    asm.mov64Reg(R2, R10),
    asm.alu64Imm(BPF_ADD, R2, -4),
    ...asm.ldMapFd(R1, mapFd),
    asm.call(Helper.MAP_LOOKUP_ELEM),
    asm.jmpImm(BPF_JEQ, R0, 0, skip),
  ];
}

/** `counts[0] += 1; return 0;` over an ARRAY map with u32 keys and u64 values. */
export function counterInsns(mapFd: number): Uint8Array {
  return encodeInsns([
    ...lookupKey(mapFd, 0, 2),
    asm.mov64Imm(R1, 1),
    asm.atomic(BPF_DW, R0, R1, 0, BPF_ADD),
    asm.mov64Imm(R0, 0),
    asm.exit(),
  ]);
}

/** Load counterInsns as a `type` program (a socket filter unless told). */
export function loadCounter(
  mapFd: number,
  type: number = ProgType.SOCKET_FILTER,
  name = "counter",
): FD {
  return progLoad({ type, insns: counterInsns(mapFd), license: "GPL", name }).fd;
}

/** `u64 v = value; bpf_ringbuf_output(map, &v, 8, 0); return 0;` */
export function ringbufOutputInsns(mapFd: number, value: number): Uint8Array {
  return encodeInsns([
    asm.st(BPF_DW, R10, -8, value),
    ...asm.ldMapFd(R1, mapFd),
    asm.mov64Reg(R2, R10),
    asm.alu64Imm(BPF_ADD, R2, -8),
    asm.mov64Imm(R3, 8),
    asm.mov64Imm(R4, 0),
    asm.call(Helper.RINGBUF_OUTPUT),
    asm.mov64Imm(R0, 0),
    asm.exit(),
  ]);
}

/** `return imm;` */
export function returnInsns(imm: number): Uint8Array {
  return encodeInsns([asm.mov64Imm(R0, imm), asm.exit()]);
}
