// Whether BPF_PROG_TEST_RUN shows a cgroup_skb program its packet through direct packet
// access. Until a mid-2025 kernel fix (6.1 and 6.12 lack it, 6.18 has it) the test run set
// skb data pointers only for TC and LWT programs, so a cgroup_skb program saw `data_end` = 0 and every bounds check failed (the
// packet looked empty), while a real cgroup ingress/egress run computes them. Tests that
// judge packet parsing in cgroup_skb programs by test runs ask this first, and prove the
// same probe on a real cgroup where the answer is no (cgroup-skb.test.ts).
import {
  asm,
  encodeInsns,
  BPF_ADD,
  BPF_JGT,
  BPF_W,
  R0,
  R1,
  R2,
  R3,
} from "../../../src/obj/insn.js";
import { AttachType, ProgType } from "../../../src/obj/consts.js";
import { progLoad, progTestRun } from "../../../src/sys/bpf.js";

let answer: boolean | undefined;

/** `return data + 1 <= data_end` for a cgroup_skb program, under a test run of 64 bytes. */
export function cgroupSkbTestRunSeesPacket(): boolean {
  if (answer !== undefined) return answer;
  const insns = encodeInsns([
    asm.ldx(BPF_W, R2, R1, 76), // skb->data
    asm.ldx(BPF_W, R3, R1, 80), // skb->data_end
    asm.alu64Imm(BPF_ADD, R2, 1),
    asm.mov64Imm(R0, 0),
    asm.jmpReg(BPF_JGT, R2, R3, 1),
    asm.mov64Imm(R0, 1),
    asm.exit(),
  ]);
  using fd = progLoad({
    type: ProgType.CGROUP_SKB,
    insns,
    license: "GPL",
    name: "cg_sees_pkt",
    expectedAttachType: AttachType.CGROUP_INET_INGRESS,
  }).fd;
  const frame = new Uint8Array(64);
  frame.set([0x08, 0x00], 12); // EtherType IPv4; the kernel strips the Ethernet header
  frame[14] = 0x45;
  answer = progTestRun({ progFd: fd.fd, dataIn: frame }).retval === 1;
  return answer;
}
