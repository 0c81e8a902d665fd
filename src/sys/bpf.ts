// Typed wrappers over the bpf(2) syscall. Each builds its `union bpf_attr` with the layout of
// include/uapi/linux/bpf.h, passes exactly the bytes its command uses (older kernels accept a
// shorter attr; newer ones zero-check the tail), and turns -errno into a SysError naming the
// command. Offsets below are ABI and were checked against offsetof() of the kernel header.
import { Attr, cString, objName, OBJ_NAME_LEN, readCString } from "./attr.js";
import { ATTR } from "./attr-sizes.js";
import { Errno, SysError, check } from "./errors.js";
import { FD } from "./fd.js";
import { native } from "./native.js";
import { bug } from "../bug.js";

/** enum bpf_cmd */
export const Cmd = {
  MAP_CREATE: 0,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5,
  OBJ_PIN: 6,
  OBJ_GET: 7,
  PROG_ATTACH: 8,
  PROG_DETACH: 9,
  PROG_TEST_RUN: 10,
  PROG_GET_NEXT_ID: 11,
  MAP_GET_NEXT_ID: 12,
  PROG_GET_FD_BY_ID: 13,
  MAP_GET_FD_BY_ID: 14,
  OBJ_GET_INFO_BY_FD: 15,
  PROG_QUERY: 16,
  RAW_TRACEPOINT_OPEN: 17,
  BTF_LOAD: 18,
  BTF_GET_FD_BY_ID: 19,
  TASK_FD_QUERY: 20,
  MAP_LOOKUP_AND_DELETE_ELEM: 21,
  MAP_FREEZE: 22,
  BTF_GET_NEXT_ID: 23,
  MAP_LOOKUP_BATCH: 24,
  MAP_LOOKUP_AND_DELETE_BATCH: 25,
  MAP_UPDATE_BATCH: 26,
  MAP_DELETE_BATCH: 27,
  LINK_CREATE: 28,
  LINK_UPDATE: 29,
  LINK_GET_FD_BY_ID: 30,
  LINK_GET_NEXT_ID: 31,
  ENABLE_STATS: 32,
  ITER_CREATE: 33,
  LINK_DETACH: 34,
  PROG_BIND_MAP: 35,
} as const;
export type Cmd = (typeof Cmd)[keyof typeof Cmd];

/** "BPF_MAP_CREATE" for Cmd.MAP_CREATE: the name SysError reports. */
export function cmdName(cmd: number): string {
  for (const [k, v] of Object.entries(Cmd)) if (v === cmd) return `BPF_${k}`;
  return `BPF_CMD_${cmd}`;
}

/** Update flags for map elements (BPF_ANY / BPF_NOEXIST / BPF_EXIST / BPF_F_LOCK). */
export const UpdateFlags = { ANY: 0, NOEXIST: 1, EXIST: 2, F_LOCK: 4 } as const;

/** Flags of PROG_ATTACH / LINK_CREATE / LINK_UPDATE. */
export const AttachFlags = {
  ALLOW_OVERRIDE: 1 << 0,
  ALLOW_MULTI: 1 << 1,
  REPLACE: 1 << 2,
  BEFORE: 1 << 3,
  AFTER: 1 << 4,
  ID: 1 << 5,
  LINK: 1 << 13,
} as const;

/** BPF_F_* flags of PROG_LOAD: one table, kept with the other uapi constants. */
export { ProgFlags as ProgLoadFlags } from "../obj/consts.js";

/** file_flags of OBJ_GET and open_flags of MAP_GET_FD_BY_ID. */
export const FileFlags = { RDONLY: 1 << 3, WRONLY: 1 << 4 } as const;

/** enum bpf_stats_type */
export const StatsType = { RUN_TIME: 0 } as const;

function call(cmd: number, attr: Attr, subject?: string): number {
  return check(
    cmdName(cmd),
    native().bpf(cmd, attr.bytes),
    subject === undefined ? {} : { subject },
  );
}

function callFd(cmd: number, attr: Attr, subject?: string): FD {
  return new FD(call(cmd, attr, subject));
}

// ---------------------------------------------------------------- maps

export interface MapCreateAttr {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  name?: string;
  innerMapFd?: number;
  numaNode?: number;
  ifindex?: number;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  btfVmlinuxValueTypeId?: number;
  /** Bloom filter hash count, arena address, … */
  mapExtra?: bigint | number;
  valueTypeBtfObjFd?: number;
}

/** The MAP_CREATE attr (80 bytes: through map_token_fd). */
export function encodeMapCreate(spec: MapCreateAttr): Attr {
  const a = new Attr(ATTR.MAP_CREATE.size)
    .u32(0, spec.type)
    .u32(4, spec.keySize)
    .u32(8, spec.valueSize)
    .u32(12, spec.maxEntries)
    .u32(16, spec.flags ?? 0)
    .u32(20, spec.innerMapFd ?? 0)
    .u32(24, spec.numaNode ?? 0)
    .str(28, OBJ_NAME_LEN, objName(spec.name ?? ""))
    .u32(44, spec.ifindex ?? 0)
    .u32(48, spec.btfFd ?? 0)
    .u32(52, spec.btfKeyTypeId ?? 0)
    .u32(56, spec.btfValueTypeId ?? 0)
    .u32(60, spec.btfVmlinuxValueTypeId ?? 0)
    .u64(64, spec.mapExtra ?? 0);
  if (spec.valueTypeBtfObjFd !== undefined) a.i32(72, spec.valueTypeBtfObjFd);
  return a;
}

export function mapCreate(spec: MapCreateAttr): FD {
  return callFd(
    Cmd.MAP_CREATE,
    encodeMapCreate(spec),
    spec.name ? `map "${spec.name}"` : undefined,
  );
}

/**
 * Element operations with one reusable attr: the hot path of map access allocates nothing.
 * Addresses come from `native().addressOf` on buffers the caller keeps alive.
 */
export class MapElemAttr {
  readonly #attr = new Attr(ATTR.MAP_ELEM.size);
  #fd: number;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Runs an element command; returns 0 or -errno (callers decide which errno is an answer). */
  run(cmd: number, keyAddr: bigint, valueAddr: bigint, flags: number): number {
    const v = this.#attr.view;
    v.setUint32(0, this.#fd, true);
    v.setBigUint64(8, keyAddr, true);
    v.setBigUint64(16, valueAddr, true);
    v.setBigUint64(24, flags === 0 ? 0n : BigInt(flags), true);
    return native().bpf(cmd, this.#attr.bytes);
  }
}

const elemScratch = new Attr(ATTR.MAP_ELEM.size);

function elem(
  cmd: number,
  fd: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
  flags: number,
): number {
  elemScratch.u32(0, fd).ptr(8, key).ptr(16, value).u64(24, flags);
  return native().bpf(cmd, elemScratch.bytes);
}

function answer(cmd: number, r: number, absent: number[] = [Errno.ENOENT]): boolean {
  if (r >= 0) return true;
  if (absent.includes(-r)) return false;
  throw new SysError(cmdName(cmd), -r);
}

/** Copies the value of `key` into `value`; false when the key is absent. */
export function mapLookupElem(
  fd: number,
  key: Uint8Array | null,
  value: Uint8Array,
  flags = 0,
): boolean {
  return answer(Cmd.MAP_LOOKUP_ELEM, elem(Cmd.MAP_LOOKUP_ELEM, fd, key, value, flags));
}

export function mapUpdateElem(
  fd: number,
  key: Uint8Array | null,
  value: Uint8Array,
  flags = 0,
): void {
  check("BPF_MAP_UPDATE_ELEM", elem(Cmd.MAP_UPDATE_ELEM, fd, key, value, flags));
}

/** false when the key was absent. */
export function mapDeleteElem(fd: number, key: Uint8Array, flags = 0): boolean {
  return answer(Cmd.MAP_DELETE_ELEM, elem(Cmd.MAP_DELETE_ELEM, fd, key, null, flags));
}

/** Writes the key after `key` (or the first key when null) into `next`; false at the end. */
export function mapGetNextKey(fd: number, key: Uint8Array | null, next: Uint8Array): boolean {
  return answer(Cmd.MAP_GET_NEXT_KEY, elem(Cmd.MAP_GET_NEXT_KEY, fd, key, next, 0));
}

/** Pops into `value` (queue/stack: key null); false when empty / absent. */
export function mapLookupAndDeleteElem(
  fd: number,
  key: Uint8Array | null,
  value: Uint8Array,
  flags = 0,
): boolean {
  return answer(
    Cmd.MAP_LOOKUP_AND_DELETE_ELEM,
    elem(Cmd.MAP_LOOKUP_AND_DELETE_ELEM, fd, key, value, flags),
  );
}

/** Makes the map read-only for user space (programs can still write). */
export function mapFreeze(fd: number): void {
  check("BPF_MAP_FREEZE", elem(Cmd.MAP_FREEZE, fd, null, null, 0));
}

export interface BatchAttr {
  /** Opaque cursor from the previous call; null to start. Size: the key size (hash maps) or 4+. */
  inBatch?: Uint8Array | null;
  /** Receives the cursor for the next call. */
  outBatch?: Uint8Array | null;
  keys: Uint8Array | null;
  values: Uint8Array | null;
  count: number;
  elemFlags?: number;
  flags?: number;
}

function encodeBatch(fd: number, b: BatchAttr): Attr {
  return new Attr(ATTR.MAP_BATCH.size)
    .ptr(0, b.inBatch)
    .ptr(8, b.outBatch)
    .ptr(16, b.keys)
    .ptr(24, b.values)
    .u32(32, b.count)
    .u32(36, fd)
    .u64(40, b.elemFlags ?? 0)
    .u64(48, b.flags ?? 0);
}

export interface BatchResult {
  /** Elements processed. */
  count: number;
  /** No more elements after these (lookup: ENOENT from the kernel). */
  done: boolean;
}

/** One MAP_LOOKUP_BATCH (or LOOKUP_AND_DELETE_BATCH) step. */
export function mapLookupBatch(fd: number, b: BatchAttr, andDelete = false): BatchResult {
  const cmd = andDelete ? Cmd.MAP_LOOKUP_AND_DELETE_BATCH : Cmd.MAP_LOOKUP_BATCH;
  const a = encodeBatch(fd, b);
  const r = native().bpf(cmd, a.bytes);
  const count = a.getU32(32);
  if (r >= 0) return { count, done: false };
  if (-r === Errno.ENOENT) return { count, done: true };
  throw new SysError(cmdName(cmd), -r);
}

/** Returns how many elements were written before any error (the error is thrown). */
export function mapUpdateBatch(fd: number, b: BatchAttr): number {
  const a = encodeBatch(fd, b);
  call(Cmd.MAP_UPDATE_BATCH, a);
  return a.getU32(32);
}

export function mapDeleteBatch(fd: number, b: BatchAttr): number {
  const a = encodeBatch(fd, b);
  call(Cmd.MAP_DELETE_BATCH, a);
  return a.getU32(32);
}

// ---------------------------------------------------------------- programs

export interface ProgLoadAttr {
  type: number;
  /** Encoded instructions, 8 bytes each (see encodeInsns in src/obj/insn.ts). */
  insns: Uint8Array;
  license: string;
  name?: string;
  expectedAttachType?: number;
  kernVersion?: number;
  flags?: number;
  ifindex?: number;
  btfFd?: number;
  /** bpf_func_info records (insn_off in instructions, type_id). */
  funcInfo?: Uint8Array;
  funcInfoRecSize?: number;
  /** bpf_line_info records. */
  lineInfo?: Uint8Array;
  lineInfoRecSize?: number;
  attachBtfId?: number;
  /** For freplace / fentry on a BPF program. */
  attachProgFd?: number;
  /** For fentry/fexit/… on a module function: the module's BTF fd. Shares a slot with attachProgFd. */
  attachBtfObjFd?: number;
  /** Map fds referenced by BPF_PSEUDO_MAP_IDX instructions. */
  fdArray?: Int32Array;
  /** 0 = only collect a log on failure (then level 1); 1 = verbose; 2 = per-insn states; 4 = stats. */
  logLevel?: number;
  /** Initial log buffer size in bytes (at least 128, which kernels before 6.4 require; grown on ENOSPC). */
  logSize?: number;
}

export interface ProgLoadResult {
  fd: FD;
  /** Verifier log (empty unless logLevel > 0 was asked for). */
  log: string;
}

const DEFAULT_LOG_SIZE = 1 << 16;
const MAX_LOG_SIZE = 1 << 28;
/** Kernels before 6.4 refuse a verifier or BTF log buffer under 128 bytes with EINVAL. */
const MIN_LOG_SIZE = 128;
const logSizeOf = (asked: number | undefined): number =>
  Math.max(MIN_LOG_SIZE, asked ?? DEFAULT_LOG_SIZE);
const EAGAIN_RETRIES = 5;

function encodeProgLoad(
  p: ProgLoadAttr,
  license: Uint8Array,
  log: Uint8Array | null,
  logLevel: number,
): Attr {
  if (p.insns.byteLength % 8 !== 0 || p.insns.byteLength === 0)
    throw bug(
      `BPF_PROG_LOAD: instructions must be a non-empty multiple of 8 bytes, got ${p.insns.byteLength}`,
    );
  const funcRec = p.funcInfoRecSize ?? 8;
  const lineRec = p.lineInfoRecSize ?? 16;
  const a = new Attr(ATTR.PROG_LOAD.size)
    .u32(0, p.type)
    .u32(4, p.insns.byteLength / 8)
    .ptr(8, p.insns)
    .ptr(16, license)
    .u32(24, log ? logLevel : 0)
    .u32(28, log ? log.byteLength : 0)
    .ptr(32, log)
    .u32(40, p.kernVersion ?? 0)
    .u32(44, p.flags ?? 0)
    .str(48, OBJ_NAME_LEN, objName(p.name ?? ""))
    .u32(64, p.ifindex ?? 0)
    .u32(68, p.expectedAttachType ?? 0)
    .u32(72, p.btfFd ?? 0)
    .u32(108, p.attachBtfId ?? 0)
    .u32(112, p.attachProgFd ?? p.attachBtfObjFd ?? 0)
    .ptr(120, p.fdArray);
  if (p.funcInfo && p.funcInfo.byteLength > 0)
    a.u32(76, funcRec)
      .ptr(80, p.funcInfo)
      .u32(88, p.funcInfo.byteLength / funcRec);
  if (p.lineInfo && p.lineInfo.byteLength > 0)
    a.u32(92, lineRec)
      .ptr(96, p.lineInfo)
      .u32(104, p.lineInfo.byteLength / lineRec);
  return a;
}

/** The last `n` lines of a log, for error messages (the full log stays on the error). */
function logTail(log: string, n = 12): string {
  const lines = log.trimEnd().split("\n");
  return lines.slice(-n).join("\n");
}

/**
 * Loads a program. With logLevel 0 the first attempt runs without a log (fast); a failure is
 * retried once at level 1 so the thrown SysError carries the verifier log. The log buffer
 * grows on ENOSPC (using log_true_size where the kernel reports it).
 */
export function progLoad(p: ProgLoadAttr): ProgLoadResult {
  const license = cString(p.license);
  const subject = `program "${p.name ?? "?"}"`;
  let logLevel = p.logLevel ?? 0;
  let logSize = logLevel > 0 ? logSizeOf(p.logSize) : 0;
  let eagain = 0;
  for (;;) {
    const log = logSize > 0 ? new Uint8Array(logSize) : null;
    const a = encodeProgLoad(p, license, log, logLevel);
    const r = native().bpf(Cmd.PROG_LOAD, a.bytes);
    const text = log ? readCString(log) : "";
    if (r >= 0) return { fd: new FD(r), log: text };
    const errno = -r;
    if (errno === Errno.EAGAIN && eagain++ < EAGAIN_RETRIES) continue;
    if (errno === Errno.ENOSPC && log && logSize < MAX_LOG_SIZE) {
      const trueSize = a.getU32(140);
      logSize = Math.min(MAX_LOG_SIZE, Math.max(trueSize + 1, logSize * 4));
      continue;
    }
    if (!log) {
      logLevel = 1;
      logSize = logSizeOf(p.logSize);
      continue;
    }
    const tail = text
      ? `\nverifier log (last lines; full log on error.log):\n${logTail(text)}`
      : "";
    const err = new SysError("BPF_PROG_LOAD", errno, { subject, log: text, progType: p.type });
    err.message += tail;
    throw err;
  }
}

export interface BtfLoadResult {
  fd: FD;
  log: string;
}

/** Loads BTF; like progLoad, a failure is retried with a log that ends up on the error. */
export function btfLoad(
  data: Uint8Array,
  opts: { logLevel?: number; logSize?: number } = {},
): BtfLoadResult {
  let logLevel = opts.logLevel ?? 0;
  let logSize = logLevel > 0 ? logSizeOf(opts.logSize) : 0;
  for (;;) {
    const log = logSize > 0 ? new Uint8Array(logSize) : null;
    const a = new Attr(ATTR.BTF_LOAD.size)
      .ptr(0, data)
      .ptr(8, log)
      .u32(16, data.byteLength)
      .u32(20, log ? logSize : 0)
      .u32(24, log ? logLevel : 0);
    const r = native().bpf(Cmd.BTF_LOAD, a.bytes);
    const text = log ? readCString(log) : "";
    if (r >= 0) return { fd: new FD(r), log: text };
    const errno = -r;
    if (errno === Errno.ENOSPC && log && logSize < MAX_LOG_SIZE) {
      logSize = Math.min(MAX_LOG_SIZE, Math.max(a.getU32(28) + 1, logSize * 4));
      continue;
    }
    if (!log) {
      logLevel = 1;
      logSize = logSizeOf(opts.logSize);
      continue;
    }
    const err = new SysError("BPF_BTF_LOAD", errno, { log: text });
    if (text) err.message += `\nBTF log (last lines):\n${logTail(text)}`;
    throw err;
  }
}

// ---------------------------------------------------------------- pinning

export function objPin(fd: number, path: string): void {
  const p = cString(path);
  call(Cmd.OBJ_PIN, new Attr(ATTR.OBJ_PIN_GET.size).ptr(0, p).u32(8, fd), path);
}

/** Opens a pinned object; flags: FileFlags.RDONLY / WRONLY. */
export function objGet(path: string, flags = 0): FD {
  const p = cString(path);
  return callFd(Cmd.OBJ_GET, new Attr(ATTR.OBJ_PIN_GET.size).ptr(0, p).u32(12, flags), path);
}

// ---------------------------------------------------------------- attach / links

export interface ProgAttachAttr {
  /** cgroup fd, sockmap fd, netns fd … or an ifindex (tcx) */
  targetFd: number;
  progFd: number;
  attachType: number;
  flags?: number;
  replaceFd?: number;
  relativeFd?: number;
  expectedRevision?: bigint | number;
}

function encodeProgAttach(p: ProgAttachAttr): Attr {
  return new Attr(ATTR.PROG_ATTACH.size)
    .u32(0, p.targetFd)
    .u32(4, p.progFd)
    .u32(8, p.attachType)
    .u32(12, p.flags ?? 0)
    .u32(16, p.replaceFd ?? 0)
    .u32(20, p.relativeFd ?? 0)
    .u64(24, p.expectedRevision ?? 0);
}

export function progAttach(p: ProgAttachAttr): void {
  call(Cmd.PROG_ATTACH, encodeProgAttach(p));
}

export function progDetach(p: ProgAttachAttr): void {
  call(Cmd.PROG_DETACH, encodeProgAttach(p));
}

export interface LinkCreateAttr {
  progFd: number;
  /** Target fd (cgroup, prog for freplace, perf event, netns) or ifindex (XDP, tcx, netkit). */
  target: number;
  attachType: number;
  flags?: number;
  /** tracing / freplace / LSM: BTF id of the target function */
  targetBtfId?: number;
  /** perf_event links (kprobe/uprobe/tracepoint via perf fd): bpf_get_attach_cookie() value */
  perfEventCookie?: bigint | number;
  /** fentry/fexit/tp_btf links: attach cookie (overlays targetBtfId + cookie) */
  tracingCookie?: bigint | number;
  /** tcx / netkit / cgroup mprog ordering */
  relativeFdOrId?: number;
  expectedRevision?: bigint | number;
  /** iterator programs: bpf_iter_link_info bytes */
  iterInfo?: Uint8Array;
  netfilter?: { pf: number; hooknum: number; priority: number; flags?: number };
  uprobeMulti?: {
    path: string;
    offsets: BigUint64Array;
    refCtrOffsets?: BigUint64Array;
    cookies?: BigUint64Array;
    flags?: number;
    pid?: number;
  };
}

/** BPF_ITER_CREATE: a readable fd that runs an iterator link's program as it is read. */
export function iterCreate(linkFd: number): FD {
  return callFd(Cmd.ITER_CREATE, new Attr(ATTR.ITER_CREATE.size).u32(0, linkFd), "iterator");
}

export function linkCreate(l: LinkCreateAttr): FD {
  const a = new Attr(ATTR.LINK_CREATE.size)
    .u32(0, l.progFd)
    .u32(4, l.target)
    .u32(8, l.attachType)
    .u32(12, l.flags ?? 0);
  // Keep pointed-to buffers referenced until the syscall returns.
  let keep: unknown;
  if (l.targetBtfId !== undefined) a.u32(16, l.targetBtfId);
  if (l.perfEventCookie !== undefined) a.u64(16, l.perfEventCookie);
  if (l.tracingCookie !== undefined) a.u64(24, l.tracingCookie);
  if (l.relativeFdOrId !== undefined) a.u32(16, l.relativeFdOrId);
  if (l.expectedRevision !== undefined) a.u64(24, l.expectedRevision);
  if (l.iterInfo) a.ptr(16, l.iterInfo).u32(24, l.iterInfo.byteLength);
  if (l.netfilter)
    a.u32(16, l.netfilter.pf)
      .u32(20, l.netfilter.hooknum)
      .i32(24, l.netfilter.priority)
      .u32(28, l.netfilter.flags ?? 0);
  if (l.uprobeMulti) {
    const u = l.uprobeMulti;
    const path = cString(u.path);
    keep = path;
    a.ptr(16, path)
      .ptr(24, u.offsets)
      .ptr(32, u.refCtrOffsets)
      .ptr(40, u.cookies)
      .u32(48, u.offsets.length)
      .u32(52, u.flags ?? 0)
      .u32(56, u.pid ?? 0);
  }
  const fd = callFd(Cmd.LINK_CREATE, a);
  void keep;
  return fd;
}

export function linkUpdate(
  linkFd: number,
  newProgFd: number,
  opts: { oldProgFd?: number; flags?: number } = {},
): void {
  let flags = opts.flags ?? 0;
  if (opts.oldProgFd !== undefined) flags |= AttachFlags.REPLACE;
  call(
    Cmd.LINK_UPDATE,
    new Attr(ATTR.LINK_UPDATE.size)
      .u32(0, linkFd)
      .u32(4, newProgFd)
      .u32(8, flags)
      .u32(12, opts.oldProgFd ?? 0),
  );
}

/** Detaches the link's program; the link fd stays valid (and defunct). */
export function linkDetach(linkFd: number): void {
  call(Cmd.LINK_DETACH, new Attr(ATTR.LINK_DETACH.size).u32(0, linkFd));
}

/** Attaches a raw_tracepoint / tp_btf / fentry-style program; name null for BTF-typed ones. */
export function rawTracepointOpen(
  name: string | null,
  progFd: number,
  cookie?: bigint | number,
): FD {
  const n = name === null ? null : cString(name);
  const a = new Attr(
    cookie === undefined ? ATTR.RAW_TRACEPOINT_OPEN.size : ATTR.RAW_TRACEPOINT_OPEN_COOKIE.size,
  )
    .ptr(0, n)
    .u32(8, progFd);
  if (cookie !== undefined) a.u64(16, cookie);
  return callFd(Cmd.RAW_TRACEPOINT_OPEN, a, name ?? undefined);
}

export function progBindMap(progFd: number, mapFd: number): void {
  call(Cmd.PROG_BIND_MAP, new Attr(ATTR.PROG_BIND_MAP.size).u32(0, progFd).u32(4, mapFd));
}

export interface ProgQueryResult {
  progIds: number[];
  /** Per-program attach flags (when the kernel reports them). */
  attachFlags: number;
  revision: bigint;
}

/** Programs attached at a hook (cgroup fd, netns fd, or ifindex for tcx). */
export function progQuery(
  target: number,
  attachType: number,
  queryFlags = 0,
  max = 64,
): ProgQueryResult {
  const ids = new Uint32Array(max);
  const a = new Attr(ATTR.PROG_QUERY.size)
    .u32(0, target)
    .u32(4, attachType)
    .u32(8, queryFlags)
    .ptr(16, ids)
    .u32(24, max);
  call(Cmd.PROG_QUERY, a);
  const n = a.getU32(24);
  return {
    progIds: Array.from(ids.subarray(0, Math.min(n, max))),
    attachFlags: a.getU32(12),
    revision: a.getU64(56),
  };
}

// ---------------------------------------------------------------- test run

export interface ProgTestRunAttr {
  progFd: number;
  dataIn?: Uint8Array;
  /** Capacity for output data (default: dataIn length + 256 when dataIn is given). */
  dataOutSize?: number;
  ctxIn?: Uint8Array;
  ctxOutSize?: number;
  repeat?: number;
  flags?: number;
  cpu?: number;
  batchSize?: number;
}

export interface ProgTestRunResult {
  retval: number;
  /** Average run time in ns. */
  duration: number;
  dataOut: Uint8Array;
  ctxOut: Uint8Array;
}

export function progTestRun(t: ProgTestRunAttr): ProgTestRunResult {
  const dataOut = new Uint8Array(t.dataOutSize ?? (t.dataIn ? t.dataIn.byteLength + 256 : 0));
  const ctxOut = new Uint8Array(t.ctxOutSize ?? 0);
  const a = new Attr(ATTR.PROG_TEST_RUN.size)
    .u32(0, t.progFd)
    .u32(8, t.dataIn?.byteLength ?? 0)
    .u32(12, dataOut.byteLength)
    .ptr(16, t.dataIn)
    .ptr(24, dataOut)
    .u32(32, t.repeat ?? 0)
    .u32(40, t.ctxIn?.byteLength ?? 0)
    .u32(44, ctxOut.byteLength)
    .ptr(48, t.ctxIn)
    .ptr(56, ctxOut)
    .u32(64, t.flags ?? 0)
    .u32(68, t.cpu ?? 0)
    .u32(72, t.batchSize ?? 0);
  call(Cmd.PROG_TEST_RUN, a);
  return {
    retval: a.getU32(4),
    duration: a.getU32(36),
    dataOut: dataOut.subarray(0, Math.min(a.getU32(12), dataOut.byteLength)),
    ctxOut: ctxOut.subarray(0, Math.min(a.getU32(44), ctxOut.byteLength)),
  };
}

// ---------------------------------------------------------------- ids

function nextId(cmd: number, start: number): number | undefined {
  const a = new Attr(ATTR.GET_ID.size).u32(0, start);
  const r = native().bpf(cmd, a.bytes);
  if (r < 0) {
    if (-r === Errno.ENOENT) return undefined;
    throw new SysError(cmdName(cmd), -r);
  }
  return a.getU32(4);
}

/** Next id after `start` (0 for the first), or undefined at the end. */
export const progGetNextId = (start: number): number | undefined =>
  nextId(Cmd.PROG_GET_NEXT_ID, start);
export const mapGetNextId = (start: number): number | undefined =>
  nextId(Cmd.MAP_GET_NEXT_ID, start);
export const linkGetNextId = (start: number): number | undefined =>
  nextId(Cmd.LINK_GET_NEXT_ID, start);
export const btfGetNextId = (start: number): number | undefined =>
  nextId(Cmd.BTF_GET_NEXT_ID, start);

/** All ids of one kind currently in the kernel. */
export function* ids(next: (start: number) => number | undefined): Generator<number> {
  for (let id = next(0); id !== undefined; id = next(id)) yield id;
}

function fdById(cmd: number, id: number, openFlags = 0): FD {
  return callFd(cmd, new Attr(ATTR.GET_ID.size).u32(0, id).u32(8, openFlags), `id ${id}`);
}

export const progGetFdById = (id: number): FD => fdById(Cmd.PROG_GET_FD_BY_ID, id);
export const mapGetFdById = (id: number, openFlags = 0): FD =>
  fdById(Cmd.MAP_GET_FD_BY_ID, id, openFlags);
export const linkGetFdById = (id: number): FD => fdById(Cmd.LINK_GET_FD_BY_ID, id);
export const btfGetFdById = (id: number): FD => fdById(Cmd.BTF_GET_FD_BY_ID, id);

/** Turns on run-time statistics (run_time_ns / run_cnt) while the returned fd is open. */
export function enableStats(type: number = StatsType.RUN_TIME): FD {
  return callFd(Cmd.ENABLE_STATS, new Attr(ATTR.ENABLE_STATS.size).u32(0, type));
}

/** Fills `info` (a bpf_*_info struct) for the object behind fd; returns the kernel's info_len. */
export function objGetInfoByFd(fd: number, info: Uint8Array): number {
  const a = new Attr(ATTR.OBJ_GET_INFO_BY_FD.size).u32(0, fd).u32(4, info.byteLength).ptr(8, info);
  call(Cmd.OBJ_GET_INFO_BY_FD, a);
  return a.getU32(4);
}
