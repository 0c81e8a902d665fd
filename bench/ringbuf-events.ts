// The ring buffer bench's wire format (bench/c/ringbuf_bench.h) as a tsbpf/types struct, and
// the consumer's per-event work: decode every field, check it, sum `value` — the same work
// on_event() does in ringbuf_consume.c, so the two consumers are compared like for like.
import { struct, u32, u64, type Infer } from "tsbpf/types";

/** struct bench_event (32 bytes). */
export const BenchEvent = struct("bench_event", {
  seq: u64,
  value: u64,
  cpu: u32,
  magic: u32,
  pad: u64,
});
export type BenchEvent = Infer<typeof BenchEvent>;

export const BENCH_MAGIC = 0x7b5b3b1b;

/** struct bench_args, the BPF_PROG_TEST_RUN ctx_in of `produce` (16 bytes). */
export const BenchArgs = struct("bench_args", { count: u32, submit_flags: u32, seq_start: u64 });

/** bpf_ringbuf_submit flags */
export const ADAPTIVE_WAKEUP = 0;
export const BPF_RB_NO_WAKEUP = 1;

/** Bytes one event occupies in the ring: 8-byte record header + the 32-byte record. */
export const RECORD_FOOTPRINT = 8 + BenchEvent.size;

/**
 * Checks the stream of events as ringbuf_consume.c's on_event() does. `onRecord` is the
 * callback handed to RingBufReader.consume; it decodes each record through BenchEvent.
 */
export class EventChecker {
  /** seq the next record must carry */
  next = 0n;
  consumed = 0;
  /** Σ value, wrapping at 2⁶⁴ (BigInt.asUintN is applied when read) */
  private sum = 0n;
  /** bit (cpu % 32) for every producer CPU seen */
  cpus = 0;
  /** records whose fields did not match the protocol */
  bad = 0;

  readonly onRecord = (view: DataView, offset: number, length: number): void => {
    const e = BenchEvent.decodeFrom(view, offset);
    if (
      length !== BenchEvent.size ||
      e.seq !== this.next ||
      e.value !== e.seq * 3n ||
      e.magic !== BENCH_MAGIC ||
      e.pad !== 0n
    )
      this.bad++;
    this.sum += e.value;
    this.cpus |= 1 << (e.cpu % 32);
    this.next = e.seq + 1n;
    this.consumed++;
  };

  get checksum(): bigint {
    return BigInt.asUintN(64, this.sum);
  }

  reset(): void {
    this.next = 0n;
    this.consumed = 0;
    this.sum = 0n;
    this.cpus = 0;
    this.bad = 0;
  }
}

/** The 16 ctx bytes of one `produce` run. */
export function encodeArgs(out: Uint8Array, count: number, flags: number, seqStart: number): void {
  BenchArgs.encode({ count, submit_flags: flags, seq_start: BigInt(seqStart) }, out);
}
