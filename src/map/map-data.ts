// RedBPF's MapData<T> for user space: a probe sends `struct { T data; u32 offset; u32 size; }`
// followed by the first `size` bytes of the packet (bpf_perf_event_output with the packet
// length in the flags); the interesting part — e.g. an HTTP request line — starts at `offset`.
import {
  struct,
  u32,
  type Infer,
  type IntType,
  type RecordDecoder,
  type StructType,
  type Type,
} from "../types/index.js";
import { MAX_NAME_LENGTH } from "../types/ident.js";

/** The fixed part of a MapData record for `T`: `struct { T data; u32 offset; u32 size; }`. */
export type MapDataHeader<T extends Type> = StructType<{
  data: T;
  offset: IntType<"u32", number>;
  size: IntType<"u32", number>;
}>;

/** One decoded MapData record. */
export interface MapDataRecord<T> {
  /** the probe's value */
  data: T;
  /** where the payload starts within the packet bytes */
  offset: number;
  /** how many packet bytes the probe sent */
  size: number;
  /**
   * Packet bytes `offset` to `size`, cut short when the record is. A view into the input,
   * not a copy: `slice()` it to keep it after the reader reuses its buffer.
   */
  payload: Uint8Array;
  /**
   * The input was shorter than the header plus `size` packet bytes. Fields the input did not
   * reach decode as zero, and `payload` holds only what was there.
   */
  truncated: boolean;
}

const headers = new WeakMap<Type, MapDataHeader<Type>>();
/** Compiled decoders of the headers (StructType.decoder(): plain objects, no per-field walk). */
const decoders = new WeakMap<
  Type,
  RecordDecoder<{ data: unknown; offset: number; size: number }>
>();

/** A C identifier for the header of `T`, e.g. `MapData_RequestInfo`, `MapData_u8_16`. */
function headerName(t: Type): string {
  const suffix = (x: Type): string =>
    x.kind === "array" ? `${suffix(x.element)}_${x.length}` : x.name;
  return `MapData_${suffix(t)}`.slice(0, MAX_NAME_LENGTH);
}

/**
 * The C layout of MapData<T> (natural alignment, so `offset` follows `data` at the next
 * 4-byte boundary and the size is padded to T's alignment). The same object for the same
 * `T`, so the compiler can use it for layout and BTF and user space for decoding.
 */
export function mapDataHeader<T extends Type>(type: T): MapDataHeader<T> {
  let h = headers.get(type);
  if (h === undefined) {
    h = struct(headerName(type), { data: type as Type, offset: u32, size: u32 });
    headers.set(type, h);
  }
  return h as MapDataHeader<T>;
}

export const MapData = {
  /** See mapDataHeader. */
  header: mapDataHeader,

  /** sizeof(MapData<T>): where the packet bytes start in a record. */
  headerSize(type: Type): number {
    return mapDataHeader(type).size;
  },

  /**
   * Decode a record as sent by a probe. Never throws on short or garbled input: a record
   * cut short comes back with `truncated: true` (see MapDataRecord), and an `offset` beyond
   * `size` gives an empty payload.
   */
  decode<T extends Type>(type: T, raw: Uint8Array): MapDataRecord<Infer<T>> {
    const h = mapDataHeader(type);
    let head = raw;
    if (raw.byteLength < h.size) {
      head = new Uint8Array(h.size);
      head.set(raw);
    }
    let dec = decoders.get(type);
    if (dec === undefined) decoders.set(type, (dec = h.decoder()));
    const { data, offset, size } = dec.decode(head);
    const end = Math.min(h.size + size, raw.byteLength);
    const start = Math.min(h.size + offset, end);
    return {
      data: data as Infer<T>,
      offset,
      size,
      payload: raw.subarray(start, end),
      truncated: raw.byteLength < h.size + size,
    };
  },
} as const;
