// eBPF maps from user space: create or open them, read and write elements through optional
// codecs, iterate, batch, pin. Element access reuses one attr and one key/value scratch buffer
// per map, so get/set allocate nothing beyond the decoded value.
import { unlinkSync } from "node:fs";
import type { Codec } from "../types/codec.js";
import type { MapSpec } from "../obj/maps-section.js";
import { MapType, nameOf } from "../obj/consts.js";
import { objName } from "../sys/attr.js";
import {
  Cmd,
  UpdateFlags,
  mapCreate,
  mapFreeze,
  mapDeleteBatch,
  mapGetFdById,
  mapLookupBatch,
  mapUpdateBatch,
  objGet,
  type MapCreateAttr,
} from "../sys/bpf.js";
import { pinObject } from "../load/pin.js";
import { possibleCpuCount } from "../sys/cpus.js";
import { Errno, SysError } from "../sys/errors.js";
import { FD, dupFd } from "../sys/fd.js";
import { mapInfo } from "../sys/info.js";
import { MapElemOps } from "../sys/map-elem.js";
import { TsbpfError } from "../errors.js";

export type { Codec };

/** How set() treats an existing element: BPF_ANY, BPF_NOEXIST, BPF_EXIST. */
export type UpdateMode = "any" | "noexist" | "exist";

/**
 * What `BpfMap.create` takes: the kernel-facing fields of a `MapSpec` (the one description of a
 * map, as `parseObject` reads it from an object), with `innerMap` an open map instead of a
 * template. The BPF_MAP_CREATE attr it becomes (sys/bpf.ts `MapCreateAttr`) stays internal.
 */
export interface BpfMapSpec
  extends
    Pick<MapSpec, "type" | "keySize" | "valueSize" | "maxEntries">,
    Partial<Pick<MapSpec, "name" | "flags" | "numaNode" | "btfKeyTypeId" | "btfValueTypeId">> {
  /** Bloom filter hash count, arena address, … */
  mapExtra?: bigint | number;
  /** For ARRAY_OF_MAPS / HASH_OF_MAPS: a map shaped like the inner maps (instead of innerMapFd). */
  innerMap?: BpfMap<unknown, unknown> | PerCpuMap<unknown, unknown>;
  innerMapFd?: number;
  /** offload device */
  ifindex?: number;
  btfFd?: number;
  btfVmlinuxValueTypeId?: number;
  valueTypeBtfObjFd?: number;
}

export interface MapCodecs<K, V> {
  key?: Codec<K>;
  value?: Codec<V>;
}

/** A map operation the caller got wrong (sizes, wrong kind of map), caught before any syscall. */
export class MapError extends TsbpfError {
  override readonly name = "MapError";
}

const PER_CPU_TYPES: ReadonlySet<number> = new Set([
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.LRU_PERCPU_HASH,
  MapType.PERCPU_CGROUP_STORAGE,
]);

/** Maps without keys: queue/stack (push/pop/peek) and bloom filters (push/contains). */
const KEYLESS_TYPES: ReadonlySet<number> = new Set([
  MapType.QUEUE,
  MapType.STACK,
  MapType.BLOOM_FILTER,
]);

export function isPerCpu(type: number): boolean {
  return PER_CPU_TYPES.has(type);
}

function updateFlags(mode: UpdateMode | number): number {
  if (typeof mode === "number") return mode;
  switch (mode) {
    case "any":
      return UpdateFlags.ANY;
    case "noexist":
      return UpdateFlags.NOEXIST;
    case "exist":
      return UpdateFlags.EXIST;
  }
}

const round8 = (n: number): number => (n + 7) & ~7;

/** State shared by every view of one kernel map (BpfMap / PerCpuMap over the same fd). */
class MapCore {
  readonly fd: FD;
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly id: number;
  /** Bytes one element's value occupies in syscalls (per-CPU: 8-aligned slot × possible CPUs). */
  readonly valueBytes: number;
  readonly cpus: number;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** DataViews over key/value, for codecs that read and write in place (see inPlace) */
  readonly keyView: DataView;
  readonly valueView: DataView;
  /** element commands on the key/value scratch buffers */
  private readonly ops: MapElemOps;
  pinnedAt: string | undefined;

  constructor(fd: FD, fallbackName?: string) {
    const info = mapInfo(fd.fd);
    this.fd = fd;
    this.type = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
    this.id = info.id;
    this.name = info.name || fallbackName || `map#${info.id}`;
    this.cpus = isPerCpu(info.type) ? possibleCpuCount() : 1;
    this.valueBytes = isPerCpu(info.type) ? round8(info.valueSize) * this.cpus : info.valueSize;
    this.key = new Uint8Array(Math.max(1, this.keySize));
    this.value = new Uint8Array(Math.max(1, this.valueBytes));
    this.keyView = new DataView(this.key.buffer, this.key.byteOffset, this.key.byteLength);
    this.valueView = new DataView(this.value.buffer, this.value.byteOffset, this.value.byteLength);
    this.ops = new MapElemOps(
      fd.fd,
      this.keySize > 0 ? this.key : null,
      this.valueBytes > 0 ? this.value : null,
    );
  }

  describe(): string {
    return `map "${this.name}" (${nameOf(MapType, this.type)})`;
  }

  /** The fd's number, or a clear error when the map was closed. */
  live(): number {
    if (this.fd.closed) throw new MapError(`${this.describe()} is closed`);
    return this.fd.fd;
  }

  /** Runs an element command on the scratch buffers; -errno on failure. */
  run(cmd: number, useKey: boolean, useValue: boolean, flags: number): number {
    this.live();
    return this.ops.run(cmd, useKey, useValue, flags);
  }

  fail(cmd: string, r: number): never {
    throw new SysError(cmd, -r, { subject: this.describe() });
  }
}

/** Encodes a key (or key-sized item) into `out`, checking sizes. */
function encodeInto<T>(
  core: MapCore,
  what: "key" | "value",
  codec: Codec<T> | undefined,
  v: T,
  out: Uint8Array,
  size: number,
): void {
  if (codec) {
    if (codec.size !== size)
      throw new MapError(
        `${core.describe()}: ${what} codec encodes ${codec.size} bytes but the map's ${what} size is ${size}`,
      );
    const bytes = codec.encode(v, out);
    if (bytes.buffer !== out.buffer || bytes.byteOffset !== out.byteOffset)
      out.set(bytes.subarray(0, size));
    return;
  }
  if (!(v instanceof Uint8Array))
    throw new MapError(
      `${core.describe()}: ${what} must be a Uint8Array of ${size} bytes (or give the map a ${what} codec)`,
    );
  if (v.byteLength !== size)
    throw new MapError(`${core.describe()}: ${what} must be ${size} bytes, got ${v.byteLength}`);
  out.set(v);
}

/** A codec that reads and writes at an offset of a DataView, as tsbpf/types types do. */
interface InPlaceCodec<T> extends Codec<T> {
  encodeInto(view: DataView, offset: number, value: T): void;
  decodeFrom(view: DataView, offset: number): T;
}

/**
 * Whether `codec` can work on the scratch buffers' persistent DataViews: the get/set hot path
 * then allocates no DataView or subarray per call (~40% more lookups/s in bench/).
 */
function inPlace<T>(codec: Codec<T> | undefined, size: number): codec is InPlaceCodec<T> {
  const c = codec as Partial<InPlaceCodec<T>> | undefined;
  return (
    c !== undefined &&
    c.size === size &&
    typeof c.encodeInto === "function" &&
    typeof c.decodeFrom === "function"
  );
}

function decodeFrom<T>(codec: Codec<T> | undefined, bytes: Uint8Array): T {
  return codec ? codec.decode(bytes) : (bytes.slice() as unknown as T);
}

/** Lookups into `value` through a key buffer of their own, so iteration never disturbs get/set. */
function lookupScratch(core: MapCore, value: Uint8Array): { key: Uint8Array; run: () => number } {
  const key = new Uint8Array(Math.max(1, core.keySize));
  const ops = new MapElemOps(core.live(), key, value);
  return {
    key,
    run: () => {
      core.live();
      return ops.run(Cmd.MAP_LOOKUP_ELEM, true, true, 0);
    },
  };
}

const ITER_YIELD_EVERY = 4096;
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** What BpfMap and PerCpuMap share: identity, keys, deletion, pinning, lifetime. */
abstract class MapHandle<K> {
  protected readonly core: MapCore;
  protected readonly keyCodec: Codec<K> | undefined;

  protected constructor(core: MapCore, keyCodec: Codec<K> | undefined) {
    this.core = core;
    this.keyCodec = keyCodec;
    if (keyCodec && keyCodec.size !== core.keySize)
      throw new MapError(
        `${core.describe()}: key codec encodes ${keyCodec.size} bytes but the map's key size is ${core.keySize}`,
      );
  }

  get fd(): number {
    return this.core.live();
  }
  get name(): string {
    return this.core.name;
  }
  get type(): number {
    return this.core.type;
  }
  get keySize(): number {
    return this.core.keySize;
  }
  get valueSize(): number {
    return this.core.valueSize;
  }
  get maxEntries(): number {
    return this.core.maxEntries;
  }
  get flags(): number {
    return this.core.flags;
  }
  /** Kernel map id (as bpftool shows it). */
  get id(): number {
    return this.core.id;
  }
  get closed(): boolean {
    return this.core.fd.closed;
  }
  /** Where pin() put this map, until unpin(). */
  get pinnedAt(): string | undefined {
    return this.core.pinnedAt;
  }

  protected encodeKey(key: K): void {
    if (KEYLESS_TYPES.has(this.core.type))
      throw new MapError(`${this.core.describe()} has no keys: use push/pop/peek`);
    const c = this.keyCodec;
    if (inPlace(c, this.core.keySize)) c.encodeInto(this.core.keyView, 0, key);
    else encodeInto(this.core, "key", c, key, this.core.key, this.core.keySize);
  }

  /** Removes `key`; false when it was not there. */
  delete(key: K): boolean {
    this.encodeKey(key);
    const r = this.core.run(Cmd.MAP_DELETE_ELEM, true, false, 0);
    if (r >= 0) return true;
    if (-r === Errno.ENOENT) return false;
    return this.core.fail("BPF_MAP_DELETE_ELEM", r);
  }

  /** Whether `key` is present. */
  has(key: K): boolean {
    this.encodeKey(key);
    const r = this.core.run(Cmd.MAP_LOOKUP_ELEM, true, true, 0);
    if (r >= 0) return true;
    if (-r === Errno.ENOENT) return false;
    return this.core.fail("BPF_MAP_LOOKUP_ELEM", r);
  }

  /** Raw keys in kernel order (own buffers: safe to call get/set/delete while iterating). */
  protected *rawKeys(): Generator<Uint8Array> {
    const core = this.core;
    if (KEYLESS_TYPES.has(core.type))
      throw new MapError(`${core.describe()} has no keys to iterate`);
    // Two key buffers take turns as "current" and "next": ops[0] asks cur → next, ops[1]
    // next → cur, so each step is one call and no copy.
    const bufs = [new Uint8Array(core.keySize), new Uint8Array(core.keySize)] as const;
    const fd = core.live();
    const ops = [new MapElemOps(fd, bufs[0], bufs[1]), new MapElemOps(fd, bufs[1], bufs[0])];
    let turn = 0;
    let first = true;
    for (;;) {
      core.live();
      const r = ops[turn]!.run(Cmd.MAP_GET_NEXT_KEY, !first, true, 0);
      if (r < 0) {
        if (-r === Errno.ENOENT) return;
        core.fail("BPF_MAP_GET_NEXT_KEY", r);
      }
      first = false;
      turn ^= 1;
      // after the swap, bufs[turn] holds the key just fetched
      yield bufs[turn]!.slice();
    }
  }

  /** Keys, decoded with the key codec. */
  *keysSync(): Generator<K> {
    for (const k of this.rawKeys()) yield decodeFrom(this.keyCodec, k);
  }

  /** Keys as an async iterable that lets the event loop run during long maps. */
  async *keys(): AsyncGenerator<K> {
    let n = 0;
    for (const k of this.keysSync()) {
      yield k;
      if (++n % ITER_YIELD_EVERY === 0) await yieldToLoop();
    }
  }

  /** Deletes every element (hash-like maps; array elements cannot be deleted). */
  clear(): number {
    let n = 0;
    for (const k of [...this.rawKeys()]) {
      this.core.key.set(k);
      const r = this.core.run(Cmd.MAP_DELETE_ELEM, true, false, 0);
      if (r >= 0) n++;
      else if (-r !== Errno.ENOENT) this.core.fail("BPF_MAP_DELETE_ELEM", r);
    }
    return n;
  }

  /** Deletes `keys` in one syscall (kernel ≥ 5.6); returns how many were deleted. */
  deleteBatch(keys: readonly K[]): number {
    const core = this.core;
    if (keys.length === 0) return 0;
    const buf = new Uint8Array(keys.length * core.keySize);
    keys.forEach((k, i) =>
      encodeInto(
        core,
        "key",
        this.keyCodec,
        k,
        buf.subarray(i * core.keySize, (i + 1) * core.keySize),
        core.keySize,
      ),
    );
    return batchCall(core, "delete", () =>
      mapDeleteBatch(core.live(), { keys: buf, values: null, count: keys.length }),
    );
  }

  /** Makes the map read-only from user space (programs can still write). */
  freeze(): void {
    try {
      mapFreeze(this.core.live());
    } catch (e) {
      if (e instanceof SysError) e.message = `${this.core.describe()}: ${e.message}`;
      throw e;
    }
  }

  /** Pins the map at `path` on bpffs (mounting /sys/fs/bpf when needed and possible). */
  pin(path: string): void {
    pinObject(this.core.live(), path, this.core.describe());
    this.core.pinnedAt = path;
  }

  /** Removes the pin made by pin() (or the one at `path`). The map lives on while fds remain. */
  unpin(path: string | undefined = this.core.pinnedAt): void {
    if (path === undefined) throw new MapError(`${this.core.describe()} is not pinned`);
    try {
      unlinkSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new MapError(
        code === "ENOENT"
          ? `${this.core.describe()}: nothing is pinned at ${path} (already unpinned?)`
          : `${this.core.describe()}: cannot remove the pin ${path}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    if (path === this.core.pinnedAt) this.core.pinnedAt = undefined;
  }

  /** Closes the fd (shared by every view of this map). Safe to call twice. */
  close(): void {
    this.core.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return `${this.core.describe()} key ${this.keySize} B, value ${this.valueSize} B, ${this.maxEntries} entries`;
  }
}

const BATCH_UNSUPPORTED: ReadonlySet<number> = new Set([
  Errno.EINVAL,
  Errno.EOPNOTSUPP,
  Errno.ENOTSUPP,
]);

function batchCall<T>(core: MapCore, op: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SysError && BATCH_UNSUPPORTED.has(e.errno))
      throw new SysError(e.syscall, e.errno, {
        subject: core.describe(),
        hint: `batch ${op} is not supported for this map type on this kernel (needs ≥ 5.6; arrays cannot delete): use the per-element methods`,
      });
    if (e instanceof SysError) e.message = `${core.describe()}: ${e.message}`;
    throw e;
  }
}

function openCore(fd: FD, fallbackName?: string): MapCore {
  try {
    return new MapCore(fd, fallbackName);
  } catch (e) {
    fd.close();
    throw e;
  }
}

/** `make(core)`, closing the core's fd when it throws (a codec that does not fit the map). */
function owning<T>(core: MapCore, make: (core: MapCore) => T): T {
  try {
    return make(core);
  } catch (e) {
    core.fd.close();
    throw e;
  }
}

function createCore(spec: BpfMapSpec): MapCore {
  const { innerMap, ...fields } = spec;
  const attr: MapCreateAttr = fields;
  if (innerMap) attr.innerMapFd = innerMap.fd;
  // The kernel only accepts LPM tries without preallocation.
  if (spec.type === MapType.LPM_TRIE) attr.flags = (spec.flags ?? 0) | 1;
  // One perf event slot per possible CPU unless told otherwise (as libbpf does).
  if (spec.type === MapType.PERF_EVENT_ARRAY && !spec.maxEntries)
    attr.maxEntries = possibleCpuCount();
  return openCore(mapCreate(attr), spec.name === undefined ? undefined : objName(spec.name));
}

/**
 * A kernel map. K and V are what `get`/`set` take and return: raw `Uint8Array`s of exactly
 * keySize/valueSize bytes, or whatever the codecs decode. Per-CPU maps are read through
 * `perCpu()` (values are one element per possible CPU).
 */
export class BpfMap<K = Uint8Array, V = Uint8Array> extends MapHandle<K> {
  protected readonly valueCodec: Codec<V> | undefined;

  protected constructor(core: MapCore, codecs: MapCodecs<K, V> = {}) {
    super(core, codecs.key);
    this.valueCodec = codecs.value;
    if (codecs.value && codecs.value.size !== core.valueSize)
      throw new MapError(
        `${core.describe()}: value codec encodes ${codecs.value.size} bytes but the map's value size is ${core.valueSize}`,
      );
  }

  /** Creates a map. LPM tries get BPF_F_NO_PREALLOC; perf event arrays default to one slot per CPU. */
  static create<K = Uint8Array, V = Uint8Array>(
    spec: BpfMapSpec,
    codecs?: MapCodecs<K, V>,
  ): BpfMap<K, V> {
    return owning(createCore(spec), (core) => new BpfMap(core, codecs));
  }

  /** Opens the map pinned at `path`. */
  static fromPin<K = Uint8Array, V = Uint8Array>(
    path: string,
    codecs?: MapCodecs<K, V>,
    opts: { readOnly?: boolean } = {},
  ): BpfMap<K, V> {
    return owning(
      openCore(objGet(path, opts.readOnly ? 1 << 3 : 0)),
      (core) => new BpfMap(core, codecs),
    );
  }

  /** Wraps a map fd: an FD is taken over, a plain number is duplicated (the caller keeps it). */
  static fromFd<K = Uint8Array, V = Uint8Array>(
    fd: FD | number,
    codecs?: MapCodecs<K, V>,
  ): BpfMap<K, V> {
    return owning(
      openCore(typeof fd === "number" ? dupFd(fd) : fd),
      (core) => new BpfMap(core, codecs),
    );
  }

  /** Opens a map by its kernel id. */
  static fromId<K = Uint8Array, V = Uint8Array>(
    id: number,
    codecs?: MapCodecs<K, V>,
  ): BpfMap<K, V> {
    return owning(openCore(mapGetFdById(id)), (core) => new BpfMap(core, codecs));
  }

  /** Another view of the same map with different codecs (shares the fd: closing one closes both). */
  withCodecs<K2 = Uint8Array, V2 = Uint8Array>(codecs: MapCodecs<K2, V2>): BpfMap<K2, V2> {
    return new BpfMap(this.core, codecs);
  }

  /** The per-CPU view of a per-CPU map (shares the fd), values decoded per CPU with `codecs.value`. */
  perCpu<K2 = K, T = Uint8Array>(codecs: MapCodecs<K2, T> = {}): PerCpuMap<K2, T> {
    const key = (codecs.key ?? this.keyCodec) as Codec<K2> | undefined;
    return PerCpuMap.view(this.core, { key, value: codecs.value });
  }

  /** Whether values are per CPU (read those through perCpu()). */
  get isPerCpu(): boolean {
    return isPerCpu(this.core.type);
  }

  private checkNotPerCpu(): void {
    if (isPerCpu(this.core.type))
      throw new MapError(
        `${this.core.describe()} has one value per CPU: use map.perCpu() to read and write it`,
      );
  }

  private encodeValue(value: V): void {
    encodeInto(this.core, "value", this.valueCodec, value, this.core.value, this.core.valueSize);
  }

  /** The value at `key`, or undefined when absent. */
  get(key: K): V | undefined {
    this.checkNotPerCpu();
    this.encodeKey(key);
    const r = this.core.run(Cmd.MAP_LOOKUP_ELEM, true, true, 0);
    if (r < 0) {
      if (-r === Errno.ENOENT) return undefined;
      this.core.fail("BPF_MAP_LOOKUP_ELEM", r);
    }
    const c = this.valueCodec;
    if (inPlace(c, this.core.valueSize)) return c.decodeFrom(this.core.valueView, 0);
    return decodeFrom(c, this.core.value.subarray(0, this.core.valueSize));
  }

  /** Stores `value` at `key`. "noexist" fails with EEXIST when present, "exist" with ENOENT when absent. */
  set(key: K, value: V, mode: UpdateMode | number = "any"): void {
    this.checkNotPerCpu();
    this.encodeKey(key);
    this.encodeValue(value);
    const r = this.core.run(Cmd.MAP_UPDATE_ELEM, true, true, updateFlags(mode));
    if (r < 0) this.core.fail("BPF_MAP_UPDATE_ELEM", r);
  }

  /** Looks up and removes `key` atomically (hash maps on kernel ≥ 5.14). */
  take(key: K): V | undefined {
    this.checkNotPerCpu();
    this.encodeKey(key);
    return this.lookupAndDelete(true);
  }

  private lookupAndDelete(withKey: boolean): V | undefined {
    const r = this.core.run(Cmd.MAP_LOOKUP_AND_DELETE_ELEM, withKey, true, 0);
    if (r < 0) {
      if (-r === Errno.ENOENT) return undefined;
      this.core.fail("BPF_MAP_LOOKUP_AND_DELETE_ELEM", r);
    }
    return decodeFrom(this.valueCodec, this.core.value.subarray(0, this.core.valueSize));
  }

  private checkKind(op: string, kinds: readonly number[]): void {
    if (!kinds.includes(this.core.type))
      throw new MapError(
        `${this.core.describe()}: ${op}() is for ${kinds.map((k) => nameOf(MapType, k)).join("/")} maps`,
      );
  }

  /** Queue/stack: adds a value ("exist" on a full map replaces the oldest). Bloom filter: adds. */
  push(value: V, mode: UpdateMode | number = "any"): void {
    this.checkKind("push", [MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER]);
    this.encodeValue(value);
    const r = this.core.run(Cmd.MAP_UPDATE_ELEM, false, true, updateFlags(mode));
    if (r < 0) this.core.fail("BPF_MAP_UPDATE_ELEM", r);
  }

  /** Queue/stack: removes and returns the next value, undefined when empty. */
  pop(): V | undefined {
    this.checkKind("pop", [MapType.QUEUE, MapType.STACK]);
    return this.lookupAndDelete(false);
  }

  /** Queue/stack: the next value without removing it, undefined when empty. */
  peek(): V | undefined {
    this.checkKind("peek", [MapType.QUEUE, MapType.STACK]);
    const r = this.core.run(Cmd.MAP_LOOKUP_ELEM, false, true, 0);
    if (r < 0) {
      if (-r === Errno.ENOENT) return undefined;
      this.core.fail("BPF_MAP_LOOKUP_ELEM", r);
    }
    return decodeFrom(this.valueCodec, this.core.value.subarray(0, this.core.valueSize));
  }

  /** Bloom filter: false means certainly absent, true means probably present. */
  contains(value: V): boolean {
    this.checkKind("contains", [MapType.BLOOM_FILTER]);
    this.encodeValue(value);
    const r = this.core.run(Cmd.MAP_LOOKUP_ELEM, false, true, 0);
    if (r >= 0) return true;
    if (-r === Errno.ENOENT) return false;
    return this.core.fail("BPF_MAP_LOOKUP_ELEM", r);
  }

  /** [key, value] pairs; elements deleted while iterating are skipped. */
  *entriesSync(): Generator<[K, V]> {
    this.checkNotPerCpu();
    const value = new Uint8Array(Math.max(1, this.core.valueSize));
    const { key, run } = lookupScratch(this.core, value);
    for (const k of this.rawKeys()) {
      key.set(k);
      const r = run();
      if (r < 0) {
        if (-r === Errno.ENOENT) continue;
        this.core.fail("BPF_MAP_LOOKUP_ELEM", r);
      }
      yield [decodeFrom(this.keyCodec, k), decodeFrom(this.valueCodec, value)];
    }
  }

  *valuesSync(): Generator<V> {
    for (const [, v] of this.entriesSync()) yield v;
  }

  [Symbol.iterator](): Generator<[K, V]> {
    return this.entriesSync();
  }

  async *entries(): AsyncGenerator<[K, V]> {
    let n = 0;
    for (const e of this.entriesSync()) {
      yield e;
      if (++n % ITER_YIELD_EVERY === 0) await yieldToLoop();
    }
  }

  async *values(): AsyncGenerator<V> {
    for await (const [, v] of this.entries()) yield v;
  }

  /**
   * Every element through BPF_MAP_LOOKUP_BATCH (kernel ≥ 5.6), `batchSize` per syscall.
   * With `andDelete` the elements are removed as they are read (hash maps).
   */
  getBatch(opts: { batchSize?: number; andDelete?: boolean } = {}): Array<[K, V]> {
    this.checkNotPerCpu();
    return lookupAll(
      this.core,
      opts,
      (k, v) => [decodeFrom(this.keyCodec, k), decodeFrom(this.valueCodec, v)] as [K, V],
    );
  }

  /** Writes all entries in one syscall (kernel ≥ 5.6); returns how many were written. */
  setBatch(entries: Iterable<readonly [K, V]>, mode: UpdateMode | number = "any"): number {
    this.checkNotPerCpu();
    const core = this.core;
    const list = [...entries];
    if (list.length === 0) return 0;
    const keys = new Uint8Array(list.length * core.keySize);
    const values = new Uint8Array(list.length * core.valueSize);
    list.forEach(([k, v], i) => {
      encodeInto(
        core,
        "key",
        this.keyCodec,
        k,
        keys.subarray(i * core.keySize, (i + 1) * core.keySize),
        core.keySize,
      );
      encodeInto(
        core,
        "value",
        this.valueCodec,
        v,
        values.subarray(i * core.valueSize, (i + 1) * core.valueSize),
        core.valueSize,
      );
    });
    return batchCall(core, "update", () =>
      mapUpdateBatch(core.live(), {
        keys,
        values,
        count: list.length,
        elemFlags: updateFlags(mode),
      }),
    );
  }
}

/** Reads every element with LOOKUP_BATCH, growing the batch when a hash bucket does not fit. */
function lookupAll<T>(
  core: MapCore,
  opts: { batchSize?: number; andDelete?: boolean },
  make: (k: Uint8Array, v: Uint8Array) => T,
): T[] {
  let batch = Math.max(1, Math.min(opts.batchSize ?? 256, core.maxEntries || 256));
  // The cursor is opaque: at least the key size for hash maps, 4 bytes for arrays.
  const cursorSize = Math.max(8, core.keySize);
  let inBatch: Uint8Array | null = null;
  let outBatch: Uint8Array = new Uint8Array(cursorSize);
  const out: T[] = [];
  for (;;) {
    const keys = new Uint8Array(batch * core.keySize);
    const values = new Uint8Array(batch * core.valueBytes);
    let res;
    try {
      res = batchCall(core, "lookup", () =>
        mapLookupBatch(
          core.live(),
          { inBatch, outBatch, keys, values, count: batch },
          opts.andDelete ?? false,
        ),
      );
    } catch (e) {
      // A hash bucket larger than the batch: retry the same step with room for it.
      if (e instanceof SysError && e.errno === Errno.ENOSPC && batch < 1 << 20) {
        batch *= 2;
        continue;
      }
      throw e;
    }
    for (let i = 0; i < res.count; i++)
      out.push(
        make(
          keys.subarray(i * core.keySize, (i + 1) * core.keySize),
          values.subarray(i * core.valueBytes, (i + 1) * core.valueBytes),
        ),
      );
    if (res.done) return out;
    // The next call starts from where this one stopped.
    const next: Uint8Array = inBatch ?? new Uint8Array(cursorSize);
    inBatch = outBatch;
    outBatch = next;
  }
}

/**
 * A per-CPU map (PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH): each value is an array with one
 * element per possible CPU, in CPU order. The kernel lays slots out 8-byte aligned; this view
 * hides that.
 */
export class PerCpuMap<K = Uint8Array, T = Uint8Array> extends MapHandle<K> {
  protected readonly valueCodec: Codec<T> | undefined;

  private constructor(core: MapCore, codecs: MapCodecs<K, T>) {
    super(core, codecs.key);
    if (!isPerCpu(core.type))
      throw new MapError(`${core.describe()} is not a per-CPU map: use BpfMap`);
    this.valueCodec = codecs.value;
    if (codecs.value && codecs.value.size !== core.valueSize)
      throw new MapError(
        `${core.describe()}: value codec encodes ${codecs.value.size} bytes but the map's value size is ${core.valueSize}`,
      );
  }

  /** @internal a view over an existing core */
  static view<K, T>(core: MapCore, codecs: MapCodecs<K, T>): PerCpuMap<K, T> {
    return new PerCpuMap(core, codecs);
  }

  static create<K = Uint8Array, T = Uint8Array>(
    spec: BpfMapSpec,
    codecs: MapCodecs<K, T> = {},
  ): PerCpuMap<K, T> {
    const core = createCore(spec);
    try {
      return new PerCpuMap(core, codecs);
    } catch (e) {
      core.fd.close();
      throw e;
    }
  }

  static fromPin<K = Uint8Array, T = Uint8Array>(
    path: string,
    codecs: MapCodecs<K, T> = {},
  ): PerCpuMap<K, T> {
    const core = openCore(objGet(path));
    try {
      return new PerCpuMap(core, codecs);
    } catch (e) {
      core.fd.close();
      throw e;
    }
  }

  /** Number of values per element (possible CPUs). */
  get cpus(): number {
    return this.core.cpus;
  }

  private slot(i: number, all: Uint8Array = this.core.value): Uint8Array {
    const stride = round8(this.core.valueSize);
    return all.subarray(i * stride, i * stride + this.core.valueSize);
  }

  private decodeAll(all: Uint8Array): T[] {
    const out: T[] = new Array<T>(this.core.cpus);
    for (let i = 0; i < this.core.cpus; i++)
      out[i] = decodeFrom(this.valueCodec, this.slot(i, all));
    return out;
  }

  private encodeAll(values: readonly T[] | T, all: Uint8Array): void {
    const cpus = this.core.cpus;
    const list = Array.isArray(values) ? (values as readonly T[]) : null;
    if (list && list.length !== cpus)
      throw new MapError(
        `${this.core.describe()}: expected ${cpus} values (one per possible CPU), got ${list.length}`,
      );
    all.fill(0);
    for (let i = 0; i < cpus; i++)
      encodeInto(
        this.core,
        "value",
        this.valueCodec,
        list ? list[i]! : (values as T),
        this.slot(i, all),
        this.core.valueSize,
      );
  }

  /** One value per possible CPU, or undefined when the key is absent. */
  get(key: K): T[] | undefined {
    this.encodeKey(key);
    const r = this.core.run(Cmd.MAP_LOOKUP_ELEM, true, true, 0);
    if (r < 0) {
      if (-r === Errno.ENOENT) return undefined;
      this.core.fail("BPF_MAP_LOOKUP_ELEM", r);
    }
    return this.decodeAll(this.core.value);
  }

  /** Sets every CPU's value: an array with one value per possible CPU, or one value for all. */
  set(key: K, values: readonly T[] | T, mode: UpdateMode | number = "any"): void {
    this.encodeKey(key);
    this.encodeAll(values, this.core.value);
    const r = this.core.run(Cmd.MAP_UPDATE_ELEM, true, true, updateFlags(mode));
    if (r < 0) this.core.fail("BPF_MAP_UPDATE_ELEM", r);
  }

  *entriesSync(): Generator<[K, T[]]> {
    const value = new Uint8Array(this.core.valueBytes);
    const { key, run } = lookupScratch(this.core, value);
    for (const k of this.rawKeys()) {
      key.set(k);
      const r = run();
      if (r < 0) {
        if (-r === Errno.ENOENT) continue;
        this.core.fail("BPF_MAP_LOOKUP_ELEM", r);
      }
      yield [decodeFrom(this.keyCodec, k), this.decodeAll(value)];
    }
  }

  [Symbol.iterator](): Generator<[K, T[]]> {
    return this.entriesSync();
  }

  async *entries(): AsyncGenerator<[K, T[]]> {
    let n = 0;
    for (const e of this.entriesSync()) {
      yield e;
      if (++n % ITER_YIELD_EVERY === 0) await yieldToLoop();
    }
  }

  async *values(): AsyncGenerator<T[]> {
    for await (const [, v] of this.entries()) yield v;
  }

  getBatch(opts: { batchSize?: number; andDelete?: boolean } = {}): Array<[K, T[]]> {
    return lookupAll(
      this.core,
      opts,
      (k, v) => [decodeFrom(this.keyCodec, k), this.decodeAll(v)] as [K, T[]],
    );
  }

  setBatch(
    entries: Iterable<readonly [K, readonly T[] | T]>,
    mode: UpdateMode | number = "any",
  ): number {
    const core = this.core;
    const list = [...entries];
    if (list.length === 0) return 0;
    const keys = new Uint8Array(list.length * core.keySize);
    const values = new Uint8Array(list.length * core.valueBytes);
    list.forEach(([k, v], i) => {
      encodeInto(
        core,
        "key",
        this.keyCodec,
        k,
        keys.subarray(i * core.keySize, (i + 1) * core.keySize),
        core.keySize,
      );
      this.encodeAll(v, values.subarray(i * core.valueBytes, (i + 1) * core.valueBytes));
    });
    return batchCall(core, "update", () =>
      mapUpdateBatch(core.live(), {
        keys,
        values,
        count: list.length,
        elemFlags: updateFlags(mode),
      }),
    );
  }
}
