// Loading an eBPF object into the kernel: BTF, then maps (incl. global data and pinned
// maps), then programs with their map references patched in. The object model comes from
// src/obj (pure); this module is the sequence of syscalls libbpf's bpf_object__load performs.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  linkedParts,
  parseObject,
  type BpfObject,
  type LinkedParts,
  type MapSpec,
  type ProgramSpec,
} from "../obj/object.js";
import { encodeBtf } from "../obj/btf.js";
import {
  kernelFuncInfo,
  kernelLineInfo,
  KERNEL_FUNC_INFO_SIZE,
  KERNEL_LINE_INFO_SIZE,
} from "../obj/btf-ext.js";
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, encodeInsns, type Insn } from "../obj/insn.js";
import { BpfFlags, MapType, ProgType, nameOf } from "../obj/consts.js";
import { btfLoad, progLoad } from "../sys/bpf.js";
import type { FD } from "../sys/fd.js";
import { SysError, Errno } from "../sys/errors.js";
import { ensureBpffs } from "../sys/bpffs.js";
import { BpfMap, MapError } from "../map/map.js";
import type { GlobalVariable } from "../obj/maps-section.js";
import { ObjectError } from "../obj/errors.js";
import { endReadersOf } from "../reader/source.js";
import { AttachError } from "../link/errors.js";
import { Program } from "./program.js";
import { VerifierError } from "./verifier.js";
import { kernelBtfTypeId } from "./kernel-btf.js";
import { kconfigData, resolveKsym } from "./kconfig.js";
import { ModuleBtfFds } from "./module-btf.js";
import { applyCore, coreVerifierError, resolveCore, type CoreResults } from "./core-relocate.js";
import { TsbpfError } from "../errors.js";

/**
 * A Collection (or Loader) cannot do what it was asked with this object: the object file cannot
 * be read, or a name given (program, map, global variable) is not in the object, or a value
 * given for a global does not fit it. The message names the thing and what there is instead.
 */
export class LoadError extends TsbpfError {
  override readonly name = "LoadError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface CollectionOptions {
  /**
   * Values for global variables set before load — `const volatile` configuration in `.rodata`
   * and initial values in `.data`/`.bss`. Numbers are written little-endian at the variable's
   * size; bigints likewise; Uint8Arrays must have the variable's exact size.
   */
  globals?: Record<string, number | bigint | Uint8Array>;
  /** Directory for maps declared `pinning: by-name` (default /sys/fs/bpf). */
  pinPath?: string;
  /** Use these maps instead of creating the object's maps of the same name. */
  maps?: Record<string, BpfMap>;
  /** Verifier log level for every program: 0 logs only on failure (default), 1 or 2 always. */
  logLevel?: number;
  /** Load only these programs (by name); the default loads all. */
  programs?: readonly string[];
  /**
   * Programs not to load (`{ name: false }`), like libbpf's `bpf_program__set_autoload`; a
   * program set `true` loads (the default). Combines with `programs`.
   */
  autoload?: Record<string, boolean>;
  /**
   * `max_entries` of maps before they are created (`{ events: 1 << 20 }`), like libbpf's
   * `bpf_map__set_max_entries`; global data maps keep their size.
   */
  maxEntries?: Record<string, number>;
  /**
   * `value_size` of maps before they are created, like libbpf's `bpf_map__set_value_size`.
   * For a global data map (`.data.arr`, `.bss`, …) this resizes the section: its initial
   * bytes are kept and the new ones start zeroed (typically the section's last variable is an
   * array the program indexes with a bound from `.rodata`). A resized map is created without
   * its BTF key/value types (they describe the old size; libbpf rewrites the section's BTF
   * instead), so `bpftool map dump` shows it as raw bytes.
   */
  valueSize?: Record<string, number>;
  /**
   * The kernel function (fentry/fexit) or BTF tracepoint (tp_btf) a program attaches to,
   * over what its section names — or for a bare `SEC("fentry")` — like libbpf's
   * `bpf_program__set_attach_target`. The attach point is fixed at load, so this is the
   * only way to choose it.
   */
  attachTargets?: Record<string, string>;
  /**
   * The target kernel's BTF for CO-RE relocations, as a file: raw BTF (e.g. from BTFHub, or
   * `/sys/kernel/btf/vmlinux` copied from the target) or an ELF with a .BTF section. Default:
   * the running kernel's `/sys/kernel/btf/vmlinux` and its modules' BTF.
   */
  btfPath?: string;
  /**
   * A kernel config file (plain or gzip, `CONFIG_X=y` lines) for the object's `CONFIG_*`
   * `__kconfig` externs, instead of `/boot/config-$(uname -r)` or `/proc/config.gz`.
   */
  kconfigPath?: string;
  /**
   * Kconfig lines (`"CONFIG_HZ=1000\nCONFIG_BPF_SYSCALL=y"`) that set `__kconfig` externs over
   * the config file, like libbpf's `kconfig` open option; externs all set here need no file.
   */
  kconfig?: string;
  /** Called with a message when the loader works around something (e.g. BTF rejected). */
  onWarning?: (message: string) => void;
  /**
   * The object's name, which prefixes the kernel names of its global data maps as in libbpf
   * (`tp_opena.rodata`). loadFile uses the file name without `.o`; load() has none by default.
   */
  objectName?: string;
}

/** The kernel objects of one loaded eBPF object. Closing it closes every map and program. */
export class Collection implements Disposable {
  readonly object: BpfObject;
  readonly maps: ReadonlyMap<string, BpfMap>;
  readonly programs: ReadonlyMap<string, Program>;
  /** verifier logs of programs loaded with logLevel > 0 */
  readonly logs: ReadonlyMap<string, string>;
  readonly #btf: FD | undefined;
  readonly #owned: BpfMap[];

  private constructor(
    object: BpfObject,
    maps: Map<string, BpfMap>,
    owned: BpfMap[],
    programs: Map<string, Program>,
    logs: Map<string, string>,
    btf: FD | undefined,
  ) {
    this.object = object;
    this.maps = maps;
    this.#owned = owned;
    this.programs = programs;
    this.logs = logs;
    this.#btf = btf;
  }

  /** Reads and loads an object file. */
  static async loadFile(path: string, opts: CollectionOptions = {}): Promise<Collection> {
    let bytes: Uint8Array;
    try {
      // Synchronously: object files are small and local, and the async read's thread-pool
      // round trips cost ~0.25 ms, more than libbpf's whole open (bench/README.md).
      const buf = readFileSync(path);
      // A plain Uint8Array over the same memory: Buffer's own subarray is slower to parse with.
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new LoadError(
        code === "ENOENT"
          ? `no such object file: ${path}`
          : `cannot read ${path}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    return Collection.load(bytes, { objectName: objectNameOf(path), ...opts });
  }

  /** Loads an object from its bytes (or an already parsed object). */
  static load(input: Uint8Array | BpfObject, opts: CollectionOptions = {}): Collection {
    const object = input instanceof Uint8Array ? parseObject(input) : input;
    const warn = opts.onWarning ?? (() => {});
    const maps = new Map<string, BpfMap>();
    const owned: BpfMap[] = [];
    const programs = new Map<string, Program>();
    const logs = new Map<string, string>();
    const reusedPins = new Set<string>();
    let btf: FD | undefined;
    checkGlobalNames(object, opts.globals ?? {});
    checkMapSizes(object, opts.maxEntries ?? {});
    checkValueSizes(object, opts.valueSize ?? {});
    if (object.structOps)
      throw new LoadError(
        `the object declares struct_ops maps (${object.structOps.join(", ")}), which tsbpf does not create or register yet: load it with libbpf (bpftool struct_ops register)`,
      );

    // The BTF warning waits for the load to succeed: when the load fails, its own error (not
    // root, no addon, …) is the one to read first, and "loading without it" never happened.
    const btfWarnings: string[] = [];
    try {
      btf = loadBtf(object, (m) => btfWarnings.push(m));
      for (const objSpec of object.maps) {
        // The .kconfig map's value: the externs' values, read now (libbpf: resolve_externs).
        let spec =
          objSpec.global?.kind === "kconfig" && object.kconfig
            ? { ...objSpec, initialData: kconfigData(object.kconfig, opts) }
            : objSpec;
        const size = opts.maxEntries?.[spec.name];
        if (size !== undefined) spec = { ...spec, maxEntries: size };
        const valueSize = opts.valueSize?.[spec.name];
        if (valueSize !== undefined && valueSize !== spec.valueSize)
          spec = withValueSize(spec, valueSize);
        const given = opts.maps?.[spec.name];
        if (given) {
          checkCompatible(spec, given, "the map given in options.maps");
          maps.set(spec.name, given);
          continue;
        }
        const { map, reused } = createMap(spec, btf, opts, warn);
        owned.push(map);
        maps.set(spec.name, map);
        if (reused) reusedPins.add(spec.name);
      }
      // Map-in-map initializers (`.values = { [0] = &inner }`) once every map exists.
      for (const spec of object.maps)
        if (!reusedPins.has(spec.name) && !opts.maps?.[spec.name])
          fillSlots(spec, maps.get(spec.name)!, (slot) => {
            if (slot.map === undefined) return undefined;
            const inner = maps.get(slot.map);
            if (!inner)
              throw new ObjectError(
                `map ${spec.name}: slot ${slot.index} names unknown map ${slot.map}`,
                { section: ".maps" },
              );
            return inner.fd;
          });
      const toLoad = programsToLoad(object, opts);
      // CO-RE relocations, resolved before any program loads (so a failure loads nothing).
      const core = resolveCore(object, toLoad, opts.btfPath);
      for (const spec of toLoad) {
        const { program, log } = loadProgram(object, spec, maps, btf, opts, core);
        programs.set(spec.name, program);
        if (log) logs.set(spec.name, log);
      }
      // Prog array initializers (`.values = { [0] = &prog }`) once the programs are loaded.
      for (const spec of object.maps)
        if (!reusedPins.has(spec.name) && !opts.maps?.[spec.name])
          fillSlots(spec, maps.get(spec.name)!, (slot) => {
            if (slot.program === undefined) return undefined;
            const p = programs.get(slot.program);
            if (!p) {
              warn(
                `map ${spec.name}: slot ${slot.index} stays empty, program ${slot.program} was not loaded`,
              );
              return undefined;
            }
            return p.fd;
          });
    } catch (e) {
      for (const p of programs.values()) p.close();
      for (const m of owned) m.close();
      btf?.close();
      throw e;
    }
    for (const m of btfWarnings) warn(m);
    return new Collection(object, maps, owned, programs, logs, btf);
  }

  /** The map called `name`; throws naming the maps there are when it does not exist. */
  map(name: string): BpfMap {
    const m = this.maps.get(name);
    if (!m)
      throw new LoadError(
        `no map named ${name} (the object has: ${[...this.maps.keys()].join(", ") || "none"})`,
      );
    return m;
  }

  /** The program called `name`; throws naming the programs there are when it does not exist. */
  program(name: string): Program {
    const p = this.programs.get(name);
    if (!p)
      throw new LoadError(
        `no program named ${name} (the object has: ${[...this.programs.keys()].join(", ") || "none"})`,
      );
    return p;
  }

  close(): void {
    // Readers opened on the maps we close end too (their `for await` loops finish) instead of
    // waiting for events our closed programs can no longer send.
    for (const m of this.#owned) endReadersOf(m);
    for (const p of this.programs.values()) p.close();
    for (const m of this.#owned) m.close();
    this.#btf?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

// ---------------------------------------------------------------- BTF

function loadBtf(object: BpfObject, warn: (m: string) => void): FD | undefined {
  if (!object.btf) return undefined;
  // Like libbpf: an object whose BTF this kernel rejects (or tsbpf cannot re-encode) still
  // loads, without BTF. A failure to make the call at all (the addon missing) is no rejection:
  // it propagates, and is the error the user sees.
  let bytes: Uint8Array;
  try {
    bytes = encodeBtf(object.btf);
  } catch (e) {
    warn(`cannot encode the object's BTF, loading without it: ${(e as Error).message}`);
    return undefined;
  }
  try {
    return btfLoad(bytes).fd;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    warn(
      `kernel rejected the object's BTF, loading without it: ${(e as Error).message.split("\n")[0]}`,
    );
    return undefined;
  }
}

// ---------------------------------------------------------------- maps

/** Kernel object names are 15 chars + NUL, and only [A-Za-z0-9_.]. */
function kernelName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, 15);
}

/** The object name libbpf derives from a file: its base name up to the first dot. */
function objectNameOf(path: string): string {
  const base = basename(path);
  const dot = base.indexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

/**
 * The kernel name of a map. Global data maps follow libbpf: `<object prefix>.rodata` with the
 * object name cut so the suffix (at least 7 chars reserved) fits, custom sections like
 * `.data.custom` by their own name — so `bpftool map` shows the same names for both loaders.
 */
export function mapKernelName(spec: MapSpec, objectName = ""): string {
  if (!spec.global) return kernelName(spec.name);
  const custom = spec.name.indexOf(".", 1) >= 0;
  const suffix = Math.min(Math.max(spec.name.length, 7), 15);
  const prefix = custom ? "" : kernelName(objectName).slice(0, 15 - suffix);
  return kernelName(prefix + spec.name);
}

/** Map types whose values are fds or that have no key: the kernel takes no BTF types for them. */
const NO_BTF_TYPES: ReadonlySet<number> = new Set([
  MapType.PERF_EVENT_ARRAY,
  MapType.CGROUP_ARRAY,
  MapType.STACK_TRACE,
  MapType.ARRAY_OF_MAPS,
  MapType.HASH_OF_MAPS,
  MapType.DEVMAP,
  MapType.DEVMAP_HASH,
  MapType.CPUMAP,
  MapType.XSKMAP,
  MapType.SOCKMAP,
  MapType.SOCKHASH,
  MapType.QUEUE,
  MapType.STACK,
]);

/** Writes `.values = { [i] = &x }` slots whose fd `fdOf` knows (it skips the others). */
function fillSlots(
  spec: MapSpec,
  map: BpfMap,
  fdOf: (slot: NonNullable<MapSpec["initSlots"]>[number]) => number | undefined,
): void {
  for (const slot of spec.initSlots ?? []) {
    const fd = fdOf(slot);
    if (fd === undefined) continue;
    const key = new Uint8Array(4);
    const value = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, slot.index, true);
    new DataView(value.buffer).setUint32(0, fd, true);
    try {
      map.set(key, value);
    } catch (e) {
      if (e instanceof Error)
        e.message = `map ${spec.name}: cannot store ${slot.map ?? slot.program} in slot ${slot.index}: ${e.message}`;
      throw e;
    }
  }
}

function createMap(
  spec: MapSpec,
  btf: FD | undefined,
  opts: CollectionOptions,
  warn: (m: string) => void,
): { map: BpfMap; reused: boolean } {
  if (spec.pinning === "by-name") {
    const dir = opts.pinPath ?? "/sys/fs/bpf";
    // Like libbpf, create the pin directory (on bpffs) when it does not exist yet.
    if (dir === "/sys/fs/bpf" || dir.startsWith("/sys/fs/bpf/")) {
      ensureBpffs();
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw new LoadError(
          `map ${spec.name} is pinned by name, but its pin directory ${dir} cannot be created: ${(e as Error).message}` +
            " (pass pinPath for a directory on bpffs you can write)",
          { cause: e },
        );
      }
    }
    const path = join(dir, spec.name);
    if (existsSync(path)) {
      const pinned = BpfMap.fromPin(path);
      try {
        checkCompatible(spec, pinned, `the map pinned at ${path}`);
      } catch (e) {
        pinned.close();
        throw e;
      }
      return { map: pinned, reused: true };
    }
    const map = newMap(spec, btf, warn, opts.objectName);
    try {
      if (spec.global) initGlobal(spec, map, opts.globals ?? {});
      map.pin(path);
    } catch (e) {
      map.close();
      throw e;
    }
    return { map, reused: false };
  }
  const map = newMap(spec, btf, warn, opts.objectName);
  try {
    if (spec.global) initGlobal(spec, map, opts.globals ?? {});
  } catch (e) {
    map.close();
    throw e;
  }
  return { map, reused: false };
}

function newMap(
  spec: MapSpec,
  btf: FD | undefined,
  warn: (m: string) => void,
  objectName?: string,
): BpfMap {
  let inner: BpfMap | undefined;
  if (spec.innerMap) inner = newMap(spec.innerMap, undefined, warn);
  const flags = spec.global?.readonly ? spec.flags | BpfFlags.RDONLY_PROG : spec.flags;
  const base = {
    type: spec.type,
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    maxEntries: spec.maxEntries,
    flags,
    name: mapKernelName(spec, objectName),
    ...(inner && { innerMapFd: inner.fd }),
    ...(spec.mapExtra !== undefined && { mapExtra: spec.mapExtra }),
  };
  try {
    // Perf event arrays with max_entries 0 get one slot per possible CPU (BpfMap.create).
    const withBtf =
      btf && spec.btfValueTypeId && !NO_BTF_TYPES.has(spec.type)
        ? {
            ...base,
            btfFd: btf.fd,
            btfKeyTypeId: spec.btfKeyTypeId ?? 0,
            btfValueTypeId: spec.btfValueTypeId,
          }
        : base;
    try {
      return BpfMap.create(withBtf);
    } catch (e) {
      if (withBtf === base || !(e instanceof SysError) || e.errno !== Errno.EINVAL) throw e;
      warn(`map ${spec.name}: kernel rejected its BTF types, created without them`);
      return BpfMap.create(base);
    }
  } catch (e) {
    if (e instanceof SysError) {
      e.message = `cannot create map ${spec.name} (${nameOf(MapType, spec.type)}, key ${spec.keySize} B, value ${spec.valueSize} B, ${spec.maxEntries} entries): ${e.message}`;
      const why = e.errno === Errno.EINVAL ? sizeRule(spec) : undefined;
      if (why) e.message += `; here: ${why}`;
    }
    throw e;
  } finally {
    inner?.close();
  }
}

/**
 * The kernel's size rule a map breaks, for an EINVAL from BPF_MAP_CREATE. Objects written for
 * cilium/ebpf declare ring buffer and perf array record types that its loader drops; libbpf
 * and the kernel do not, so say which declaration to remove.
 */
function sizeRule(spec: MapSpec): string | undefined {
  if (spec.type === MapType.RINGBUF && (spec.keySize !== 0 || spec.valueSize !== 0))
    return "a RINGBUF map has no key or value (records are sized when written): remove its __type(key, …)/__type(value, …), as libbpf requires too";
  if (spec.type === MapType.PERF_EVENT_ARRAY && (spec.keySize !== 4 || spec.valueSize !== 4))
    return "a PERF_EVENT_ARRAY holds one perf event fd (u32) per CPU: declare key and value as 4-byte ints (__uint(key_size, sizeof(int)), __uint(value_size, sizeof(int))), not the event record type";
  return undefined;
}

function checkCompatible(spec: MapSpec, map: BpfMap, what: string): void {
  const diff: string[] = [];
  if (map.type !== spec.type)
    diff.push(`type ${nameOf(MapType, map.type)} vs ${nameOf(MapType, spec.type)}`);
  if (map.keySize !== spec.keySize) diff.push(`key size ${map.keySize} vs ${spec.keySize}`);
  if (map.valueSize !== spec.valueSize)
    diff.push(`value size ${map.valueSize} vs ${spec.valueSize}`);
  if (map.maxEntries !== spec.maxEntries && spec.type !== MapType.PERF_EVENT_ARRAY)
    diff.push(`max entries ${map.maxEntries} vs ${spec.maxEntries}`);
  if (diff.length)
    throw new MapError(
      `map ${spec.name}: ${what} does not match the object's definition (${diff.join(", ")}); ` +
        `remove the pin or fix the definition`,
    );
}

/** Writes a global data section's initial bytes (with overrides), then freezes .rodata. */
function initGlobal(
  spec: MapSpec,
  map: BpfMap,
  values: Record<string, number | bigint | Uint8Array>,
): void {
  const g = spec.global!;
  const data = new Uint8Array(spec.valueSize);
  if (spec.initialData) data.set(spec.initialData.subarray(0, data.length));
  const dv = new DataView(data.buffer);
  const last = g.variables.reduce<GlobalVariable | undefined>(
    (a, v) => (a === undefined || v.offset > a.offset ? v : a),
    undefined,
  );
  for (const v of g.variables) {
    if (!(v.name in values)) continue;
    const val = values[v.name]!;
    if (v === last ? v.offset >= data.length : v.offset + v.size > data.length)
      throw new LoadError(
        `global ${v.name} (bytes ${v.offset}..${v.offset + v.size}) lies past the end of ${spec.name}, resized to ${data.length} bytes (valueSize)`,
      );
    if (v.offset + v.size > data.length && !(val instanceof Uint8Array))
      throw new LoadError(
        `global ${v.name}: ${spec.name} was resized to ${data.length} bytes (valueSize), which cuts it; give its value as a Uint8Array of ${data.length - v.offset} bytes`,
      );
    if (val instanceof Uint8Array) {
      // The last variable of a resized section spans to its new end (libbpf's resizable array).
      const resized = v === last && data.length !== v.offset + v.size ? data.length - v.offset : -1;
      if (val.length !== v.size && val.length !== resized)
        throw new LoadError(
          `global ${v.name} is ${v.size} bytes${resized >= 0 ? ` (${resized} in the resized ${spec.name})` : ""}; the value given has ${val.length}`,
        );
      data.set(val, v.offset);
    } else {
      if (typeof val === "number" ? !Number.isInteger(val) : typeof val !== "bigint")
        throw new LoadError(
          `global ${v.name}: ${String(val)} is not an integer; give a number, a bigint or a Uint8Array of ${v.size} bytes`,
        );
      const big = BigInt(val);
      if (![1, 2, 4, 8].includes(v.size))
        throw new LoadError(`global ${v.name} is ${v.size} bytes: give its value as a Uint8Array`);
      const bits = BigInt(v.size * 8);
      if (big < -(1n << (bits - 1n)) || big >= 1n << bits)
        throw new LoadError(`global ${v.name}: ${val} does not fit in ${v.size} bytes`);
      const u = BigInt.asUintN(Number(bits), big);
      for (let i = 0; i < v.size; i++)
        dv.setUint8(v.offset + i, Number((u >> BigInt(8 * i)) & 0xffn));
    }
  }
  map.set(new Uint8Array(4), data);
  if (g.readonly) map.freeze();
}

/** options.maxEntries names maps of the object (not global data) with a usable size. */
function checkMapSizes(object: BpfObject, sizes: Record<string, number>): void {
  for (const [name, n] of Object.entries(sizes)) {
    const spec = object.maps.find((m) => m.name === name);
    if (!spec)
      throw new LoadError(
        `maxEntries: no map named ${name} in the object (it has: ${object.maps.map((m) => m.name).join(", ") || "none"})`,
      );
    if (spec.global)
      throw new LoadError(`maxEntries: ${name} holds global data; its size is the section's`);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw new LoadError(`maxEntries: ${name} must be a whole number of entries, not ${n}`);
  }
}

/** Map types whose value size the kernel fixes (ids, fds, none). */
const FD_VALUE_TYPES: ReadonlySet<number> = new Set([
  MapType.PROG_ARRAY,
  MapType.PERF_EVENT_ARRAY,
  MapType.CGROUP_ARRAY,
  MapType.ARRAY_OF_MAPS,
  MapType.HASH_OF_MAPS,
  MapType.RINGBUF,
]);

/** options.valueSize names maps of the object whose value size can be chosen. */
function checkValueSizes(object: BpfObject, sizes: Record<string, number>): void {
  for (const [name, n] of Object.entries(sizes)) {
    const spec = object.maps.find((m) => m.name === name);
    if (!spec)
      throw new LoadError(
        `valueSize: no map named ${name} in the object (it has: ${object.maps.map((m) => m.name).join(", ") || "none"})`,
      );
    if (spec.global?.kind === "kconfig")
      throw new LoadError(`valueSize: ${name} holds __kconfig externs; its layout is libbpf's`);
    if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff)
      throw new LoadError(`valueSize: ${name} must be a positive whole number of bytes, not ${n}`);
    if (FD_VALUE_TYPES.has(spec.type) && n !== spec.valueSize)
      throw new LoadError(
        `valueSize: ${name} is a ${nameOf(MapType, spec.type)}, whose value size the kernel fixes`,
      );
  }
}

/**
 * The spec with another value size: a global data section's initial bytes cut or padded with
 * zeros, and no BTF key/value types (they describe the old size; the kernel would refuse the pair).
 */
function withValueSize(spec: MapSpec, size: number): MapSpec {
  const { btfKeyTypeId: _k, btfValueTypeId: _v, ...rest } = spec;
  void _k;
  void _v;
  const out: MapSpec = { ...rest, valueSize: size };
  if (spec.initialData) {
    const data = new Uint8Array(size);
    data.set(spec.initialData.subarray(0, size));
    out.initialData = data;
  }
  return out;
}

const TARGETED_KINDS: ReadonlySet<string> = new Set(["fentry", "fexit", "tp_btf", "iter"]);

/**
 * Kinds whose programs load only with state tsbpf does not build yet; loading one anyway
 * would hand the kernel a program without its target and get a refusal with no reason.
 */
const UNLOADABLE_KINDS: ReadonlyMap<string, string> = new Map([
  [
    "struct_ops",
    "struct_ops programs are registered through a .struct_ops map (BPF_MAP_TYPE_STRUCT_OPS), which tsbpf does not create yet; load this object with libbpf (bpftool struct_ops register)",
  ],
  [
    "freplace",
    "freplace (extension) programs need the loaded program they replace a function of (attach_prog_fd), which tsbpf cannot be given yet; use libbpf's bpf_program__set_attach_target",
  ],
  ["lsm_cgroup", "lsm_cgroup programs are not supported yet; use libbpf"],
]);

/**
 * The programs to load, in object order: options.programs and options.autoload applied,
 * options.attachTargets written into the copies' section info. Unknown names throw.
 */
function programsToLoad(object: BpfObject, opts: CollectionOptions): ProgramSpec[] {
  const names = object.programs.map((p) => p.name);
  const known = (n: string, what: string) => {
    if (!names.includes(n))
      throw new LoadError(
        `${what}: no program named ${n} in the object (it has: ${names.join(", ")})`,
      );
  };
  const wanted = opts.programs ? new Set(opts.programs) : undefined;
  for (const n of wanted ?? []) known(n, "programs");
  for (const n of Object.keys(opts.autoload ?? {})) known(n, "autoload");
  for (const n of Object.keys(opts.attachTargets ?? {})) known(n, "attachTargets");
  const out: ProgramSpec[] = [];
  for (const spec of object.programs) {
    if (wanted && !wanted.has(spec.name)) continue;
    if (opts.autoload?.[spec.name] === false) continue;
    if (spec.sectionInfo === undefined)
      // libbpf refuses these too ("missing BPF prog type"); loading it as some default type
      // would give the kernel a program of a kind its author did not write.
      throw new LoadError(
        `program ${spec.name}: section "${spec.section}" names no program type tsbpf knows: use a libbpf section name (SEC("xdp"), SEC("tc"), SEC("tracepoint/<category>/<name>"), SEC("kprobe/<function>"), …: libbpf's list is docs.kernel.org/bpf/libbpf/program_types.html), or leave it out (autoload: { ${spec.name}: false })`,
      );
    const unloadable = UNLOADABLE_KINDS.get(spec.sectionInfo.kind);
    if (unloadable !== undefined)
      throw new LoadError(
        `program ${spec.name} (section ${spec.section}): ${unloadable}; or leave it out (autoload: { ${spec.name}: false })`,
      );
    const target = opts.attachTargets?.[spec.name];
    if (target === undefined) {
      out.push(spec);
      continue;
    }
    const info = spec.sectionInfo;
    if (!info || !TARGETED_KINDS.has(info.kind))
      throw new LoadError(
        `attachTargets: program ${spec.name} (section ${spec.section}) is not fentry, fexit, tp_btf or iter; its target is not chosen at load`,
      );
    out.push({ ...spec, sectionInfo: { ...info, target } });
  }
  return out;
}

/** Every name in options.globals must be a variable of one of the object's data sections. */
function checkGlobalNames(object: BpfObject, values: Record<string, unknown>): void {
  const known = object.maps.flatMap((m) =>
    m.global && m.global.kind !== "kconfig" ? m.global.variables.map((v) => v.name) : [],
  );
  for (const name of Object.keys(values))
    if (!known.includes(name))
      throw new LoadError(
        `no global variable named ${name} in the object (it has: ${known.join(", ") || "none"})`,
      );
}

// ---------------------------------------------------------------- programs

/** Patches map references: lddw src=PSEUDO_MAP_FD imm=fd, or PSEUDO_MAP_VALUE imm=fd + offset. */
function relocate(
  object: BpfObject,
  spec: ProgramSpec,
  parts: LinkedParts,
  maps: ReadonlyMap<string, BpfMap>,
  modules: ModuleBtfFds,
): Insn[] {
  const insns = parts.insns.map((i) => ({ ...i }));
  for (const r of parts.ksymRefs ?? []) resolveKsym(spec, object, insns, r.insn, r.name, modules);
  for (const r of parts.relocations) {
    const map = maps.get(r.map);
    if (!map)
      throw new ObjectError(
        `program ${spec.name}: instruction ${r.insn} refers to unknown map ${r.map}`,
        { section: spec.section },
      );
    const lo = insns[r.insn];
    const hi = insns[r.insn + 1];
    if (!lo || !hi)
      throw new ObjectError(
        `program ${spec.name}: relocation at instruction ${r.insn} is outside the program`,
        { section: spec.section },
      );
    lo.imm = map.fd;
    if (r.kind === "map") {
      lo.src = BPF_PSEUDO_MAP_FD;
    } else {
      lo.src = BPF_PSEUDO_MAP_VALUE;
      hi.imm = r.offset;
    }
  }
  return insns;
}

function loadProgram(
  object: BpfObject,
  spec: ProgramSpec,
  maps: ReadonlyMap<string, BpfMap>,
  btf: FD | undefined,
  opts: CollectionOptions,
  core: CoreResults,
): { program: Program; log: string } {
  // Linked for this load only: an object whose programs share a large subprogram does not
  // keep a linked copy per program (the spec links again if asked for its instructions).
  const parts = linkedParts(spec);
  // Module BTF objects of module kfuncs/variables: open for the load, in its fd_array.
  const modules = new ModuleBtfFds();
  try {
    return loadRelocated(object, spec, maps, btf, opts, core, parts, modules);
  } finally {
    modules.close();
  }
}

function loadRelocated(
  object: BpfObject,
  spec: ProgramSpec,
  maps: ReadonlyMap<string, BpfMap>,
  btf: FD | undefined,
  opts: CollectionOptions,
  core: CoreResults,
  parts: LinkedParts,
  modules: ModuleBtfFds,
): { program: Program; log: string } {
  const insns = relocate(object, spec, parts, maps, modules);
  const poisoned = applyCore(spec, parts, insns, core);
  const info = spec.sectionInfo;
  let attachBtfId: number | undefined;
  if (
    info &&
    (info.kind === "tp_btf" ||
      info.kind === "fentry" ||
      info.kind === "fexit" ||
      info.kind === "iter") &&
    info.target
  ) {
    const name =
      info.kind === "tp_btf"
        ? `btf_trace_${info.target}`
        : info.kind === "iter"
          ? `bpf_iter_${info.target}`
          : info.target;
    try {
      attachBtfId = kernelBtfTypeId(name, info.kind === "tp_btf" ? "typedef" : "func");
    } catch (e) {
      // no kernel BTF at all: the program's attach target cannot be found
      throw new AttachError(`program ${spec.name}: ${(e as Error).message}`, { cause: e });
    }
    if (attachBtfId === undefined)
      throw new AttachError(
        `program ${spec.name}: the kernel has no ${info.kind === "tp_btf" ? "BTF tracepoint" : info.kind === "iter" ? "iterator" : "function"} ${info.target} to attach to (section ${spec.section}${info.kind === "iter" ? `; iterators are the bpf_iter_* functions in the kernel's BTF` : ""})`,
      );
  }
  const withBtf = btf !== undefined && parts.funcInfo.length > 0;
  const fdArray = modules.fdArray();
  try {
    const { fd, log } = progLoad({
      type: info?.progType ?? ProgType.SOCKET_FILTER,
      insns: encodeInsns(insns),
      license: spec.license || object.license,
      name: kernelName(spec.name),
      kernVersion: object.kernelVersion,
      ...(info?.progFlags && { flags: info.progFlags }),
      ...(info?.expectedAttachType !== undefined && {
        expectedAttachType: info.expectedAttachType,
      }),
      ...(attachBtfId !== undefined && { attachBtfId }),
      ...(withBtf && {
        btfFd: btf.fd,
        funcInfo: kernelFuncInfo(parts.funcInfo),
        funcInfoRecSize: KERNEL_FUNC_INFO_SIZE,
        ...(parts.lineInfo.length > 0 && {
          lineInfo: kernelLineInfo(parts.lineInfo),
          lineInfoRecSize: KERNEL_LINE_INFO_SIZE,
        }),
      }),
      ...(opts.logLevel !== undefined && { logLevel: opts.logLevel }),
      ...(fdArray && { fdArray }),
    });
    const usdtSpecs = spec.sectionInfo?.kind === "usdt" ? maps.get("__bpf_usdt_specs") : undefined;
    const program = new Program(fd, {
      name: spec.name,
      type: info?.progType ?? 0,
      spec,
      ...(usdtSpecs && { usdtSpecs }),
    });
    return { program, log };
  } catch (e) {
    if (e instanceof SysError && e.syscall === "BPF_PROG_LOAD" && e.log) {
      const ve = new VerifierError(spec.name, e.errno, e.log, parts.lineInfo);
      throw coreVerifierError(ve, spec, parts, poisoned) ?? ve;
    }
    if (e instanceof SysError)
      e.message = `cannot load program ${spec.name} (section ${spec.section}): ${e.message}`;
    throw e;
  }
}
