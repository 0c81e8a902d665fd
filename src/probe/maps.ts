// Map declarations (map(), HashMap, ArrayMap, PerfMap, RingBuf, ProgArray, StackTraceMap) and
// MapData. Declared maps are found by src/compiler/module/scan.ts (the .maps section and its
// BTF); their methods (get/set/delete, output, reserve, tailCall…) are lowered by
// src/compiler/lower/intrinsics.ts (mapMethod).
import type { Infer, Type } from "../types/type.js";
import { kernelOnly, unused } from "./kernel-only.js";
import type { AnyContext } from "./context.js";
import type { ProgramDecl } from "./programs.js";
import type { Histogram } from "./histogram.js";
import type { SockHash, SockMap } from "./socket-kinds.js";

/** Map options shared by every map kind. */
export interface MapOptions {
  /** `max_entries` of the map. */
  maxEntries: number;
  /** `map_flags` (BPF_F_*), default 0. */
  flags?: number;
}

/** Names a map: `const counts = map("counts", new HashMap(u32, u64, { maxEntries: 64 }))`. */
export function map<M extends AnyMap>(name: string, definition: M): M {
  void name;
  return definition;
}

/** A key/value map. `get` returns a live reference into the map value (or null). */
interface KeyValueMap<K extends Type, V extends Type> {
  /** Looks up `key`; the result is a reference: assigning its fields updates the map. */
  get(key: Infer<K>): Infer<V> | null;
  /** Inserts or replaces; returns 0 or a negative errno. */
  set(key: Infer<K>, value: Infer<V>, flags?: number): number;
  /** Deletes; returns 0 or a negative errno (-ENOENT when absent). */
  delete(key: Infer<K>): number;
}

export class HashMap<K extends Type, V extends Type> implements KeyValueMap<K, V> {
  declare private readonly __kind: "hash";
  constructor(key: K, value: V, options: MapOptions) {
    unused(key, value, options);
    kernelOnly();
  }
  get(key: Infer<K>): Infer<V> | null {
    void key;
    return kernelOnly();
  }
  set(key: Infer<K>, value: Infer<V>, flags?: number): number {
    unused(key, value, flags);
    return kernelOnly();
  }
  /**
   * Atomically adds `n` to the value at `key` (`lock xadd`; u32/u64/i32/i64 values),
   * inserting `n` when the key is missing. Returns 0 or a negative errno (-E2BIG: map full).
   * Lowered by src/compiler/lower/map-add.ts.
   */
  add(key: Infer<K>, n: Infer<V> & (number | bigint)): number {
    unused(key, n);
    return kernelOnly();
  }
  delete(key: Infer<K>): number {
    void key;
    return kernelOnly();
  }
}

export class PerCpuHashMap<K extends Type, V extends Type> extends HashMap<K, V> {
  declare private readonly __percpu: "percpu_hash";
}

export class LruHashMap<K extends Type, V extends Type> extends HashMap<K, V> {
  declare private readonly __lru: "lru_hash";
}

export class LruPerCpuHashMap<K extends Type, V extends Type> extends HashMap<K, V> {
  declare private readonly __lrupercpu: "lru_percpu_hash";
}

/** Keys are `u32` indexes below `maxEntries`; every entry exists (zeroed). */
export class ArrayMap<V extends Type> {
  declare private readonly __kind: "array";
  constructor(value: V, options: MapOptions) {
    unused(value, options);
    kernelOnly();
  }
  get(index: number): Infer<V> | null {
    void index;
    return kernelOnly();
  }
  /** Atomically adds `n` to the value at `index` (`lock xadd`; u32/u64/i32/i64 values);
   * returns 0, or -ENOENT for an index past maxEntries. */
  add(index: number, n: Infer<V> & (number | bigint)): number {
    unused(index, n);
    return kernelOnly();
  }
  set(index: number, value: Infer<V>, flags?: number): number {
    unused(index, value, flags);
    return kernelOnly();
  }
}

export class PerCpuArrayMap<V extends Type> extends ArrayMap<V> {
  declare private readonly __percpu: "percpu_array";
}

/** Longest-prefix-match trie; the key type must start with a u32 prefix length. */
export class LpmTrieMap<K extends Type, V extends Type> extends HashMap<K, V> {
  declare private readonly __lpm: "lpm_trie";
}

/** Anything that can be sent through a perf or ring buffer. */
export type Event<V extends Type> = Infer<V> | MapData<Infer<V>>;

/** Perf event array: one ring per CPU, read with `Loader` events in user space. */
export class PerfMap<V extends Type> {
  declare private readonly __kind: "perf";
  constructor(value: V, options?: Partial<MapOptions>) {
    unused(value, options);
    kernelOnly();
  }
  /** `bpf_perf_event_output` on the current CPU; with MapData, packet bytes follow. */
  insert(ctx: AnyContext, event: Event<V>): number {
    unused(ctx, event);
    return kernelOnly();
  }
}

/** BPF ring buffer; `maxEntries` is its size in bytes (a power of two, ≥ page size). */
export class RingBuf<V extends Type> {
  declare private readonly __kind: "ringbuf";
  constructor(value: V, options: MapOptions) {
    unused(value, options);
    kernelOnly();
  }
  /**
   * `bpf_ringbuf_output`: copies the value; returns 0 or a negative errno. With
   * `MapData.withPayload(value, offset, size)` (packet programs) the record is the MapData
   * header followed by a fixed 512-byte capture area holding min(size, 512) packet bytes from
   * the packet start; the record's `size` says how many.
   */
  output(value: Infer<V> | MapData<Infer<V>>, flags?: number): number {
    unused(value, flags);
    return kernelOnly();
  }
  /**
   * `bpf_ringbuf_reserve`: space for one event, written in place, or null when the ring is
   * full. Every path must then `submit` or `discard` it (the verifier checks).
   */
  reserve(): Infer<V> | null {
    return kernelOnly();
  }
  submit(event: Infer<V>, flags?: number): void {
    unused(event, flags);
    kernelOnly();
  }
  discard(event: Infer<V>, flags?: number): void {
    unused(event, flags);
    kernelOnly();
  }
}

/**
 * Options of a ProgArray: `values` fills its slots at load time with programs of this file
 * (declared above the map), as libbpf's `.values = { [i] = &prog }` does:
 * `values: [parseTcp, parseUdp]` (a hole or `null` leaves a slot empty) or `values: { 3: p }`.
 * Lowered by src/compiler/module/prog-array.ts.
 */
export interface ProgArrayOptions extends MapOptions {
  values?:
    | readonly (ProgramDecl<string> | null | undefined)[]
    | { readonly [index: number]: ProgramDecl<string> };
}

/** Program array for tail calls. */
export class ProgArray {
  declare private readonly __kind: "prog_array";
  constructor(options: ProgArrayOptions) {
    void options;
    kernelOnly();
  }
  /** Jumps to the program at `index`; returns only when the slot is empty. */
  tailCall(ctx: AnyContext, index: number): void {
    unused(ctx, index);
    kernelOnly();
  }
}

/** Stack trace map for `getStackId`. */
export class StackTraceMap {
  declare private readonly __kind: "stack_trace";
  constructor(options: MapOptions) {
    void options;
    kernelOnly();
  }
  /** `bpf_get_stackid`: an id into this map, or a negative errno. */
  getStackId(ctx: AnyContext, flags?: number): number {
    unused(ctx, flags);
    return kernelOnly();
  }
}

export type AnyMap =
  | HashMap<Type, Type>
  | ArrayMap<Type>
  | PerfMap<Type>
  | RingBuf<Type>
  | ProgArray
  | StackTraceMap
  | Histogram<Type>
  | Histogram<undefined>
  | SockMap
  | SockHash<Type>;

/** A value followed by packet bytes in a perf event (RedBPF's MapData). */
export class MapData<T> {
  declare private readonly __kind: "mapdata";
  declare readonly data: T;
  /**
   * `value`, then `offset` (u32: where the payload starts within the appended bytes) and
   * `size` (u32: how many bytes of the packet, counted from its first byte, are appended).
   */
  static withPayload<T>(value: T, offset: number, size: number): MapData<T> {
    unused(value, offset, size);
    return kernelOnly();
  }
}
