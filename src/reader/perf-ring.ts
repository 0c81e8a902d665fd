// The consumer side of one CPU's perf ring (a PERF_COUNT_SW_BPF_OUTPUT event's mmap). Pure:
// no syscalls, so tests drive it with synthetic ArrayBuffers.
//
// Layout (include/uapi/linux/perf_event.h): the first page is struct perf_event_mmap_page,
// whose u64 data_head (offset 1024, written by the kernel), data_tail (1032, written by us),
// data_offset (1040) and data_size (1048) describe the data area that follows: a power of two
// pages, mapped ONCE, so a record may wrap around its end (we then copy it into a scratch
// buffer). Each record starts with struct perf_event_header { u32 type; u16 misc; u16 size },
// `size` covering the header.
//   PERF_RECORD_SAMPLE (9) with sample_type PERF_SAMPLE_RAW: u32 raw_size, raw_size bytes.
//   PERF_RECORD_LOST (2): u64 id, u64 lost — samples dropped because the ring was full.
//   PERF_RECORD_LOST_SAMPLES (13): u64 lost — samples dropped before reaching the ring.
//
// Padding. The kernel rounds `4 + raw_size` up to 8 and reports the ROUNDED size minus 4 as
// raw_size (perf_prepare_sample), so a 16-byte bpf_perf_event_output arrives as 20 bytes whose
// last 4 are zero. The size the BPF program passed is not transmitted; we return exactly the
// raw_size bytes the kernel reports and leave trailing padding to the decoder, which knows
// its struct's size (as cilium/ebpf and libbpf do).
//
// Memory ordering: data_head is read with Atomics.load (acquire, see ringbuf-ring.ts) before
// any record; data_tail is written with Atomics.store (release) after we are done with them.

import { RingCorruptError } from "./errors.js";
import { bug } from "../bug.js";

export const PERF_RECORD_LOST = 2;
export const PERF_RECORD_SAMPLE = 9;
export const PERF_RECORD_LOST_SAMPLES = 13;
export const PERF_HEADER_SIZE = 8;
/** Index of data_head in the metadata page viewed as u64s (byte offset 1024). */
const HEAD = 128;
const TAIL = 129;
const DATA_OFFSET = 130;
const DATA_SIZE = 131;
/** perf_event_header.size is a u16: no record is longer. */
const MAX_RECORD = 0xffff;

/** What one pass over a perf ring produced. */
export interface PerfReadResult {
  /** samples appended to the caller's array */
  events: number;
  /** samples the kernel reported as lost */
  lost: number;
}

/** Walks one perf ring; advances data_tail once per batch. */
export class PerfRing {
  readonly dataSize: number;
  private readonly meta: BigUint64Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly mask: number;
  private scratch: Uint8Array | undefined;
  private pending = 0;
  private pendingFrom = 0n;

  /**
   * @param mapping the whole mmap of the perf event: metadata page + data pages
   * @param pageSize the page size the mapping was made with
   */
  constructor(
    mapping: ArrayBuffer,
    pageSize: number,
    private readonly label: string,
    readonly cpu: number,
  ) {
    if (mapping.byteLength < pageSize + 8 || pageSize < 2048 || pageSize % 8 !== 0) {
      throw bug(`perf ring "${label}" cpu ${cpu}: mapping too small`);
    }
    this.meta = new BigUint64Array(mapping, 0, pageSize / 8);
    // Kernels before 4.1 leave data_offset/data_size zero: the data follows the first page.
    let off = Number(this.meta[DATA_OFFSET]);
    let size = Number(this.meta[DATA_SIZE]);
    if (off === 0 && size === 0) {
      off = pageSize;
      size = mapping.byteLength - pageSize;
    }
    if (
      off < pageSize ||
      off % 8 !== 0 ||
      size < 8 ||
      size > 2 ** 30 ||
      (size & (size - 1)) !== 0 ||
      off + size > mapping.byteLength
    ) {
      throw new RingCorruptError(
        `the metadata page's data area ${off}+${size} does not fit the ` +
          `${mapping.byteLength}-byte mapping as a power of two`,
        { map: label, cpu },
      );
    }
    this.dataSize = size;
    this.mask = size - 1;
    this.bytes = new Uint8Array(mapping, off, size);
    this.view = new DataView(mapping, off, size);
  }

  /** Release the records of the previous batch; their views become invalid. */
  commit(): void {
    if (this.pending === 0) return;
    Atomics.store(this.meta, TAIL, this.pendingFrom + BigInt(this.pending));
    this.pending = 0;
  }

  /** Whether the kernel has written records we have not consumed. */
  hasData(): boolean {
    return Atomics.load(this.meta, HEAD) !== Atomics.load(this.meta, TAIL) + BigInt(this.pending);
  }

  /**
   * Commit the previous batch, then append up to `max` samples to `out`: zero-copy views
   * into the mapping, except a sample that wraps around the ring end, which is copied into
   * this ring's scratch buffer (at most one record per pass can wrap). With `copy` every
   * sample is a fresh copy. Views stay valid until the next read/commit. A corrupt record
   * ends the batch; it throws RingCorruptError when nothing came before it.
   */
  read(max: number, copy: boolean, out: Uint8Array[]): PerfReadResult {
    this.commit();
    const head = Atomics.load(this.meta, HEAD);
    const tail = Atomics.load(this.meta, TAIL);
    if (head < tail) throw this.corrupt(`data_head ${head} is behind data_tail`, tail);
    if (head - tail > BigInt(this.dataSize)) {
      throw this.corrupt(
        `data_head is ${head - tail} bytes ahead, more than the ${this.dataSize}-byte ring`,
        tail,
      );
    }
    const avail = Number(head - tail);
    const start = Number(tail & BigInt(this.mask));
    this.pendingFrom = tail;
    const result: PerfReadResult = { events: 0, lost: 0 };
    let used = 0;
    try {
      while (used < avail && result.events < max) {
        const left = avail - used;
        const off = (start + used) & this.mask;
        if (left < PERF_HEADER_SIZE) {
          throw this.corrupt(`${left} trailing bytes are too few for a record header`, tail);
        }
        const type = this.u32(off);
        const size = this.u32(off + 4) >>> 16;
        if (size < PERF_HEADER_SIZE || size > left) {
          throw this.corrupt(
            `record of type ${type} claims ${size} bytes (${left} published)`,
            tail + BigInt(used),
          );
        }
        const body = off + PERF_HEADER_SIZE;
        if (type === PERF_RECORD_SAMPLE) {
          const raw = size >= 12 ? this.u32(body) : -1;
          if (raw < 0 || raw > size - 12) {
            throw this.corrupt(
              `sample of ${size} bytes holds a raw size of ${raw}`,
              tail + BigInt(used),
            );
          }
          out.push(this.slice(body + 4, raw, copy));
          result.events++;
        } else if (type === PERF_RECORD_LOST && size >= 24) {
          result.lost += this.u64(body + 8);
        } else if (type === PERF_RECORD_LOST_SAMPLES && size >= 16) {
          result.lost += this.u64(body);
        }
        // Other record types (throttle, …) carry no samples: skip them.
        used += size;
        this.pending = used;
      }
    } catch (e) {
      if (!(e instanceof RingCorruptError) || (result.events === 0 && result.lost === 0)) throw e;
    }
    this.pending = used;
    if (copy) this.commit();
    return result;
  }

  /** `length` bytes at ring offset `off` (may wrap), as a view or a copy. */
  private slice(off: number, length: number, copy: boolean): Uint8Array {
    const at = off & this.mask;
    if (at + length <= this.dataSize) {
      return copy ? this.bytes.slice(at, at + length) : this.bytes.subarray(at, at + length);
    }
    const first = this.dataSize - at;
    let dst: Uint8Array;
    if (copy) {
      dst = new Uint8Array(length);
    } else {
      this.scratch ??= new Uint8Array(MAX_RECORD);
      dst = this.scratch.subarray(0, length);
    }
    dst.set(this.bytes.subarray(at, this.dataSize), 0);
    dst.set(this.bytes.subarray(0, length - first), first);
    return dst;
  }

  /** Little-endian u32 at ring offset `off`, which may wrap. */
  private u32(off: number): number {
    const at = off & this.mask;
    if (at + 4 <= this.dataSize) return this.view.getUint32(at, true);
    let v = 0;
    for (let i = 3; i >= 0; i--) v = v * 256 + this.bytes[(at + i) & this.mask]!;
    return v;
  }

  /** Little-endian u64 at ring offset `off` (may wrap), as a number (exact below 2^53). */
  private u64(off: number): number {
    return this.u32(off) + this.u32(off + 4) * 2 ** 32;
  }

  private corrupt(detail: string, position: bigint): RingCorruptError {
    return new RingCorruptError(detail, { map: this.label, cpu: this.cpu, position });
  }
}
