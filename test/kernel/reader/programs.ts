// Hand-assembled XDP programs that emit a known 16-byte record per run, for reader tests.
// Record: u64 MAGIC, u64 seq — seq comes from an atomic counter in an ARRAY map, so a test
// can tell exactly which runs produced which events (and which were dropped).
import { spawnSync } from "node:child_process";
import {
  asm,
  encodeInsns,
  BPF_ADD,
  BPF_DW,
  BPF_FETCH,
  R0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6,
  R7,
  R10,
  type Insn,
} from "../../../src/obj/insn.js";
import { MapType, ProgType } from "../../../src/obj/consts.js";
import { mapCreate, mapLookupElem, progLoad, progTestRun } from "../../../src/sys/bpf.js";
import type { FD } from "../../../src/sys/fd.js";
import { Helper, lookupKey } from "../../support/programs.js";

export const MAGIC = 0x7473627066ee01n; // "tsbpf" + a marker
const XDP_PASS = 2;

/** A map with the fields the readers look at. */
export interface TestMap {
  fd: FD;
  maxEntries: number;
  name: string;
  type: number;
}

export function ringbufMap(name: string, size: number): TestMap {
  const type = MapType.RINGBUF;
  return {
    fd: mapCreate({ type, keySize: 0, valueSize: 0, maxEntries: size, name }),
    maxEntries: size,
    name,
    type,
  };
}

export function perfArrayMap(name: string, cpus: number): TestMap {
  const type = MapType.PERF_EVENT_ARRAY;
  const fd = mapCreate({ type, keySize: 4, valueSize: 4, maxEntries: cpus, name });
  return { fd, maxEntries: cpus, name, type };
}

/** An XDP program and its sequence counter. */
export class Emitter {
  private constructor(
    readonly prog: FD,
    private readonly counter: FD,
  ) {}

  /**
   * A program that outputs one record per run to `out` (ring buffer or perf event array):
   * u64 MAGIC, u64 seq, and with `size` 24 another u64 MAGIC.
   */
  static create(out: TestMap, size: 16 | 24 = 16): Emitter {
    const counter = mapCreate({
      type: MapType.ARRAY,
      keySize: 4,
      valueSize: 16, // u64 seq, s64 result of the last output helper call
      maxEntries: 1,
      name: "seq",
    });
    try {
      const base = -size;
      const output: Insn[] =
        out.type === MapType.RINGBUF
          ? [
              ...asm.ldMapFd(R1, out.fd.fd),
              asm.mov64Reg(R2, R10),
              asm.alu64Imm(BPF_ADD, R2, base),
              asm.mov64Imm(R3, size),
              asm.mov64Imm(R4, 0),
              asm.call(Helper.RINGBUF_OUTPUT),
            ]
          : [
              asm.mov64Reg(R1, R6),
              ...asm.ldMapFd(R2, out.fd.fd),
              asm.mov32Imm(R3, -1), // BPF_F_CURRENT_CPU (0xffffffff), zero-extended
              asm.mov64Reg(R4, R10),
              asm.alu64Imm(BPF_ADD, R4, base),
              asm.mov64Imm(R5, size),
              asm.call(Helper.PERF_EVENT_OUTPUT),
            ];
      const body: Insn[] = [
        asm.mov64Reg(R7, R0), // keep the counter pointer across the helper call
        asm.mov64Imm(R1, 1),
        asm.atomic(BPF_DW, R0, R1, 0, BPF_ADD | BPF_FETCH), // r1 = seq++
        asm.stx(BPF_DW, R10, R1, base + 8),
        ...asm.lddw(R1, MAGIC),
        asm.stx(BPF_DW, R10, R1, base),
        ...(size === 24 ? [asm.stx(BPF_DW, R10, R1, base + 16)] : []),
        ...output,
        asm.stx(BPF_DW, R7, R0, 8),
      ];
      const insns: Insn[] = [
        asm.mov64Reg(R6, R1),
        ...lookupKey(counter.fd, 0, body.length),
        ...body,
        asm.mov64Imm(R0, XDP_PASS),
        asm.exit(),
      ];
      const { fd } = progLoad({
        type: ProgType.XDP,
        insns: encodeInsns(insns),
        license: "GPL",
        name: "emit",
      });
      return new Emitter(fd, counter);
    } catch (e) {
      counter.close();
      throw e;
    }
  }

  /** Run the program `times` times (BPF_PROG_TEST_RUN repeat) on a 64-byte packet. */
  run(times: number): void {
    progTestRun({ progFd: this.prog.fd, dataIn: new Uint8Array(64), repeat: times });
  }

  /** How many records the program tried to output so far. */
  sent(): number {
    return Number(this.counterValue().getBigUint64(0, true));
  }

  /** What the output helper returned on the last run (0, or -errno). */
  lastResult(): number {
    return Number(this.counterValue().getBigInt64(8, true));
  }

  private counterValue(): DataView {
    const v = new Uint8Array(16);
    mapLookupElem(this.counter.fd, new Uint8Array(4), v);
    return new DataView(v.buffer);
  }

  close(): void {
    this.prog.close();
    this.counter.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Decode a record's magic and seq (perf samples carry 4 padding bytes at the end). */
export function decodeRecord(e: Uint8Array): { magic: bigint; seq: number } {
  const dv = new DataView(e.buffer, e.byteOffset, e.byteLength);
  return { magic: dv.getBigUint64(0, true), seq: Number(dv.getBigUint64(8, true)) };
}

/**
 * Pin this process's main thread (the one that makes BPF_PROG_TEST_RUN calls) to `cpu`, so
 * BPF_F_CURRENT_CPU picks the same perf ring on every run. Returns the undo. Uses taskset
 * (util-linux): Node has no sched_setaffinity, and `taskset -p` on the pid changes only the
 * main thread.
 */
export function pinMainThread(cpu: number): () => void {
  const run = (args: string[]): string => {
    const r = spawnSync("taskset", args, { encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(`taskset ${args.join(" ")} failed: ${r.error?.message ?? r.stderr}`);
    }
    return r.stdout;
  };
  const pid = String(process.pid);
  const before = /:\s*([0-9a-f]+)\s*$/i.exec(run(["-p", pid]))?.[1];
  if (before === undefined) throw new Error("taskset -p printed no affinity mask");
  run(["-pc", String(cpu), pid]);
  return () => void run(["-p", before, pid]);
}
