// What runs on which network interface (`tsbpf net`, bpftool's `net`): XDP programs from an
// RTM_GETLINK dump, tcx programs from BPF_PROG_QUERY per interface (Linux ≥ 6.6), cls_bpf
// filters of the clsact qdisc from RTM_GETTFILTER dumps. Only this network namespace.
import { AttachType } from "../obj/consts.js";
import {
  attrString,
  attrU32,
  decodeAttrs,
  encodeMessage,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  decodeError,
  type NetlinkMessage,
} from "../link/netlink.js";
import {
  decodeLinkXdp,
  ifinfomsg,
  RouteSocket,
  RTM_GETLINK,
  RTM_NEWLINK,
  tcmsg,
  tcParent,
  XdpAttached,
} from "../link/rtnetlink.js";
import { FormatError } from "../link/errors.js";
import { progQuery } from "../sys/bpf.js";
import { Errno, SysError } from "../sys/errors.js";

const RTM_NEWTFILTER = 44;
const RTM_GETTFILTER = 46;
const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_BPF_NAME = 7;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_ID = 11;
const TCA_BPF_FLAG_ACT_DIRECT = 1;

export interface XdpAttachment {
  mode: "driver" | "generic" | "offload";
  progId: number;
}

export interface TcAttachment {
  direction: "ingress" | "egress";
  /** tcx: a bpf_link or BPF_PROG_ATTACH at the interface; cls_bpf: a filter of the clsact qdisc */
  kind: "tcx" | "cls_bpf";
  progId: number;
  /** cls_bpf: the filter's name (tc's `name`), priority, handle, direct-action */
  name?: string;
  priority?: number;
  handle?: number;
  directAction?: boolean;
}

export interface InterfaceAttachments {
  ifindex: number;
  name: string;
  xdp: XdpAttachment[];
  tc: TcAttachment[];
}

/** The XDP programs of an RTM_NEWLINK message, one per mode in use. */
export function xdpAttachments(msg: NetlinkMessage): {
  ifindex: number;
  name: string;
  xdp: XdpAttachment[];
} {
  const info = decodeLinkXdp(msg);
  const xdp: XdpAttachment[] = [];
  const add = (mode: XdpAttachment["mode"], id: number) =>
    id !== 0 && xdp.push({ mode, progId: id });
  if (info.attached === XdpAttached.MULTI) {
    add("driver", info.drvProgId);
    add("generic", info.skbProgId);
    add("offload", info.hwProgId);
  } else if (info.attached === XdpAttached.DRV) add("driver", info.progId || info.drvProgId);
  else if (info.attached === XdpAttached.SKB) add("generic", info.progId || info.skbProgId);
  else if (info.attached === XdpAttached.HW) add("offload", info.progId || info.hwProgId);
  return { ifindex: info.ifindex, name: info.name ?? `ifindex ${info.ifindex}`, xdp };
}

/** A cls_bpf filter out of an RTM_NEWTFILTER message; undefined for other filter kinds. */
export function decodeBpfFilter(
  msg: NetlinkMessage,
  direction: "ingress" | "egress",
): TcAttachment | undefined {
  if (msg.type !== RTM_NEWTFILTER) return undefined;
  if (msg.payload.length < 20)
    throw new FormatError(
      "netlink filter reply",
      `${msg.payload.length} bytes, want a 20-byte tcmsg`,
    );
  const dv = new DataView(msg.payload.buffer, msg.payload.byteOffset, 20);
  const handle = dv.getUint32(8, true);
  const info = dv.getUint32(16, true);
  let kind: string | undefined;
  let progId: number | undefined;
  let name: string | undefined;
  let flags = 0;
  for (const a of decodeAttrs(msg.payload.subarray(20))) {
    if (a.type === TCA_KIND) kind = attrString(a);
    else if (a.type === TCA_OPTIONS)
      for (const o of decodeAttrs(a.data)) {
        if (o.type === TCA_BPF_ID) progId = attrU32(o);
        else if (o.type === TCA_BPF_NAME) name = attrString(o);
        else if (o.type === TCA_BPF_FLAGS) flags = attrU32(o);
      }
  }
  if (kind !== "bpf" || progId === undefined) return undefined; // a chain's head, or another classifier
  return {
    direction,
    kind: "cls_bpf",
    progId,
    ...(name !== undefined && { name }),
    priority: info >>> 16,
    handle,
    directAction: (flags & TCA_BPF_FLAG_ACT_DIRECT) !== 0,
  };
}

function dump(sock: RouteSocket, type: number, header: Uint8Array, what: string): NetlinkMessage[] {
  const seq = sock.nextSeq();
  const replies = sock.exchange(
    encodeMessage({ type, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, header }),
    seq,
  );
  const err = replies.find((m) => m.type === NLMSG_ERROR);
  if (err) {
    const { errno } = decodeError(err);
    if (errno !== 0) throw new SysError(what, errno);
  }
  return replies;
}

function tcxPrograms(ifindex: number): TcAttachment[] {
  const out: TcAttachment[] = [];
  for (const direction of ["ingress", "egress"] as const) {
    try {
      const q = progQuery(
        ifindex,
        direction === "ingress" ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS,
      );
      for (const progId of q.progIds) out.push({ direction, kind: "tcx", progId });
    } catch (e) {
      // before 6.6 the kernel knows no tcx attach type
      if (e instanceof SysError && (e.errno === Errno.EINVAL || e.errno === Errno.EOPNOTSUPP))
        return out;
      throw e;
    }
  }
  return out;
}

/** Every interface of this network namespace with its XDP and tc programs (none: empty lists). */
export function netAttachments(): InterfaceAttachments[] {
  using sock = new RouteSocket();
  const out: InterfaceAttachments[] = [];
  for (const msg of dump(sock, RTM_GETLINK, ifinfomsg(0), "RTM_GETLINK dump")) {
    if (msg.type !== RTM_NEWLINK) continue;
    const { ifindex, name, xdp } = xdpAttachments(msg);
    const tc = tcxPrograms(ifindex);
    for (const direction of ["ingress", "egress"] as const) {
      let replies: NetlinkMessage[];
      try {
        replies = dump(
          sock,
          RTM_GETTFILTER,
          tcmsg(ifindex, 0, tcParent(direction), 0),
          "RTM_GETTFILTER dump",
        );
      } catch (e) {
        // no clsact qdisc on this interface: nothing attached that way
        if (e instanceof SysError && (e.errno === Errno.EINVAL || e.errno === Errno.ENOENT))
          continue;
        throw e;
      }
      for (const r of replies) {
        const f = decodeBpfFilter(r, direction);
        if (f) tc.push(f);
      }
    }
    out.push({ ifindex, name, xdp, tc });
  }
  return out.sort((a, b) => a.ifindex - b.ifindex);
}
