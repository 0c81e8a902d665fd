// Reading and writing the entries of any map on the system (`tsbpf map dump|get|update|delete`):
// keys walked with BPF_MAP_GET_NEXT_KEY, per-CPU values split per possible CPU, both sides
// decoded with the map's BTF when the kernel has it (bpftool's `formatted`), raw bytes always.
import { BtfValueError, decodeBtfValue, encodeBtfValue, type BtfValue } from "../obj/btf-value.js";
import { MapType } from "../obj/consts.js";
import { isPerCpu } from "../map/map.js";
import {
  mapDeleteElem,
  mapGetNextKey,
  mapLookupElem,
  mapUpdateElem,
  UpdateFlags,
} from "../sys/bpf.js";
import { possibleCpus } from "../sys/cpus.js";
import { Errno, SysError } from "../sys/errors.js";
import { InspectError, type OpenMap } from "./system.js";

export interface MapEntry {
  key: Uint8Array;
  /** one value, or one per possible CPU for per-CPU maps */
  value?: Uint8Array;
  values?: { cpu: number; value: Uint8Array }[];
  /** decoded with the map's BTF, when it has a type for that side */
  formatted?: { key?: BtfValue; value?: BtfValue; values?: { cpu: number; value: BtfValue }[] };
}

/** Maps whose contents are events or references, not entries a dump can read. */
const NOT_DUMPABLE: ReadonlyMap<number, string> = new Map([
  [
    MapType.RINGBUF,
    "a ring buffer: it holds events, not entries; stream them with `tsbpf load` or Loaded.events",
  ],
  [MapType.USER_RINGBUF, "a user ring buffer: it holds events for the kernel, not entries"],
  [
    MapType.PERF_EVENT_ARRAY,
    "a perf event array: it holds perf event fds per CPU; stream its events with `tsbpf load` or Loaded.events",
  ],
  [MapType.QUEUE, "a queue: it has no keys (a dump would have to pop it)"],
  [MapType.STACK, "a stack: it has no keys (a dump would have to pop it)"],
  [MapType.BLOOM_FILTER, "a bloom filter: it can only answer whether a value may be in it"],
  [MapType.STRUCT_OPS, "a struct_ops map"],
  [MapType.SK_STORAGE, "a socket storage map: entries are keyed by socket fds of this process"],
  [MapType.INODE_STORAGE, "an inode storage map: entries are keyed by fds of this process"],
  [MapType.TASK_STORAGE, "a task storage map: entries are keyed by pidfds of this process"],
  [MapType.CGRP_STORAGE, "a cgroup storage map: entries are keyed by cgroup fds of this process"],
  [MapType.ARENA, "an arena: it is memory mapped, not keyed"],
]);

const label = (m: OpenMap): string => `map ${m.info.id}${m.info.name ? ` (${m.info.name})` : ""}`;

function checkDumpable(m: OpenMap): void {
  const why = NOT_DUMPABLE.get(m.info.type);
  if (why) throw new InspectError(`${label(m)} is ${why}`);
}

/** Bytes of one value slot (per-CPU slots are rounded up to 8). */
const slot = (m: OpenMap): number =>
  isPerCpu(m.info.type) ? Math.ceil(m.info.valueSize / 8) * 8 : m.info.valueSize;

function decodeSide(m: OpenMap, side: "key" | "value", bytes: Uint8Array): BtfValue | undefined {
  const t = m.btf && (side === "key" ? m.btf.keyType : m.btf.valueType);
  if (!m.btf || !t) return undefined;
  try {
    return decodeBtfValue(m.btf.btf, t, bytes);
  } catch (e) {
    if (e instanceof BtfValueError) return undefined; // BTF that does not describe the bytes: raw only
    throw e;
  }
}

function entryOf(m: OpenMap, key: Uint8Array, raw: Uint8Array): MapEntry {
  const entry: MapEntry = { key };
  const formatted: NonNullable<MapEntry["formatted"]> = {};
  const k = decodeSide(m, "key", key);
  if (k !== undefined) formatted.key = k;
  if (isPerCpu(m.info.type)) {
    const cpus = possibleCpus();
    const size = slot(m);
    entry.values = cpus.map((cpu, i) => ({
      cpu,
      value: raw.slice(i * size, i * size + m.info.valueSize),
    }));
    const decoded = entry.values.map(({ cpu, value }) => ({
      cpu,
      value: decodeSide(m, "value", value),
    }));
    if (decoded.every((d) => d.value !== undefined))
      formatted.values = decoded as { cpu: number; value: BtfValue }[];
  } else {
    entry.value = raw;
    const v = decodeSide(m, "value", raw);
    if (v !== undefined) formatted.value = v;
  }
  if (Object.keys(formatted).length > 0) entry.formatted = formatted;
  return entry;
}

function valueBuffer(m: OpenMap): Uint8Array {
  return new Uint8Array(isPerCpu(m.info.type) ? slot(m) * possibleCpus().length : m.info.valueSize);
}

/** Every entry, in the kernel's key order. Keys deleted during the walk are skipped. */
export function* mapEntries(m: OpenMap): Generator<MapEntry> {
  checkDumpable(m);
  const fd = m.fd.fd;
  let prev: Uint8Array | null = null;
  for (;;) {
    const key = new Uint8Array(m.info.keySize);
    if (!mapGetNextKey(fd, prev, key)) return;
    prev = key;
    const raw = valueBuffer(m);
    let found: boolean;
    try {
      found = mapLookupElem(fd, key, raw);
    } catch (e) {
      // maps of maps and prog arrays answer lookups with ids; an fd array slot left empty: skip
      if (e instanceof SysError && e.errno === Errno.EOPNOTSUPP)
        throw new InspectError(`${label(m)} (${m.summary.type}) cannot be read from user space`);
      throw e;
    }
    if (found) yield entryOf(m, key, raw);
  }
}

// ---- keys and values from the command line ----

/**
 * Bytes for a key or value given on the command line. Forms: `hex 01 02 0a ff` (bpftool's:
 * exactly the side's size), a JSON value encoded with the map's BTF (`42`, `{"pid": 1}`,
 * `"bash"`), or, with no BTF for that side, a non-negative integer for a 1/2/4/8-byte side
 * (host byte order, as a C program storing that integer would).
 */
export function parseSide(m: OpenMap, side: "key" | "value", args: readonly string[]): Uint8Array {
  const size = side === "key" ? m.info.keySize : m.info.valueSize;
  const what = `${label(m)} ${side}`;
  if (args.length === 0)
    throw new InspectError(`${what}: missing (give JSON, a number, or hex BYTES…)`);
  if (args[0] === "hex") {
    const bytes = args.slice(1).flatMap((a) => a.split(/[\s,]+/).filter(Boolean));
    if (bytes.length !== size)
      throw new InspectError(`${what} is ${size} bytes; ${bytes.length} given after "hex"`);
    return Uint8Array.from(bytes, (b) => {
      const n = /^(0x)?[0-9a-f]{1,2}$/i.test(b) ? Number.parseInt(b.replace(/^0x/i, ""), 16) : NaN;
      if (Number.isNaN(n)) throw new InspectError(`${what}: "${b}" is not a hex byte`);
      return n;
    });
  }
  const text = args.join(" ");
  const t = m.btf && (side === "key" ? m.btf.keyType : m.btf.valueType);
  if (m.btf && t) {
    let value: unknown;
    try {
      value = parseJsonLoose(text);
    } catch {
      throw new InspectError(
        `${what}: ${JSON.stringify(text)} is not JSON (quote strings, e.g. '"bash"'), nor "hex BYTES…"`,
      );
    }
    try {
      return encodeBtfValue(m.btf.btf, t, value, side);
    } catch (e) {
      if (e instanceof BtfValueError) throw new InspectError(`${label(m)}: ${e.message}`);
      throw e;
    }
  }
  if (/^\d+$/.test(text) && [1, 2, 4, 8].includes(size)) {
    const v = BigInt(text);
    if (v >= 1n << BigInt(size * 8))
      throw new InspectError(`${what}: ${text} does not fit ${size} bytes`);
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    if (size === 1) dv.setUint8(0, Number(v));
    else if (size === 2) dv.setUint16(0, Number(v), true);
    else if (size === 4) dv.setUint32(0, Number(v), true);
    else dv.setBigUint64(0, v, true);
    return out;
  }
  throw new InspectError(
    `${what} has no BTF type: give it as "hex" and its ${size} bytes${[1, 2, 4, 8].includes(size) ? ", or as an unsigned integer" : ""}`,
  );
}

/** JSON, where integers too large for a double stay exact (as bigint). */
function parseJsonLoose(text: string): unknown {
  // quote long integer literals outside strings, then turn them back into bigints
  let out = "";
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = /^-?\d{16,}(?![.eE\d])/.exec(text.slice(i));
    if (m && !/[\w.]/.test(text[i - 1] ?? "")) {
      out += `"\\u0000${m[0]}"`;
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return JSON.parse(out, (_k, v: unknown) =>
    typeof v === "string" && v.startsWith("\u0000") ? BigInt(v.slice(1)) : v,
  );
}

/** The entry for `key`, or undefined when the map has none. */
export function mapGet(m: OpenMap, key: Uint8Array): MapEntry | undefined {
  checkDumpable(m);
  const raw = valueBuffer(m);
  return mapLookupElem(m.fd.fd, key, raw) ? entryOf(m, key, raw) : undefined;
}

export type UpdateMode = "any" | "noexist" | "exist";

/** Writes `value` at `key` (every CPU's slot of a per-CPU map gets the same value). */
export function mapUpdate(
  m: OpenMap,
  key: Uint8Array,
  value: Uint8Array,
  mode: UpdateMode = "any",
): void {
  checkDumpable(m);
  let buf = value;
  if (isPerCpu(m.info.type)) {
    const size = slot(m);
    buf = valueBuffer(m);
    for (let i = 0; i * size < buf.length; i++) buf.set(value, i * size);
  }
  const flags =
    mode === "noexist"
      ? UpdateFlags.NOEXIST
      : mode === "exist"
        ? UpdateFlags.EXIST
        : UpdateFlags.ANY;
  try {
    mapUpdateElem(m.fd.fd, key, buf, flags);
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.EEXIST)
      throw new InspectError(`${label(m)} already has this key (--mode noexist)`);
    if (e instanceof SysError && e.errno === Errno.ENOENT)
      throw new InspectError(`${label(m)} has no such key (--mode exist)`);
    if (e instanceof SysError && e.errno === Errno.E2BIG)
      throw new InspectError(
        `${label(m)} is full (max_entries ${m.info.maxEntries}) or the key is past the end of an array`,
      );
    throw e;
  }
}

/** false when the key was not there. */
export function mapDelete(m: OpenMap, key: Uint8Array): boolean {
  checkDumpable(m);
  try {
    return mapDeleteElem(m.fd.fd, key);
  } catch (e) {
    if (
      e instanceof SysError &&
      e.errno === Errno.EINVAL &&
      (m.info.type === MapType.ARRAY || m.info.type === MapType.PERCPU_ARRAY)
    )
      throw new InspectError(
        `${label(m)} is an array: its entries cannot be deleted, only overwritten (tsbpf map update)`,
      );
    throw e;
  }
}
