// Reading a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF, Linux ≥ 5.8) from user space.
//
// The map fd is mmapped the way libbpf does it (sys/mmap.ts RingbufMapping): the consumer
// page read-write, then the producer page and the data area read-only. The kernel maps the
// data area twice in a row, so mapping `page + 2 × max_entries` bytes gives a view in which
// every record is contiguous, even one that wraps the ring end: events are handed out as
// zero-copy views. Ring walking lives in ringbuf-ring.ts (pure, unit-tested on synthetic
// memory).
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { MapType } from "../obj/consts.js";
import type { FD } from "../sys/fd.js";
import { pageSize, RingbufMapping } from "../sys/mmap.js";
import { ringbufHeaderScan, ringbufRecordCollect } from "../sys/mmap.js";
import type { EventBatch, EventReader } from "./batch.js";
import { checkCountOption, ReaderClosedError } from "./errors.js";
import { PollReadiness, type Readiness } from "./readiness.js";
import {
  RingBufRing,
  type HeaderScan,
  type RecordBatch,
  type RecordCallback,
  type RecordCollect,
} from "./ringbuf-ring.js";
import { MapError } from "../map/map.js";
import type { RecordDecoder } from "../types/decoder.js";
import { adoptMap, checkMapType, tieReader, type MapSource } from "./source.js";

export type { RecordBatch, RecordCallback } from "./ringbuf-ring.js";

export interface RingBufReaderOptions {
  /** Return copies instead of views into the ring (and hand space back at once). */
  copy?: boolean;
  /**
   * Most events per batch of the async iterator (default 8 192) and of readBatch/readRecords
   * (default: everything available). Small iterator batches let each batch's views and decoded
   * objects die young: a 16 MiB ring can hold 400 000 events, and an array of that many
   * survives the young-generation GC, so memory grew by hundreds of MB at 1 M events/s.
   */
  maxBatch?: number;
  /** Most records per `readRecords` batch (default: what the ring can hold, at most 65 536). */
  recordBatch?: number;
}

/**
 * readRecords' default batch capacity: as many records as the ring can hold (16 bytes each at
 * least), at most 65 536. Larger batches mean fewer native calls and commits per record; a
 * batch costs 8 bytes of offsets and lengths per record.
 */
const MAX_RECORD_BATCH = 65536;

/** The async iterator's default batch cap (see RingBufReaderOptions.maxBatch). */
const ITERATOR_BATCH = 8192;

/**
 * Consumer of one BPF ring buffer map.
 *
 * ```ts
 * using reader = RingBufReader.open(map);
 * for await (const { events } of reader) for (const e of events) handle(e);
 * ```
 *
 * Lifetime of events: unless `copy` is set, every event is a view into the kernel's ring,
 * valid until the next `readBatch`/`consume`/`commit`, the iterator's next step, or `close()`
 * — whichever comes first. Until then the kernel cannot reuse that space, so a consumer that
 * holds a batch for long makes the producer drop (bpf_ringbuf_output returns -ENOSPC). After
 * close() old views read as empty (the mapping is detached), never as freed memory.
 *
 * Waiting: the ring's fd is readable while anything is reserved and unconsumed, including a
 * record a program has reserved but not yet submitted. The iterator then re-checks once per
 * event-loop turn (it never blocks) until the program submits or discards it — as libbpf's
 * epoll loop does. Drops are not reported here: a full ring makes bpf_ringbuf_output /
 * bpf_ringbuf_reserve fail in the program, so `lost` is always 0.
 */
export class RingBufReader implements EventReader {
  readonly name: string;
  /** data area size in bytes (the map's max_entries) */
  readonly size: number;
  private readonly fd: FD;
  private readonly ring: RingBufRing;
  private readonly mapping: RingbufMapping;
  private readonly readiness: Readiness;
  private readonly copy: boolean;
  private readonly maxBatch: number;
  private readonly iteratorBatch: number;
  private readonly recordBatch: number;
  private closed = false;

  private untie: () => void = () => {};

  private constructor(
    name: string,
    fd: FD,
    ring: RingBufRing,
    mapping: RingbufMapping,
    opts: RingBufReaderOptions,
  ) {
    this.name = name;
    this.fd = fd;
    this.ring = ring;
    this.size = ring.size;
    this.mapping = mapping;
    this.readiness = new PollReadiness([fd.fd], `ring buffer "${name}"`);
    this.copy = opts.copy ?? false;
    this.maxBatch = opts.maxBatch ?? Number.MAX_SAFE_INTEGER;
    this.iteratorBatch = opts.maxBatch ?? ITERATOR_BATCH;
    this.recordBatch = opts.recordBatch ?? Math.min(MAX_RECORD_BATCH, ring.size / 16);
  }

  /**
   * Map the ring buffer of `map` (a BpfMap or `{ fd, maxEntries }`). The reader keeps its own
   * fd and mappings, so the map may be closed afterwards.
   */
  static open(map: MapSource, opts: RingBufReaderOptions = {}): RingBufReader {
    checkMapType(map, MapType.RINGBUF, "RingBufReader");
    const page = pageSize();
    const size = map.maxEntries;
    const label = map.name ?? "map";
    checkCountOption(label, "maxBatch", opts.maxBatch);
    checkCountOption(label, "recordBatch", opts.recordBatch);
    if (!Number.isInteger(size) || size < page || (size & (size - 1)) !== 0 || size > 2 ** 30) {
      throw new MapError(
        `ring buffer "${label}": max_entries ${size} must be a power of two, at least the ` +
          `page size (${page}) and at most 1 GiB`,
      );
    }
    const { name, fd } = adoptMap(map, MapType.RINGBUF, "RingBufReader");
    let mapping: RingbufMapping | undefined;
    try {
      mapping = new RingbufMapping(fd.fd, size);
      const ring = new RingBufRing(
        {
          consumerPos: new BigUint64Array(mapping.consumer, 0, 1),
          producerPos: new BigUint64Array(mapping.producer, 0, 1),
          data: mapping.data(),
          size,
        },
        name,
        headerScan(),
        recordCollect(),
      );
      const reader = new RingBufReader(name, fd, ring, mapping, opts);
      reader.untie = tieReader(map, reader);
      return reader;
    } catch (e) {
      mapping?.close();
      fd.close();
      throw e;
    }
  }

  /**
   * Hand the previous batch back to the kernel, then return up to `max` events available
   * now, without waiting (possibly none). Views are valid until the next call (see class doc).
   */
  readBatch(max = this.maxBatch): Uint8Array[] {
    this.assertOpen();
    const out: Uint8Array[] = [];
    this.ring.read(max, this.copy, out);
    return out;
  }

  /**
   * The allocation-free path: call `cb(view, offset, length)` for up to `max` available
   * events, then hand them back to the kernel in one step. `view` is one DataView over the
   * whole (double-mapped) data area, shared by all calls; the event is `length` bytes at
   * `offset` and is valid only during the call. Returns the number of events.
   */
  consume(cb: RecordCallback, max = Number.MAX_SAFE_INTEGER): number {
    this.assertOpen();
    return this.ring.consume(cb, max);
  }

  /**
   * The fastest way to read: hand the previous batch back to the kernel, then describe up to
   * `max` available records (at most `recordBatch`) in one reused RecordBatch —
   * record i is `lengths[i]` bytes at `offsets[i]` of `view`. No object, view or callback per
   * record: one native call acquire-loads the headers of the whole batch. Returns an empty
   * batch (count 0) when nothing is available; never waits. The batch is valid until the
   * next read, consume, commit or close.
   *
   * ```ts
   * const ev = Event.view();
   * for (;;) {
   *   const b = reader.readRecords();
   *   if (b.count === 0) { await reader.wait(); continue; }
   *   for (let i = 0; i < b.count; i++) handle(ev.at(b.view, b.offsets[i]!));
   * }
   * ```
   */
  readRecords(max = this.maxBatch): RecordBatch {
    this.assertOpen();
    return this.ring.readRecords(max, this.recordBatch);
  }

  /**
   * Record batches as they arrive (readRecords, waiting through epoll when the ring is empty).
   * Each batch is released when the loop asks for the next one; ends when close() is called.
   */
  async *records(): AsyncGenerator<RecordBatch, void, undefined> {
    let busy = false;
    try {
      while (!this.closed) {
        if (busy) await yieldToLoop();
        if (this.closed) break;
        const batch = this.readRecords();
        busy = batch.count > 0;
        if (busy) yield batch;
        else await this.readiness.wait();
      }
    } finally {
      this.commit();
    }
  }

  /**
   * Decoded records as they arrive: each batch of `records()` turned into plain objects by a
   * compiled decoder (`Struct.decoder()`), which own their values — keep them as long as you
   * like. A record shorter than the struct throws DecodeError.
   *
   * ```ts
   * for await (const events of reader.decoded(RequestInfo.decoder())) for (const e of events) …
   * ```
   */
  async *decoded<T>(decoder: RecordDecoder<T>): AsyncGenerator<T[], void, undefined> {
    for await (const b of this.records()) yield decoder.batch(b);
  }

  /** Hand the last batch back to the kernel early (its views become invalid). */
  commit(): void {
    if (!this.closed) this.ring.commit();
  }

  /** Bytes the producer has reserved and we have not consumed. */
  available(): number {
    this.assertOpen();
    return this.ring.available();
  }

  /** Resolves when the ring has data (or the reader is closed); never blocks a thread. */
  wait(): Promise<void> {
    return this.readiness.wait();
  }

  /**
   * Batches as they arrive; waits on epoll through libuv when the ring is empty. Each batch's
   * views are released when the loop asks for the next one. Ends when close() is called
   * (also from inside the loop or from a timer); breaking out of the loop keeps the reader open.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<EventBatch, void, undefined> {
    let busy = false;
    try {
      while (!this.closed) {
        // Between back-to-back batches let timers and I/O run: a producer that never pauses
        // must not starve the event loop through the microtask queue.
        if (busy) await yieldToLoop();
        if (this.closed) break;
        const events = this.readBatch(this.iteratorBatch);
        busy = events.length > 0;
        if (busy) yield { map: this.name, events, lost: 0 };
        else await this.readiness.wait();
      }
    } finally {
      this.commit();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stop waiting iterators, unmap the ring and close the reader's fd. Harmless twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.untie();
    this.readiness.close();
    this.mapping.close();
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ReaderClosedError(this.name);
  }
}

/** The addon's acquire-ordered ring header scan. */
function headerScan(): HeaderScan {
  return ringbufHeaderScan();
}

/** The addon's batch record walk. */
function recordCollect(): RecordCollect {
  return ringbufRecordCollect();
}
