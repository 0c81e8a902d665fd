// Synthetic rings laid out byte for byte as the kernel lays them out, for unit tests of the
// pure ring walkers. The writers play the producer: they follow the kernel's rules unless a
// test pokes raw bytes to simulate corruption.
import type { RingBufMemory } from "../../../src/reader/ringbuf-ring.js";

/** A BPF ring buffer: consumer page, producer page, data area mapped twice (mirrored here). */
export class SynthRingBuf {
  readonly consumerPos = new BigUint64Array(1);
  readonly producerPos = new BigUint64Array(1);
  readonly data: Uint8Array;
  constructor(readonly size: number) {
    this.data = new Uint8Array(2 * size);
  }

  memory(): RingBufMemory {
    const { consumerPos, producerPos, data, size } = this;
    return { consumerPos, producerPos, data, size };
  }

  get free(): number {
    return this.size - Number(this.producerPos[0]! - this.consumerPos[0]!);
  }

  /** Write `n` bytes at ring position `pos` into both copies of the data area. */
  poke(pos: bigint, bytes: Uint8Array): void {
    const mask = this.size - 1;
    const start = Number(pos & BigInt(mask));
    for (let i = 0; i < bytes.length; i++) {
      const at = (start + i) & mask;
      this.data[at] = bytes[i]!;
      this.data[at + this.size] = bytes[i]!;
    }
  }

  pokeU32(pos: bigint, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.poke(pos, b);
  }

  /**
   * Reserve and (unless `busy`) commit a record like bpf_ringbuf_output; returns its position,
   * or undefined when it does not fit (the kernel returns -ENOSPC to the BPF program).
   */
  write(payload: Uint8Array, opts: { busy?: boolean; discard?: boolean } = {}): bigint | undefined {
    const total = (payload.length + 8 + 7) & ~7;
    if (total > this.free) return undefined;
    const pos = this.producerPos[0]!;
    let hdr = payload.length;
    if (opts.busy) hdr |= 0x80000000;
    if (opts.discard) hdr |= 0x40000000;
    this.pokeU32(pos, hdr);
    this.pokeU32(pos + 4n, 0);
    this.poke(pos + 8n, payload);
    this.producerPos[0] = pos + BigInt(total);
    return pos;
  }

  /** Clear BUSY (and set DISCARD when asked) on a record written with `busy`. */
  publish(pos: bigint, len: number, discard = false): void {
    this.pokeU32(pos, len | (discard ? 0x40000000 : 0));
  }
}

export const PAGE = 4096;

/** One CPU's perf ring: metadata page then a power-of-two data area, mapped once. */
export class SynthPerfRing {
  readonly mapping: ArrayBuffer;
  readonly meta: BigUint64Array;
  readonly bytes: Uint8Array;
  /** samples dropped and not yet reported with a LOST record (the kernel's rb->lost) */
  pendingLost = 0;
  constructor(readonly dataSize: number) {
    this.mapping = new ArrayBuffer(PAGE + dataSize);
    this.meta = new BigUint64Array(this.mapping, 0, PAGE / 8);
    this.meta[130] = BigInt(PAGE); // data_offset
    this.meta[131] = BigInt(dataSize); // data_size
    this.bytes = new Uint8Array(this.mapping, PAGE, dataSize);
  }

  get head(): bigint {
    return this.meta[128]!;
  }
  set head(v: bigint) {
    this.meta[128] = v;
  }
  get tail(): bigint {
    return this.meta[129]!;
  }
  set tail(v: bigint) {
    this.meta[129] = v;
  }

  poke(pos: bigint, bytes: Uint8Array): void {
    const mask = this.dataSize - 1;
    const start = Number(pos & BigInt(mask));
    for (let i = 0; i < bytes.length; i++) this.bytes[(start + i) & mask] = bytes[i]!;
  }

  /** Append a raw record (header + body) at head without any checks. */
  raw(type: number, body: Uint8Array, size = 8 + body.length): void {
    const rec = new Uint8Array(8 + body.length);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, type, true);
    dv.setUint16(4, 0, true);
    dv.setUint16(6, size, true);
    rec.set(body, 8);
    this.poke(this.head, rec);
    this.head += BigInt(size);
  }

  private fits(n: number): boolean {
    return Number(this.head - this.tail) + n <= this.dataSize;
  }

  /**
   * Output a sample the way bpf_perf_event_output does: first a LOST record for earlier
   * drops if any, raw size padded so that 4 + size is a multiple of 8. Returns whether it fit.
   */
  output(payload: Uint8Array): boolean {
    const raw = ((payload.length + 4 + 7) & ~7) - 4;
    const size = 8 + 4 + raw;
    if (this.pendingLost > 0) {
      if (!this.fits(24 + size)) {
        this.pendingLost++;
        return false;
      }
      this.lostRecord(this.pendingLost);
      this.pendingLost = 0;
    } else if (!this.fits(size)) {
      this.pendingLost++;
      return false;
    }
    const body = new Uint8Array(4 + raw);
    new DataView(body.buffer).setUint32(0, raw, true);
    body.set(payload, 4);
    this.raw(9, body);
    return true;
  }

  lostRecord(count: number, type = 2): void {
    const body = new Uint8Array(type === 2 ? 16 : 8);
    new DataView(body.buffer).setBigUint64(type === 2 ? 8 : 0, BigInt(count), true);
    this.raw(type, body);
  }
}

/** A payload whose bytes encode `seq`, so tests can check order and content. */
export function payloadFor(seq: number, len: number): Uint8Array {
  const p = new Uint8Array(len);
  for (let i = 0; i < len; i++) p[i] = (seq * 31 + i * 7) & 0xff;
  if (len >= 4) new DataView(p.buffer).setUint32(0, seq, true);
  return p;
}
