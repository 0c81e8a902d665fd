// OBJ_GET_INFO_BY_FD for programs, maps, links and BTF objects, decoded into plain objects.
// Struct sizes are those of current kernels; older kernels fill a prefix and leave the rest 0.
import { Attr, readCString } from "./attr.js";
import { objGetInfoByFd } from "./bpf.js";

const PROG_INFO_SIZE = 232;
const MAP_INFO_SIZE = 104;
const LINK_INFO_SIZE = 64;
const BTF_INFO_SIZE = 32;

export interface ProgInfo {
  type: number;
  id: number;
  /** 8-byte program tag as hex (what bpftool prints). */
  tag: string;
  jitedProgLen: number;
  xlatedProgLen: number;
  /** ns since boot */
  loadTime: bigint;
  createdByUid: number;
  mapIds: number[];
  name: string;
  ifindex: number;
  btfId: number;
  nrFuncInfo: number;
  nrLineInfo: number;
  runTimeNs: bigint;
  runCnt: bigint;
  recursionMisses: bigint;
  /** Instructions the verifier processed (0 on kernels before 5.16). */
  verifiedInsns: number;
  attachBtfObjId: number;
  attachBtfId: number;
}

/** Program info, including its map ids (a second call sized by nr_map_ids). */
export function progInfo(fd: number): ProgInfo {
  const a = new Attr(PROG_INFO_SIZE);
  objGetInfoByFd(fd, a.bytes);
  const nrMaps = a.getU32(52);
  let mapIds: number[] = [];
  if (nrMaps > 0) {
    const ids = new Uint32Array(nrMaps);
    const b = new Attr(PROG_INFO_SIZE).u32(52, nrMaps).ptr(56, ids);
    objGetInfoByFd(fd, b.bytes);
    mapIds = Array.from(ids.subarray(0, Math.min(nrMaps, b.getU32(52))));
  }
  return {
    type: a.getU32(0),
    id: a.getU32(4),
    tag: Buffer.from(a.bytes.subarray(8, 16)).toString("hex"),
    jitedProgLen: a.getU32(16),
    xlatedProgLen: a.getU32(20),
    loadTime: a.getU64(40),
    createdByUid: a.getU32(48),
    mapIds,
    name: readCString(a.bytes, 64, 16),
    ifindex: a.getU32(80),
    btfId: a.getU32(128),
    nrFuncInfo: a.getU32(144),
    nrLineInfo: a.getU32(148),
    runTimeNs: a.getU64(192),
    runCnt: a.getU64(200),
    recursionMisses: a.getU64(208),
    verifiedInsns: a.getU32(216),
    attachBtfObjId: a.getU32(220),
    attachBtfId: a.getU32(224),
  };
}

/** The program as the kernel holds it after verification (xlated), 8 bytes per insn. */
export function progXlatedInsns(fd: number): Uint8Array {
  const a = new Attr(PROG_INFO_SIZE);
  objGetInfoByFd(fd, a.bytes);
  const len = a.getU32(20);
  const out = new Uint8Array(len);
  if (len > 0) objGetInfoByFd(fd, new Attr(PROG_INFO_SIZE).u32(20, len).ptr(32, out).bytes);
  return out;
}

export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  ifindex: number;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  btfVmlinuxValueTypeId: number;
  mapExtra: bigint;
}

export function mapInfo(fd: number): MapInfo {
  const a = new Attr(MAP_INFO_SIZE);
  objGetInfoByFd(fd, a.bytes);
  return {
    type: a.getU32(0),
    id: a.getU32(4),
    keySize: a.getU32(8),
    valueSize: a.getU32(12),
    maxEntries: a.getU32(16),
    flags: a.getU32(20),
    name: readCString(a.bytes, 24, 16),
    ifindex: a.getU32(40),
    btfVmlinuxValueTypeId: a.getU32(44),
    btfId: a.getU32(64),
    btfKeyTypeId: a.getU32(68),
    btfValueTypeId: a.getU32(72),
    mapExtra: a.getU64(80),
  };
}

export interface LinkInfo {
  type: number;
  id: number;
  progId: number;
  /** Interface for XDP / tcx / netkit links. */
  ifindex?: number;
  attachType?: number;
  /** raw_tracepoint links */
  tpName?: string;
  /** tracing links */
  targetObjId?: number;
  targetBtfId?: number;
  /** cgroup links */
  cgroupId?: bigint;
  /** The type-specific union (bytes 16..64), for kinds not decoded here. */
  raw: Uint8Array;
}

// enum bpf_link_type values decoded below
const LINK_RAW_TRACEPOINT = 1;
const LINK_TRACING = 2;
const LINK_CGROUP = 3;
const LINK_NETNS = 5;
const LINK_XDP = 6;
const LINK_TCX = 11;
const LINK_NETKIT = 13;

export function linkInfo(fd: number): LinkInfo {
  const a = new Attr(LINK_INFO_SIZE);
  objGetInfoByFd(fd, a.bytes);
  const info: LinkInfo = {
    type: a.getU32(0),
    id: a.getU32(4),
    progId: a.getU32(8),
    raw: a.bytes.slice(16),
  };
  switch (info.type) {
    case LINK_RAW_TRACEPOINT: {
      const len = a.getU32(24);
      if (len > 0) {
        const name = new Uint8Array(len);
        objGetInfoByFd(fd, new Attr(LINK_INFO_SIZE).ptr(16, name).u32(24, len).bytes);
        info.tpName = readCString(name);
      }
      break;
    }
    case LINK_TRACING:
      info.attachType = a.getU32(16);
      info.targetObjId = a.getU32(20);
      info.targetBtfId = a.getU32(24);
      break;
    case LINK_CGROUP:
      info.cgroupId = a.getU64(16);
      info.attachType = a.getU32(24);
      break;
    case LINK_NETNS:
      info.attachType = a.getU32(20);
      break;
    case LINK_XDP:
      info.ifindex = a.getU32(16);
      break;
    case LINK_TCX:
    case LINK_NETKIT:
      info.ifindex = a.getU32(16);
      info.attachType = a.getU32(20);
      break;
  }
  return info;
}

export interface BtfInfo {
  id: number;
  size: number;
  name: string;
  kernelBtf: boolean;
}

export function btfInfo(fd: number): BtfInfo {
  const name = new Uint8Array(64);
  const a = new Attr(BTF_INFO_SIZE).ptr(16, name).u32(24, name.byteLength);
  objGetInfoByFd(fd, a.bytes);
  return {
    size: a.getU32(8),
    id: a.getU32(12),
    name: readCString(name),
    kernelBtf: a.getU32(28) !== 0,
  };
}

/** The raw BTF blob of a loaded BTF object. */
export function btfData(fd: number): Uint8Array {
  const a = new Attr(BTF_INFO_SIZE);
  objGetInfoByFd(fd, a.bytes);
  const out = new Uint8Array(a.getU32(8));
  objGetInfoByFd(fd, new Attr(BTF_INFO_SIZE).ptr(0, out).u32(8, out.byteLength).bytes);
  return out;
}
