// The public face of compiled record decoders (decoder-gen.ts): bind to the caller's memory
// once, check the range, dispatch on the record address's alignment class.
import { Binding, CompiledLayout } from "./decoder-gen.js";
import { checkRange, DecodeError } from "./type.js";

/** A batch of records, as RingBufReader.readRecords hands them out. */
export interface RecordSpan {
  readonly view: DataView;
  readonly count: number;
  readonly offsets: ArrayLike<number>;
  readonly lengths: ArrayLike<number>;
}

/**
 * Decodes records of one struct into fresh plain objects (one property per field, no getters),
 * reading the fields straight from the record's memory through typed arrays. The objects
 * own their values: they stay valid after the record's memory is reused.
 */
export interface RecordDecoder<T> {
  /** bytes a record must hold */
  readonly size: number;
  /** The record at `offset` of `view` (throws RangeError unless `size` bytes fit). */
  at(view: DataView, offset: number): T;
  /** The record at `offset` (default 0) of `bytes` (throws DecodeError when it is shorter). */
  decode(bytes: Uint8Array, offset?: number): T;
  /**
   * Every record of a readRecords batch, in order, into `out` (cleared first; default a new
   * array). Throws DecodeError for a record shorter than `size`.
   */
  batch(b: RecordSpan, out?: T[]): T[];
}

/** Buffers below this many bytes get the cheap binding (Binding.full). */
const SMALL_BUFFER = 4096;

export class CompiledDecoder<T> implements RecordDecoder<T> {
  readonly size: number;
  readonly at: (view: DataView, offset: number) => T;
  private readonly decodeAt: (bytes: Uint8Array, offset: number) => T;

  constructor(layout: CompiledLayout, label: string) {
    const size = (this.size = layout.size);
    const s = new Binding();
    const fns = layout.make(s, {
      bindView(view: DataView): void {
        const len = view.byteLength; // throws TypeError on a detached buffer
        if (view.buffer !== s.buffer || !s.full) layout.bind(s, view.buffer);
        s.view = view;
        s.len = len;
        s.base = view.byteOffset;
        s.bytes = new Uint8Array(view.buffer, view.byteOffset, len);
      },
      bindBytes(bytes: Uint8Array): void {
        const buffer = bytes.buffer;
        // Small buffers are usually one event's copy, read once: bind them cheaply.
        if (buffer !== s.buffer) layout.bind(s, buffer, buffer.byteLength >= SMALL_BUFFER);
        s.view = undefined;
        s.bytes = bytes;
        s.base = bytes.byteOffset;
      },
      outOfRange(view: DataView, offset: number): never {
        s.view = undefined; // re-check the view next time (it may have been detached)
        checkRange(view, offset, size, label);
        throw new DecodeError(
          `${label}: offset ${offset} is not a valid record offset in a view of ${view.byteLength} bytes`,
        );
      },
      tooShort(bytes: Uint8Array, offset: number): never {
        throw new DecodeError(
          `${label}: need ${size} bytes at offset ${offset}, got ${bytes.length}`,
        );
      },
    });
    this.at = fns.at as (view: DataView, offset: number) => T;
    this.decodeAt = fns.decode as (bytes: Uint8Array, offset: number) => T;
    this.label = label;
  }

  private readonly label: string;

  decode(bytes: Uint8Array, offset = 0): T {
    return this.decodeAt(bytes, offset);
  }

  batch(b: RecordSpan, out: T[] = []): T[] {
    const { view, offsets, lengths, count } = b;
    out.length = 0;
    const size = this.size;
    const at = this.at;
    for (let i = 0; i < count; i++) {
      if (lengths[i]! < size) {
        throw new DecodeError(
          `${this.label}: record ${i} of the batch holds ${lengths[i]} bytes, the struct needs ${size}`,
        );
      }
      out.push(at(view, offsets[i]!));
    }
    return out;
  }
}
