// Every eBPF program, map and link on the system, not only ours (bpftool's `prog`, `map` and
// `link` views): enumerated by id (BPF_*_GET_NEXT_ID), opened by id or bpffs pin, described
// with BPF_OBJ_GET_INFO_BY_FD, map keys and values decoded with the map's BTF as the kernel
// holds it (btf_id → BPF_BTF_GET_FD_BY_ID → the BTF blob → our parser).
import { readFileSync, readlinkSync } from "node:fs";
import { TsbpfError } from "../errors.js";
import { parseBtf, type Btf } from "../obj/btf.js";
import { AttachType, LinkType, MapType, ProgType, nameOf } from "../obj/consts.js";
import {
  btfGetFdById,
  ids,
  linkDetach,
  linkGetFdById,
  linkGetNextId,
  mapGetFdById,
  mapGetNextId,
  objGet,
  progGetFdById,
  progGetNextId,
} from "../sys/bpf.js";
import { Errno, SysError } from "../sys/errors.js";
import type { FD } from "../sys/fd.js";
import {
  btfData,
  linkInfo,
  mapInfo,
  progInfo,
  type LinkInfo,
  type MapInfo,
  type ProgInfo,
} from "../sys/info.js";

/** A program, map or link that cannot be found or is not what the command works on. */
export class InspectError extends TsbpfError {
  override readonly name = "InspectError";
}

export type ObjectKind = "program" | "map" | "link";

/** How a command names a kernel object: bpftool's `id N`, `pinned PATH`, `name NAME`. */
export type ObjectRef =
  { by: "id"; id: number } | { by: "pinned"; path: string } | { by: "name"; name: string };

export function refText(ref: ObjectRef): string {
  return ref.by === "id"
    ? `id ${ref.id}`
    : ref.by === "pinned"
      ? `pinned ${ref.path}`
      : `name ${ref.name}`;
}

/**
 * Reads an object reference off the front of `args`: `id 12`, `pinned /sys/fs/bpf/x`,
 * `name foo`, or one token: digits (an id), a path (a pin), otherwise a name.
 */
export function parseRef(
  args: readonly string[],
  kind: ObjectKind,
): { ref: ObjectRef; rest: string[] } {
  const [first, second] = args;
  if (first === undefined)
    throw new InspectError(
      `name a ${kind}: id N, pinned PATH or name NAME (list them with \`tsbpf ${kindCommand(kind)} list\`)`,
    );
  const id = (s: string | undefined): number => {
    const n = Number(s);
    if (s === undefined || !/^\d+$/.test(s) || !Number.isSafeInteger(n) || n <= 0 || n > 0xffffffff)
      throw new InspectError(`"${s ?? ""}" is not a ${kind} id (a positive integer)`);
    return n;
  };
  if (first === "id") return { ref: { by: "id", id: id(second) }, rest: args.slice(2) };
  if (first === "pinned" || first === "name") {
    if (second === undefined)
      throw new InspectError(`"${first}" needs a ${first === "pinned" ? "path" : "name"} after it`);
    return {
      ref: first === "pinned" ? { by: "pinned", path: second } : { by: "name", name: second },
      rest: args.slice(2),
    };
  }
  if (/^\d+$/.test(first)) return { ref: { by: "id", id: id(first) }, rest: args.slice(1) };
  if (first.includes("/")) return { ref: { by: "pinned", path: first }, rest: args.slice(1) };
  return { ref: { by: "name", name: first }, rest: args.slice(1) };
}

const kindCommand = (k: ObjectKind): string => (k === "program" ? "prog" : k);

/** bpftool's spelling of a kernel enum value: PERCPU_ARRAY → percpu_array. */
const lower = (table: Record<string, number>, v: number): string => nameOf(table, v).toLowerCase();
export const progTypeName = (t: number): string => lower(ProgType, t);
export const mapTypeName = (t: number): string => lower(MapType, t);
export const linkTypeName = (t: number): string => lower(LinkType, t);
export const attachTypeName = (t: number): string => lower(AttachType, t);

/** Runs `f` on the fd of object `id`; undefined when the object went away meanwhile. */
function withId<T>(open: (id: number) => FD, id: number, f: (fd: number) => T): T | undefined {
  let fd: FD;
  try {
    fd = open(id);
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ENOENT) return undefined; // unloaded since
    throw e;
  }
  try {
    return f(fd.fd);
  } finally {
    fd.close();
  }
}

/** What an fd refers to, from its anon inode name (`anon_inode:bpf-map`). */
function fdKind(fd: number): ObjectKind | "other" {
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return "other";
  }
  if (target === "anon_inode:bpf-prog") return "program";
  if (target === "anon_inode:bpf-map") return "map";
  if (target === "anon_inode:bpf_link") return "link";
  return "other";
}

function openPinned(path: string, kind: ObjectKind): FD {
  let fd: FD;
  try {
    fd = objGet(path);
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ENOENT)
      throw new InspectError(`nothing is pinned at ${path}`);
    throw e;
  }
  const got = fdKind(fd.fd);
  if (got !== kind && got !== "other") {
    fd.close();
    throw new InspectError(
      `${path} is a pinned ${got}, not a ${kind} (try \`tsbpf ${kindCommand(got)} show ${path}\`)`,
    );
  }
  return fd;
}

interface Kind<I> {
  next: (start: number) => number | undefined;
  open: (id: number) => FD;
  info: (fd: number) => I;
  name?: (i: I) => string;
}

const PROGS: Kind<ProgInfo> = {
  next: progGetNextId,
  open: progGetFdById,
  info: progInfo,
  name: (i) => i.name,
};
const MAPS: Kind<MapInfo> = {
  next: mapGetNextId,
  open: (id) => mapGetFdById(id),
  info: mapInfo,
  name: (i) => i.name,
};
const LINKS: Kind<LinkInfo> = { next: linkGetNextId, open: linkGetFdById, info: linkInfo };

function list<I>(k: Kind<I>): I[] {
  const out: I[] = [];
  for (const id of ids(k.next)) {
    const info = withId(k.open, id, k.info);
    if (info !== undefined) out.push(info);
  }
  return out;
}

/** Opens the object `ref` names; the caller closes the fd. */
function open<I extends { id: number }>(
  k: Kind<I>,
  ref: ObjectRef,
  kind: ObjectKind,
): { fd: FD; info: I } {
  let fd: FD;
  if (ref.by === "pinned") fd = openPinned(ref.path, kind);
  else if (ref.by === "id") {
    try {
      fd = k.open(ref.id);
    } catch (e) {
      if (e instanceof SysError && e.errno === Errno.ENOENT)
        throw new InspectError(
          `no ${kind} with id ${ref.id} (list them with \`tsbpf ${kindCommand(kind)} list\`)`,
        );
      throw e;
    }
  } else {
    if (!k.name) throw new InspectError(`a ${kind} has no name: use id N or pinned PATH`);
    const hits = list(k).filter((i) => k.name!(i) === ref.name);
    if (hits.length === 0)
      throw new InspectError(
        `no ${kind} named "${ref.name}" (list them with \`tsbpf ${kindCommand(kind)} list\`; the kernel keeps the first 15 characters of a name)`,
      );
    if (hits.length > 1)
      throw new InspectError(
        `${hits.length} ${kind}s are named "${ref.name}" (ids ${hits.map((h) => h.id).join(", ")}): name one by id`,
      );
    fd = k.open(hits[0]!.id);
  }
  try {
    return { fd, info: k.info(fd.fd) };
  } catch (e) {
    fd.close();
    throw e;
  }
}

// ---- programs ----

export interface ProgramSummary {
  id: number;
  type: string;
  name: string;
  tag: string;
  /** seconds since the epoch */
  loadedAt: number;
  uid: number;
  bytesXlated: number;
  bytesJited: number;
  mapIds: number[];
  btfId: number;
  runTimeNs: bigint;
  runCount: bigint;
  verifiedInsns: number;
}

/**
 * The wall-clock time of boot in seconds, to turn load_time (ns since boot, CLOCK_BOOTTIME)
 * into a date as bpftool does (realtime now − boottime now; /proc/uptime has 10 ms steps).
 */
function bootTime(): number {
  const up = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return Date.now() / 1000 - (Number.isFinite(up) ? up : 0);
}

function programSummary(i: ProgInfo, boot = bootTime()): ProgramSummary {
  return {
    id: i.id,
    type: progTypeName(i.type),
    name: i.name,
    tag: i.tag,
    loadedAt: Math.floor(boot + Number(i.loadTime) / 1e9),
    uid: i.createdByUid,
    bytesXlated: i.xlatedProgLen,
    bytesJited: i.jitedProgLen,
    mapIds: i.mapIds,
    btfId: i.btfId,
    runTimeNs: i.runTimeNs,
    runCount: i.runCnt,
    verifiedInsns: i.verifiedInsns,
  };
}

export function listPrograms(): ProgramSummary[] {
  const boot = bootTime();
  return list(PROGS).map((p) => programSummary(p, boot));
}

export function showProgram(ref: ObjectRef): ProgramSummary {
  const { fd, info } = open(PROGS, ref, "program");
  fd.close();
  return programSummary(info);
}

// ---- maps ----

export interface MapSummary {
  id: number;
  type: string;
  name: string;
  flags: number;
  bytesKey: number;
  bytesValue: number;
  maxEntries: number;
  btfId: number;
  frozen: boolean;
}

/** `frozen:` of the map's fdinfo (bpftool reads it the same way). */
function isFrozen(fd: number): boolean {
  try {
    return /^frozen:\s*1$/m.test(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
  } catch {
    return false;
  }
}

function mapSummary(i: MapInfo, frozen: boolean): MapSummary {
  return {
    id: i.id,
    type: mapTypeName(i.type),
    name: i.name,
    flags: i.flags,
    bytesKey: i.keySize,
    bytesValue: i.valueSize,
    maxEntries: i.maxEntries,
    btfId: i.btfId,
    frozen,
  };
}

export function listMaps(): MapSummary[] {
  const out: MapSummary[] = [];
  for (const id of ids(MAPS.next)) {
    const s = withId(MAPS.open, id, (fd) => mapSummary(mapInfo(fd), isFrozen(fd)));
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** The BTF object with this id, parsed; undefined when it is gone. */
export function kernelBtf(id: number): Btf | undefined {
  if (id === 0) return undefined;
  return withId(btfGetFdById, id, (fd) => parseBtf(btfData(fd)));
}

/** An open map and what decodes its entries. Close it (or `using`). */
export interface OpenMap extends Disposable {
  readonly fd: FD;
  readonly info: MapInfo;
  readonly summary: MapSummary;
  /** The map's BTF with the key and value type ids (0 when the kernel has none for that side). */
  readonly btf?: { btf: Btf; keyType: number; valueType: number };
  close(): void;
}

export function openMap(ref: ObjectRef): OpenMap {
  const { fd, info } = open(MAPS, ref, "map");
  let btf: OpenMap["btf"];
  try {
    const parsed =
      info.btfId !== 0 && (info.btfKeyTypeId !== 0 || info.btfValueTypeId !== 0)
        ? kernelBtf(info.btfId)
        : undefined;
    if (parsed) btf = { btf: parsed, keyType: info.btfKeyTypeId, valueType: info.btfValueTypeId };
  } catch (e) {
    fd.close();
    throw e;
  }
  const close = () => fd.close();
  return {
    fd,
    info,
    summary: mapSummary(info, isFrozen(fd.fd)),
    ...(btf && { btf }),
    close,
    [Symbol.dispose]: close,
  };
}

// ---- links ----

export interface LinkSummary {
  id: number;
  type: string;
  progId: number;
  attachType?: string;
  ifindex?: number;
  tpName?: string;
  cgroupId?: bigint;
  targetObjId?: number;
  targetBtfId?: number;
}

function linkSummary(i: LinkInfo): LinkSummary {
  return {
    id: i.id,
    type: linkTypeName(i.type),
    progId: i.progId,
    ...(i.attachType !== undefined && { attachType: attachTypeName(i.attachType) }),
    ...(i.ifindex !== undefined && { ifindex: i.ifindex }),
    ...(i.tpName !== undefined && { tpName: i.tpName }),
    ...(i.cgroupId !== undefined && { cgroupId: i.cgroupId }),
    ...(i.targetObjId !== undefined && { targetObjId: i.targetObjId }),
    ...(i.targetBtfId !== undefined && { targetBtfId: i.targetBtfId }),
  };
}

export function listLinks(): LinkSummary[] {
  return list(LINKS).map(linkSummary);
}

export function showLink(ref: ObjectRef): LinkSummary {
  const { fd, info } = open(LINKS, ref, "link");
  fd.close();
  return linkSummary(info);
}

/**
 * Detaches a link (BPF_LINK_DETACH): its program stops running at the hook although the link
 * object lives on while something holds it; returns what it was.
 */
export function detachLink(ref: ObjectRef): LinkSummary {
  const { fd, info } = open(LINKS, ref, "link");
  try {
    linkDetach(fd.fd);
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.EOPNOTSUPP)
      throw new InspectError(
        `link ${info.id} (${linkTypeName(info.type)}) cannot be detached: the kernel does not support detaching this kind; unpin it or end the process that holds it`,
      );
    throw e;
  } finally {
    fd.close();
  }
  return linkSummary(info);
}
