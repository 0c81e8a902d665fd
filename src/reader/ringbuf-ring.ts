// The consumer side of a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) over memory laid out the way
// the kernel maps it. Pure: no syscalls, so tests drive it with synthetic ArrayBuffers.
//
// Kernel layout (kernel/bpf/ringbuf.c, as seen through mmap of the map fd):
//   offset 0          consumer page, read-write: u64 consumer_pos at offset 0
//   offset page       producer page, read-only:  u64 producer_pos at offset 0
//   offset 2 * page   data area of `size` bytes (a power of two), mapped TWICE back to back,
//                     so a record that wraps past the end is still contiguous in memory.
// Positions are free-running byte counters; `pos & (size - 1)` is the offset in the data area.
// Each record: u32 len (bit 31 BUSY: reserved, not yet committed; bit 30 DISCARD), u32 pgoff
// (kernel-internal), then `len` bytes, the whole rounded up to 8 bytes.
//
// Memory ordering. The producer writes a record, then publishes it by clearing BUSY in the
// header with a release store; producer_pos is advanced (release) when space is reserved.
// We must read producer_pos and each header with acquire semantics and release the consumer
// position after we are done with the records. We use Atomics.load/Atomics.store on typed
// arrays over the mapping: V8 compiles them to sequentially consistent accesses (a plain
// `mov` load on x86, `ldar`/`stlr` on arm64), which is at least acquire/release, and the JIT
// never reorders ordinary accesses across them. Atomics work on non-shared ArrayBuffers too.
// Headers are preferably acquire-loaded in batches by the addon (HeaderScan, native
// ringbufScan: __atomic_load_n(ACQUIRE) per header in C), which saves the Atomics.load per
// record; the records are read after that call returns, hence after the acquires.

import { RingCorruptError } from "./errors.js";
import { bug } from "../bug.js";

export const RINGBUF_BUSY_BIT = 0x80000000;
export const RINGBUF_DISCARD_BIT = 0x40000000;
export const RINGBUF_HDR_SIZE = 8;
/** The kernel's largest record (RINGBUF_MAX_RECORD_SZ = UINT_MAX / 4). */
const LEN_MASK = 0x3fffffff;

/** The three views of a ring buffer mapping that the consumer needs. */
export interface RingBufMemory {
  /** consumer_pos: element 0, read-write */
  consumerPos: BigUint64Array;
  /** producer_pos: element 0, read-only */
  producerPos: BigUint64Array;
  /** the data area mapped twice: exactly 2 * size bytes, 8-byte aligned */
  data: Uint8Array;
  /** data area size in bytes, a power of two ≥ 8 */
  size: number;
}

/**
 * Acquire-loads the headers of the committed records from byte `pos` of `data` (the data
 * area, mapped twice) within `avail` bytes into `out`; returns how many. Stops early at
 * anything but a committed, well-formed record (native/tsbpf.c ringbufScan).
 */
export type HeaderScan = (data: Uint8Array, pos: number, avail: number, out: Uint32Array) => number;

/**
 * The batch form of HeaderScan (native/tsbpf.c ringbufCollect): writes the payload offset and
 * length of each committed, non-discarded record from byte `pos` into `offsets`/`lengths`
 * (up to their capacity), the bytes walked into `meta[0]`, and returns how many records.
 */
export type RecordCollect = (
  data: Uint8Array,
  pos: number,
  avail: number,
  offsets: Uint32Array,
  lengths: Uint32Array,
  meta: Uint32Array,
) => number;

/**
 * A batch of records handed out at once (RingBufReader.readRecords): record i is `lengths[i]`
 * bytes at `offsets[i]` of `view`/`bytes` (the whole double-mapped data area). Reused by the
 * reader: valid until its next read, consume, commit or close.
 */
export interface RecordBatch {
  /** one DataView over the whole data area, the same object for every batch */
  readonly view: DataView;
  /** the same memory as bytes */
  readonly bytes: Uint8Array;
  /** records in this batch: entries [0, count) of offsets and lengths */
  count: number;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
}

/** Headers fetched per HeaderScan call. */
const SCAN_BATCH = 1024;

/**
 * Per-event callback of the allocation-free path. `view` spans the whole double-mapped data
 * area and is the same object on every call; the record is `length` bytes at `offset`.
 * Valid only during the call.
 */
export type RecordCallback = (view: DataView, offset: number, length: number) => void;

/**
 * How many consumed bytes `consume` may hold back from the producer before it publishes the
 * consumer position mid-batch. libbpf publishes after every record; once per 16 KiB (≈400
 * small records) keeps that benefit — a producer on another CPU reuses space while a long
 * batch is still being consumed — at one BigInt store per 16 KiB.
 */
const CONSUME_COMMIT_BYTES = 16 * 1024;

/**
 * Walks a ring buffer's records; commits the consumer position at least once per batch
 * (`consume` also every 16 KiB or quarter ring, whichever is smaller).
 */
export class RingBufRing {
  readonly size: number;
  private readonly mem: RingBufMemory;
  private readonly mask: number;
  private readonly words: Uint32Array;
  private readonly view: DataView;
  /** native header scan (see walk), or undefined: one Atomics.load per header */
  private readonly scan: HeaderScan | undefined;
  private readonly scanned = new Uint32Array(SCAN_BATCH);
  private readonly collectFn: RecordCollect | undefined;
  private readonly meta = new Uint32Array(1);
  /** allocated on the first readRecords */
  private batch: RecordBatch | undefined;
  /** consume's mid-batch commit interval in bytes */
  private readonly commitEvery: number;
  /** bytes consumed by the last batch whose views the caller may still hold */
  private pending = 0;
  private pendingFrom = 0n;

  constructor(
    mem: RingBufMemory,
    private readonly label: string,
    scan?: HeaderScan,
    collect?: RecordCollect,
  ) {
    const { size, data } = mem;
    if (!Number.isInteger(size) || size < 8 || size > 2 ** 30 || (size & (size - 1)) !== 0) {
      throw bug(`ring buffer "${label}": data size ${size} is not a power of two`);
    }
    if (data.byteLength !== 2 * size || data.byteOffset % 8 !== 0) {
      throw bug(`ring buffer "${label}": data mapping must be 2 × ${size} bytes, 8-byte aligned`);
    }
    if (mem.consumerPos.length < 1 || mem.producerPos.length < 1) {
      throw bug(`ring buffer "${label}": position arrays are empty`);
    }
    this.mem = mem;
    this.size = size;
    this.mask = size - 1;
    this.words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength / 4);
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.scan = scan;
    this.collectFn = collect;
    this.commitEvery = Math.max(RINGBUF_HDR_SIZE, Math.min(CONSUME_COMMIT_BYTES, size >>> 2));
  }

  /** Bytes published by the producer and not yet consumed (includes busy records). */
  available(): number {
    const cons = Atomics.load(this.mem.consumerPos, 0) + BigInt(this.pending);
    const prod = Atomics.load(this.mem.producerPos, 0);
    return prod > cons ? Number(prod - cons) : 0;
  }

  /**
   * Release the records of the previous batch to the producer. Views returned by the
   * previous `read` become invalid (the kernel may overwrite them).
   */
  commit(): void {
    if (this.pending === 0) return;
    Atomics.store(this.mem.consumerPos, 0, this.pendingFrom + BigInt(this.pending));
    this.pending = 0;
  }

  /**
   * Commit the previous batch, then collect up to `max` records as zero-copy views into the
   * mapping (or copies with `copy`). Views stay valid until the next read/consume/commit.
   * Stops at the first record still being written (BUSY). Discarded records are skipped.
   * A corrupt record ends the batch; it throws RingCorruptError when it is the first one.
   */
  read(max: number, copy: boolean, out: Uint8Array[]): void {
    this.commit();
    const data = this.mem.data;
    const before = out.length;
    try {
      // Views stay valid until the next call: never commit in the middle of a read.
      this.walk(max, Infinity, (_view, offset, length) => {
        out.push(
          copy ? data.slice(offset, offset + length) : data.subarray(offset, offset + length),
        );
      });
    } catch (e) {
      // Hand out the good records before the bad one; the next read meets it again and throws.
      if (!(e instanceof RingCorruptError) || out.length === before) throw e;
    }
    if (copy) this.commit();
  }

  /**
   * Commit the previous batch, then describe up to `max` records (at most `capacity` per
   * batch) as offsets and lengths in one reused RecordBatch: no object and no callback per
   * record. The records stay valid, and their space held from the producer, until the next
   * call (or commit). Discarded records are skipped; a corrupt first record throws.
   */
  readRecords(max: number, capacity: number): RecordBatch {
    this.commit();
    let b = this.batch;
    if (b === undefined || b.offsets.length !== capacity) {
      b = this.batch = {
        view: this.view,
        bytes: this.mem.data,
        count: 0,
        offsets: new Uint32Array(capacity),
        lengths: new Uint32Array(capacity),
      };
    }
    b.count = 0;
    const want = Math.min(max, capacity);
    if (want <= 0) return b;
    const collect = this.collectFn;
    if (collect !== undefined) {
      const cons = Atomics.load(this.mem.consumerPos, 0);
      const prod = Atomics.load(this.mem.producerPos, 0);
      // The native walk stops silently at anything malformed; positions out of range are
      // reported by walk() below, which re-reads from the same place.
      if (prod >= cons && prod - cons <= BigInt(this.size)) {
        const avail = Number(prod - cons);
        const start = Number(cons & BigInt(this.mask));
        const offsets = want === capacity ? b.offsets : b.offsets.subarray(0, want);
        const lengths = want === capacity ? b.lengths : b.lengths.subarray(0, want);
        const n = collect(this.mem.data, start, avail, offsets, lengths, this.meta);
        const used = this.meta[0]!;
        // Records to hand out, or a ring walked to its end: done. Otherwise (nothing but
        // discards before a busy or corrupt record) the JS walker below decides, as read() does.
        if (n > 0 || used === avail) {
          this.pendingFrom = cons;
          this.pending = used;
          b.count = n;
          return b;
        }
      }
    }
    // No native collect, or it stopped at the first record: the JS walker decides (a busy
    // record ends the batch, a corrupt one throws with the details).
    const { offsets, lengths } = b;
    let i = 0;
    try {
      this.walk(want, Infinity, (_view, offset, length) => {
        offsets[i] = offset;
        lengths[i] = length;
        i++;
      });
    } catch (e) {
      // As read(): hand out the good records before a bad one; the next call meets it again.
      if (!(e instanceof RingCorruptError) || i === 0) throw e;
    }
    b.count = i;
    return b;
  }

  /**
   * Commit the previous batch, call `cb` for up to `max` records, commit them. Allocates
   * nothing per record. Records are released to the producer as the batch goes (every
   * `commitEvery` bytes), so a concurrent producer is not stalled by a long batch. If `cb`
   * throws, the records before it and the one it threw on are committed (as libbpf does),
   * and the error propagates.
   */
  consume(cb: RecordCallback, max: number): number {
    this.commit();
    try {
      return this.walk(max, this.commitEvery, cb);
    } finally {
      this.commit();
    }
  }

  /**
   * Visit committed records from the consumer position. Publishes the consumer position after
   * every `commitEvery` bytes whose callbacks returned; what was visited and not yet published
   * is left in `pending` (from `pendingFrom`).
   */
  private walk(max: number, commitEvery: number, cb: RecordCallback): number {
    const cons = Atomics.load(this.mem.consumerPos, 0);
    const prod = Atomics.load(this.mem.producerPos, 0);
    if (prod < cons) {
      throw this.corrupt(`producer position ${prod} is behind consumer position`, cons);
    }
    if (prod - cons > BigInt(this.size)) {
      throw this.corrupt(
        `producer is ${prod - cons} bytes ahead, more than the ${this.size}-byte ring`,
        cons,
      );
    }
    const avail = Number(prod - cons);
    const start = Number(cons & BigInt(this.mask));
    this.pendingFrom = cons;
    // Locals, so the loop body touches no `this` fields (V8 cannot keep them in registers
    // across the callback, which might change them).
    const words = this.words;
    const view = this.view;
    const mask = this.mask;
    const data = this.mem.data;
    const scan = this.scan;
    const scanned = this.scanned;
    /** headers scanned[si..sn) belong to the next records, already acquire-loaded */
    let si = 0;
    let sn = 0;
    let used = 0;
    let committed = 0;
    let n = 0;
    try {
      while (used < avail && n < max) {
        if (avail - used < RINGBUF_HDR_SIZE) {
          throw this.corrupt(
            `${avail - used} trailing bytes are too few for a record header`,
            cons,
          );
        }
        const off = (start + used) & mask;
        // Record starts are 8-byte aligned (sizes are rounded up), so off is a multiple of 4.
        if ((off & 7) !== 0) throw this.corrupt(`record at unaligned offset ${off}`, cons);
        // The acquire that pairs with the kernel's commit (xchg on the header, clearing BUSY):
        // once we see BUSY clear, it orders the record's bytes after it. Preferably done by
        // the native scan, a batch of headers per call (each an acquire load in C; the
        // callback's reads come after the call returns, so they are ordered too). Otherwise,
        // and for the record a scan stopped at, an Atomics.load — never a plain typed-array
        // read: the JS memory model lets the JIT reorder the callback's data reads around a
        // non-atomic access. An Atomics.load is a builtin call on Node 20 (~13 ns).
        let hdr: number;
        if (si < sn) hdr = scanned[si++]!;
        else {
          si = sn = 0;
          if (scan !== undefined) sn = scan(data, off, avail - used, scanned);
          hdr = sn > 0 ? scanned[si++]! : Atomics.load(words, off >>> 2);
        }
        if ((hdr & RINGBUF_BUSY_BIT) !== 0) break;
        const len = hdr & LEN_MASK;
        const total = (len + RINGBUF_HDR_SIZE + 7) & ~7;
        if (total > avail - used) {
          throw this.corrupt(
            `record of ${len} bytes exceeds the ${avail - used} bytes the producer published`,
            cons + BigInt(used),
          );
        }
        // Counted as consumed before the callback, so a throwing callback does not see it
        // again: `finally` publishes `used` as pending whichever way the loop ends.
        used += total;
        if ((hdr & RINGBUF_DISCARD_BIT) === 0) {
          n++;
          cb(view, off + RINGBUF_HDR_SIZE, len);
        }
        if (used - committed >= commitEvery) {
          // Release (Atomics.store): our reads of these records happen before the producer
          // can see the space as free.
          const pos = cons + BigInt(used);
          Atomics.store(this.mem.consumerPos, 0, pos);
          this.pendingFrom = pos;
          committed = used;
        }
      }
    } finally {
      this.pending = used - committed;
    }
    return n;
  }

  private corrupt(detail: string, position: bigint): RingCorruptError {
    return new RingCorruptError(detail, { map: this.label, position });
  }
}
