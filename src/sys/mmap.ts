// Shared mappings of kernel objects as zero-copy ArrayBuffers (ring buffers, perf buffers,
// mmapable arrays). munmap detaches the buffer, so a stale view reads as empty instead of
// faulting.
import { check } from "./errors.js";
import { native } from "./native.js";
import { bug } from "../bug.js";

export const Prot = { NONE: 0, READ: 1, WRITE: 2 } as const;
export const MmapFlags = { SHARED: 0x01, PRIVATE: 0x02 } as const;

let cachedPageSize: number | undefined;

export function pageSize(): number {
  return (cachedPageSize ??= native().pageSize());
}

/** mmap(2) of `fd`; the ArrayBuffer is the mapping itself. */
export function mmap(
  fd: number,
  length: number,
  prot: number,
  flags: number = MmapFlags.SHARED,
  offset = 0,
  subject?: string,
): ArrayBuffer {
  const r = native().mmap(fd, length, prot, flags, offset);
  if (typeof r === "number") check("mmap", r, subject === undefined ? {} : { subject });
  return r as ArrayBuffer;
}

/** Unmaps a buffer from mmap(); later access sees a detached (0-byte) buffer. Idempotent. */
export function munmap(buffer: ArrayBuffer): void {
  native().munmap(buffer);
}

/**
 * A BPF_MAP_TYPE_RINGBUF mapped the way libbpf maps it: the consumer page read-write, and the
 * producer page plus the data area read-only. The kernel maps the data pages twice back to
 * back, so a record that wraps around the end is still contiguous in `data`.
 */
export class RingbufMapping {
  /** consumer_pos at offset 0 (user space advances it). */
  readonly consumer: ArrayBuffer;
  /** producer_pos at offset 0, data from `pageSize`, 2 × dataSize long. */
  readonly producer: ArrayBuffer;
  readonly pageSize: number;
  /** max_entries of the map: a power of two, a multiple of the page size. */
  readonly dataSize: number;

  constructor(fd: number, dataSize: number) {
    const page = pageSize();
    if (dataSize <= 0 || dataSize % page !== 0 || (dataSize & (dataSize - 1)) !== 0)
      throw bug(
        `ring buffer size ${dataSize} must be a power of two multiple of the page size ${page}`,
      );
    this.pageSize = page;
    this.dataSize = dataSize;
    this.consumer = mmap(
      fd,
      page,
      Prot.READ | Prot.WRITE,
      MmapFlags.SHARED,
      0,
      "ring buffer consumer page",
    );
    try {
      this.producer = mmap(
        fd,
        page + 2 * dataSize,
        Prot.READ,
        MmapFlags.SHARED,
        page,
        "ring buffer data",
      );
    } catch (e) {
      munmap(this.consumer);
      throw e;
    }
  }

  /** The data area (doubled): record bytes at `pos & (dataSize - 1)`. */
  data(): Uint8Array {
    return new Uint8Array(this.producer, this.pageSize, 2 * this.dataSize);
  }

  close(): void {
    munmap(this.consumer);
    munmap(this.producer);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A perf event ring: one metadata page (struct perf_event_mmap_page, data_head at 1024,
 * data_tail at 1032) followed by `dataPages` (a power of two) data pages, all read-write.
 */
export function mmapPerfBuffer(fd: number, dataPages: number): ArrayBuffer {
  if (dataPages < 1 || (dataPages & (dataPages - 1)) !== 0)
    throw bug(`perf buffer page count ${dataPages} must be a power of two`);
  return mmap(
    fd,
    (1 + dataPages) * pageSize(),
    Prot.READ | Prot.WRITE,
    MmapFlags.SHARED,
    0,
    "perf buffer",
  );
}

/**
 * The addon's ring buffer header scan (native/tsbpf.c ringbufScan): acquire-loads committed
 * record headers of a doubly mapped data area from `pos` within `avail` bytes into `out`;
 * returns how many it wrote. The function itself, so the reader's hot loop calls it directly.
 */
export function ringbufHeaderScan(): (
  data: Uint8Array,
  pos: number,
  avail: number,
  out: Uint32Array,
) => number {
  return native().ringbufScan;
}

/**
 * The addon's batch record walk (native/tsbpf.c ringbufCollect): like the header scan, and
 * writes each committed, not discarded record's payload offset and length into
 * `offsets`/`lengths`, and the bytes walked into meta[0]; returns the record count.
 */
export function ringbufRecordCollect(): (
  data: Uint8Array,
  pos: number,
  avail: number,
  offsets: Uint32Array,
  lengths: Uint32Array,
  meta: Uint32Array,
) => number {
  return native().ringbufCollect;
}
