// The ring buffer bench's wire format (bench/c/ringbuf_bench.h) as a tsbpf/types struct, and
// the consumer's per-event work: decode every field, check it, sum `value` — the same work
// on_event() does in ringbuf_consume.c, so the two consumers are compared like for like.
import type { RecordBatch } from "tsbpf";
import { DecodeError, struct, u32, u64, type Infer } from "tsbpf/types";

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
 * What a consumer of the bench stream reports; `onRecord` goes to RingBufReader.consume,
 * `onBatch` takes RingBufReader.readRecords batches.
 */
export interface EventSink {
  readonly onRecord: (view: DataView, offset: number, length: number) => void;
  onBatch(b: RecordBatch): void;
  readonly consumed: number;
  readonly bad: number;
  /** Σ value wrapping at 2⁶⁴; undefined when the sink does not read the records */
  readonly checksum: bigint | undefined;
}

/** How the JS consumer reads each record. */
export type DecodeVariant = "compiled" | "view" | "struct" | "dataview" | "none";

/** How the JS consumer gets records: RingBufReader.readRecords batches or consume(callback). */
export type ReadApi = "records" | "callback";

export function makeSink(variant: DecodeVariant): EventSink {
  switch (variant) {
    case "compiled":
      return new CompiledChecker();
    case "view":
      return new ViewChecker();
    case "struct":
      return new EventChecker();
    case "dataview":
      return new DataViewChecker();
    case "none":
      return new Counter();
  }
}

/**
 * The measured decoder: BenchEvent's compiled decoder, a plain object per event with every
 * field read from the ring through typed arrays, 64-bit fields as exact numbers.
 */
const eventDecoder = BenchEvent.decoder({ int64: "number" });

/**
 * Checks the stream as on_event() does, each record decoded by `BenchEvent.decoder()` into a
 * plain object (what a user who keeps events gets). Fields outside ±2^53 would throw, not
 * round, and count as bad records.
 */
export class CompiledChecker implements EventSink {
  next = 0;
  consumed = 0;
  cpus = 0;
  bad = 0;
  private sum = 0;
  private big = 0n;

  readonly onRecord = (view: DataView, offset: number, length: number): void => {
    try {
      this.check(eventDecoder.at(view, offset), length);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.bad++;
      this.next++;
      this.consumed++;
    }
  };

  onBatch(b: RecordBatch): void {
    const { view, offsets, lengths, count } = b;
    const at = eventDecoder.at;
    // The checks written out in the loop, as a user's handler would be: the decoded object
    // then never leaves this function and V8 need not allocate it at all (through a method
    // call it did: ~50 bytes per event, 3 MB per batch, 3× slower on fresh ring memory).
    let { next, bad, sum, cpus } = this;
    let i = 0;
    try {
      for (; i < count; i++) {
        const e = at(view, offsets[i]!);
        const seq = e.seq;
        const value = e.value;
        if (
          lengths[i] !== BenchEvent.size ||
          seq !== next ||
          value !== seq * 3 ||
          e.magic !== BENCH_MAGIC ||
          e.pad !== 0
        )
          bad++;
        const s = sum + value;
        if (s <= Number.MAX_SAFE_INTEGER) sum = s;
        else {
          this.big += BigInt(sum) + BigInt(value);
          sum = 0;
        }
        cpus |= 1 << (e.cpu % 32);
        next = seq + 1;
      }
    } catch (e) {
      // A 64-bit field past 2^53: not this protocol's record; counted bad, as in C.
      if (!(e instanceof DecodeError)) throw e;
      bad++;
      next++;
      i++;
    } finally {
      this.consumed += i;
      this.next = next;
      this.bad = bad;
      this.sum = sum;
      this.cpus = cpus;
    }
    if (i < count)
      this.onBatch({
        ...b,
        count: count - i,
        offsets: offsets.subarray(i),
        lengths: lengths.subarray(i),
      });
  }

  private check(
    e: { seq: number; value: number; cpu: number; magic: number; pad: number },
    length: number,
  ): void {
    const seq = e.seq;
    const value = e.value;
    if (
      length !== BenchEvent.size ||
      seq !== this.next ||
      value !== seq * 3 ||
      e.magic !== BENCH_MAGIC ||
      e.pad !== 0
    )
      this.bad++;
    const s = this.sum + value;
    if (s <= Number.MAX_SAFE_INTEGER) this.sum = s;
    else {
      this.big += BigInt(this.sum) + BigInt(value);
      this.sum = 0;
    }
    this.cpus |= 1 << (e.cpu % 32);
    this.next = seq + 1;
    this.consumed++;
  }

  get checksum(): bigint {
    return BigInt.asUintN(64, this.big + BigInt(this.sum));
  }
}

/** The zero-allocation struct view: BenchEvent read in place, 64-bit fields as exact numbers. */
const eventView = BenchEvent.view({ int64: "number" });

/**
 * Checks the stream of events as ringbuf_consume.c's on_event() does. `onRecord` is the
 * callback handed to RingBufReader.consume; it reads every field of each record through
 * `BenchEvent.view({ int64: "number" })` — the zero-allocation path tsbpf/types offers a
 * user — and is the measured variant. Fields outside ±2^53 would throw, not round; `3 * seq`
 * is exact while seq < 2^51, far beyond any run's event count.
 */
export class ViewChecker implements EventSink {
  /** seq the next record must carry */
  next = 0;
  consumed = 0;
  cpus = 0;
  bad = 0;
  /** Σ value: exact in `sum` while it stays a safe integer, spilled to `big` beyond */
  private sum = 0;
  private big = 0n;

  readonly onRecord = (view: DataView, offset: number, length: number): void => {
    try {
      this.check(view, offset, length);
    } catch (e) {
      // A 64-bit field past 2^53 cannot be this protocol's; the C side counts it bad too.
      if (!(e instanceof DecodeError)) throw e;
      this.bad++;
      this.next++;
      this.consumed++;
    }
  };

  onBatch(b: RecordBatch): void {
    const { view, offsets, lengths, count } = b;
    for (let i = 0; i < count; i++) this.onRecord(view, offsets[i]!, lengths[i]!);
  }

  private check(view: DataView, offset: number, length: number): void {
    const e = eventView.at(view, offset);
    const seq = e.seq;
    const value = e.value;
    if (
      length !== BenchEvent.size ||
      seq !== this.next ||
      value !== seq * 3 ||
      e.magic !== BENCH_MAGIC ||
      e.pad !== 0
    )
      this.bad++;
    const s = this.sum + value;
    if (s <= Number.MAX_SAFE_INTEGER) this.sum = s;
    else {
      this.big += BigInt(this.sum) + BigInt(value);
      this.sum = 0;
    }
    this.cpus |= 1 << (e.cpu % 32);
    this.next = seq + 1;
    this.consumed++;
  }

  get checksum(): bigint {
    return BigInt.asUintN(64, this.big + BigInt(this.sum));
  }
}

/**
 * The same checks through `BenchEvent.decodeFrom`: a fresh object and two BigInts per event
 * (the allocating decode). Diagnostic: what the view saves.
 */
export class EventChecker implements EventSink {
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

  onBatch(b: RecordBatch): void {
    for (let i = 0; i < b.count; i++) this.onRecord(b.view, b.offsets[i]!, b.lengths[i]!);
  }

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

const TWO32 = 2 ** 32;

/**
 * The same checks with hand-written DataView reads of 32-bit halves: no BigInt, no object
 * per event. Diagnostic only — it shows what the struct decode's BigInts cost.
 */
export class DataViewChecker implements EventSink {
  private next = 0;
  consumed = 0;
  bad = 0;
  private lo = 0;
  private hi = 0;
  cpus = 0;

  readonly onRecord = (view: DataView, o: number, length: number): void => {
    const seq = view.getUint32(o + 4, true) * TWO32 + view.getUint32(o, true);
    const vLo = view.getUint32(o + 8, true);
    const vHi = view.getUint32(o + 12, true);
    if (
      length !== BenchEvent.size ||
      seq !== this.next ||
      vHi * TWO32 + vLo !== seq * 3 ||
      view.getUint32(o + 20, true) !== BENCH_MAGIC ||
      view.getUint32(o + 24, true) !== 0 ||
      view.getUint32(o + 28, true) !== 0
    )
      this.bad++;
    // Σ value as two 32-bit halves with carry (exact, wraps at 2⁶⁴ like the C side).
    this.lo += vLo;
    this.hi += vHi;
    if (this.lo >= TWO32) {
      this.lo -= TWO32;
      this.hi++;
    }
    this.cpus |= 1 << (view.getUint32(o + 16, true) % 32);
    this.next = seq + 1;
    this.consumed++;
  };

  onBatch(b: RecordBatch): void {
    for (let i = 0; i < b.count; i++) this.onRecord(b.view, b.offsets[i]!, b.lengths[i]!);
  }

  get checksum(): bigint {
    return BigInt.asUintN(64, (BigInt(this.hi) << 32n) + BigInt(this.lo));
  }
}

/** Counts records without reading them: the reader's own cost per event. Diagnostic only. */
export class Counter implements EventSink {
  consumed = 0;
  readonly bad = 0;
  readonly onRecord = (): void => {
    this.consumed++;
  };

  onBatch(b: RecordBatch): void {
    this.consumed += b.count;
  }

  readonly checksum = undefined;
}
