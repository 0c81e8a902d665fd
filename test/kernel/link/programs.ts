// Hand-assembled programs for the attach tests: each counts its runs into slot 0 of an array
// map, optionally only for one process, optionally copies context words (probe arguments,
// return values) into further slots, and returns a fixed verdict. Loaded with progLoad, so the
// tests depend on nothing but the syscall layer.
import { MapType } from "../../../src/obj/consts.js";
import {
  asm,
  BPF_ADD,
  BPF_DW,
  BPF_JNE,
  BPF_RSH,
  encodeInsns,
  R0,
  R1,
  R6,
  type Insn,
} from "../../../src/obj/insn.js";
import { mapCreate, mapLookupElem, progLoad } from "../../../src/sys/bpf.js";
import type { FD } from "../../../src/sys/fd.js";
import { Helper, lookupKey } from "../../support/programs.js";

export interface TestProgram extends Disposable {
  readonly fd: number;
  readonly name: string;
  readonly type: number;
  /** slot `key` of the counter map (slot 0: runs) */
  read(key?: number): bigint;
  close(): void;
}

export interface CountingOptions {
  type: number;
  name: string;
  /** value in r0 at exit (XDP_PASS = 2, TC_ACT_OK = 0, keep-all socket filter = -1 …) */
  ret: number;
  expectedAttachType?: number;
  attachBtfId?: number;
  /** count only runs in this process (tgid) */
  tgid?: number;
  /** copy the u64 at ctx+ctxOff into slot `key` on every counted run */
  record?: { key: number; ctxOff: number }[];
}

export function countingProgram(o: CountingOptions): TestProgram {
  const map: FD = mapCreate({
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 8,
    maxEntries: 8,
    name: "counts",
  });
  const mfd = map.fd;
  const body: Insn[] = [asm.mov64Reg(R6, R1)];
  const tail: Insn[] = [asm.mov64Imm(R0, o.ret), asm.exit()];
  const rest: Insn[] = [];
  rest.push(...lookupKey(mfd, 0, 2), asm.mov64Imm(R1, 1), asm.atomic(BPF_DW, R0, R1, 0, BPF_ADD));
  for (const r of o.record ?? [])
    rest.push(
      ...lookupKey(mfd, r.key, 2),
      asm.ldx(BPF_DW, R1, R6, r.ctxOff),
      asm.stx(BPF_DW, R0, R1, 0),
    );
  if (o.tgid !== undefined) {
    body.push(
      asm.call(Helper.GET_CURRENT_PID_TGID),
      asm.alu64Imm(BPF_RSH, R0, 32),
      asm.jmpImm(BPF_JNE, R0, o.tgid, rest.length),
    );
  }
  const insns = [...body, ...rest, ...tail];
  let prog;
  try {
    prog = progLoad({
      type: o.type,
      insns: encodeInsns(insns),
      license: "GPL",
      name: o.name,
      ...(o.expectedAttachType !== undefined && { expectedAttachType: o.expectedAttachType }),
      ...(o.attachBtfId !== undefined && { attachBtfId: o.attachBtfId }),
    });
  } catch (e) {
    map.close();
    throw e;
  }
  const fd = prog.fd;
  const value = new Uint8Array(8);
  const key = new Uint8Array(4);
  const t: TestProgram = {
    get fd() {
      return fd.fd;
    },
    name: o.name,
    type: o.type,
    read(k = 0) {
      new DataView(key.buffer).setUint32(0, k, true);
      mapLookupElem(mfd, key, value);
      return new DataView(value.buffer).getBigUint64(0, true);
    },
    close() {
      fd.close();
      map.close();
    },
    [Symbol.dispose]() {
      t.close();
    },
  };
  return t;
}
