// Route-netlink requests tsbpf needs: set/clear an interface's XDP program (IFLA_XDP), read
// what is attached, and the tc clsact qdisc + cls_bpf filter of the pre-TCX world. Builders
// and reply decoders are pure; `RouteSocket` does the I/O through the native addon.

import { SysError } from "../sys/errors.js";
import type { FD } from "../sys/fd.js";
import { NETLINK_ROUTE, openNetlink, sockRecv, sockSend } from "../sys/socket.js";
import { FormatError } from "./errors.js";
import {
  attr,
  attrString,
  attrU32,
  decodeAttrs,
  decodeError,
  decodeMessages,
  encodeMessage,
  NLM_F_ACK,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  type Attr,
  type NetlinkAck,
  type NetlinkMessage,
} from "./netlink.js";

export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWQDISC = 36;
export const RTM_DELQDISC = 37;
export const RTM_NEWTFILTER = 44;
export const RTM_DELTFILTER = 45;

export const IFLA_IFNAME = 3;
export const IFLA_XDP = 43;
export const IFLA_XDP_FD = 1;
export const IFLA_XDP_ATTACHED = 2;
export const IFLA_XDP_FLAGS = 3;
export const IFLA_XDP_PROG_ID = 4;
export const IFLA_XDP_DRV_PROG_ID = 5;
export const IFLA_XDP_SKB_PROG_ID = 6;
export const IFLA_XDP_HW_PROG_ID = 7;
export const IFLA_XDP_EXPECTED_FD = 8;

/** XDP_ATTACHED_*: how the interface runs its XDP program(s). */
export const XdpAttached = { NONE: 0, DRV: 1, SKB: 2, HW: 3, MULTI: 4 } as const;

const AF_UNSPEC = 0;

/** struct ifinfomsg for one interface */
export function ifinfomsg(ifindex: number): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, AF_UNSPEC);
  dv.setInt32(4, ifindex, true);
  return b;
}

/**
 * RTM_SETLINK with IFLA_XDP { FD, FLAGS, EXPECTED_FD }: attach `progFd`, or detach with -1.
 * `expectedFd` (with XDP_FLAGS_REPLACE in `flags`) makes the swap atomic against that program.
 */
export function xdpSetLinkRequest(
  seq: number,
  ifindex: number,
  progFd: number,
  flags: number,
  expectedFd?: number,
): Uint8Array {
  const xdp: Attr[] = [attr.i32(IFLA_XDP_FD, progFd)];
  if (flags !== 0) xdp.push(attr.u32(IFLA_XDP_FLAGS, flags));
  if (expectedFd !== undefined) xdp.push(attr.i32(IFLA_XDP_EXPECTED_FD, expectedFd));
  return encodeMessage({
    type: RTM_SETLINK,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    seq,
    header: ifinfomsg(ifindex),
    attrs: [attr.nested(IFLA_XDP, xdp)],
  });
}

/** RTM_GETLINK for one interface (the reply is one RTM_NEWLINK). */
export function getLinkRequest(seq: number, ifindex: number): Uint8Array {
  return encodeMessage({
    type: RTM_GETLINK,
    flags: NLM_F_REQUEST,
    seq,
    header: ifinfomsg(ifindex),
  });
}

export interface LinkXdpInfo {
  ifindex: number;
  name?: string;
  /** XDP_ATTACHED_* */
  attached: number;
  /** program ids per mode (0 when none) */
  progId: number;
  drvProgId: number;
  skbProgId: number;
  hwProgId: number;
}

/** Decode the XDP state out of an RTM_NEWLINK message. */
export function decodeLinkXdp(msg: NetlinkMessage): LinkXdpInfo {
  if (msg.type !== RTM_NEWLINK || msg.payload.length < 16)
    throw new FormatError("netlink link reply", `type ${msg.type}, ${msg.payload.length} bytes`);
  const dv = new DataView(msg.payload.buffer, msg.payload.byteOffset, 16);
  const info: LinkXdpInfo = {
    ifindex: dv.getInt32(4, true),
    attached: XdpAttached.NONE,
    progId: 0,
    drvProgId: 0,
    skbProgId: 0,
    hwProgId: 0,
  };
  for (const a of decodeAttrs(msg.payload.subarray(16))) {
    if (a.type === IFLA_IFNAME) info.name = attrString(a);
    if (a.type !== IFLA_XDP) continue;
    for (const x of decodeAttrs(a.data)) {
      if (x.type === IFLA_XDP_ATTACHED) {
        if (x.data.length < 1)
          throw new FormatError("netlink link reply", "empty IFLA_XDP_ATTACHED");
        info.attached = x.data[0]!;
      } else if (x.type === IFLA_XDP_PROG_ID) info.progId = attrU32(x);
      else if (x.type === IFLA_XDP_DRV_PROG_ID) info.drvProgId = attrU32(x);
      else if (x.type === IFLA_XDP_SKB_PROG_ID) info.skbProgId = attrU32(x);
      else if (x.type === IFLA_XDP_HW_PROG_ID) info.hwProgId = attrU32(x);
    }
  }
  return info;
}

// ---- tc (clsact qdisc + cls_bpf), for kernels before TCX (6.6) ----

export const TC_H_CLSACT = 0xfffffff1;
export const TC_H_MIN_INGRESS = 0xfff2;
export const TC_H_MIN_EGRESS = 0xfff3;
const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_BPF_FD = 6;
const TCA_BPF_NAME = 7;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_FLAG_ACT_DIRECT = 1;
const ETH_P_ALL = 0x0003;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;

/** struct tcmsg */
export function tcmsg(ifindex: number, handle: number, parent: number, info: number): Uint8Array {
  const b = new Uint8Array(20);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, AF_UNSPEC);
  dv.setInt32(4, ifindex, true);
  dv.setUint32(8, handle >>> 0, true);
  dv.setUint32(12, parent >>> 0, true);
  dv.setUint32(16, info >>> 0, true);
  return b;
}

/** RTM_NEWQDISC clsact (EEXIST when the interface already has one) or RTM_DELQDISC. */
export function clsactRequest(seq: number, ifindex: number, del = false): Uint8Array {
  return encodeMessage({
    type: del ? RTM_DELQDISC : RTM_NEWQDISC,
    flags: NLM_F_REQUEST | NLM_F_ACK | (del ? 0 : NLM_F_CREATE | NLM_F_EXCL),
    seq,
    header: tcmsg(ifindex, 0xffff0000, TC_H_CLSACT, 0),
    attrs: [attr.str(TCA_KIND, "clsact")],
  });
}

/** The clsact parent of a hook. */
export const tcParent = (dir: "ingress" | "egress"): number =>
  (0xffff0000 | (dir === "ingress" ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS)) >>> 0;

/** RTM_NEWTFILTER: a direct-action cls_bpf filter running `progFd`, or its deletion. */
export function bpfFilterRequest(
  seq: number,
  ifindex: number,
  dir: "ingress" | "egress",
  opts: { progFd?: number; name?: string; handle: number; priority: number; del?: boolean },
): Uint8Array {
  // tcm_info: priority in the high 16 bits, protocol (network order) in the low 16.
  const proto = ((ETH_P_ALL & 0xff) << 8) | (ETH_P_ALL >> 8);
  const info = ((opts.priority << 16) | proto) >>> 0;
  const attrs: Attr[] = [attr.str(TCA_KIND, "bpf")];
  if (!opts.del) {
    attrs.push(
      attr.nested(TCA_OPTIONS, [
        attr.u32(TCA_BPF_FD, opts.progFd ?? -1),
        attr.str(TCA_BPF_NAME, opts.name ?? "tsbpf"),
        attr.u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT),
      ]),
    );
  }
  return encodeMessage({
    type: opts.del ? RTM_DELTFILTER : RTM_NEWTFILTER,
    flags: NLM_F_REQUEST | NLM_F_ACK | (opts.del ? 0 : NLM_F_CREATE | NLM_F_EXCL),
    seq,
    header: tcmsg(ifindex, opts.handle, tcParent(dir), info),
    attrs,
  });
}

// ---- I/O ----

/** A NETLINK_ROUTE socket for request/ack exchanges. Close it when done. */
export class RouteSocket implements Disposable {
  readonly #fd: FD;
  #seq = Math.floor(Date.now() / 1000) & 0xffff;
  readonly #buf = new Uint8Array(64 * 1024);

  constructor() {
    this.#fd = openNetlink(NETLINK_ROUTE);
  }

  nextSeq(): number {
    return (this.#seq = (this.#seq + 1) >>> 0);
  }

  /** Send `msg` (built with `seq`) and return the messages answering it, up to DONE/ERROR. */
  exchange(msg: Uint8Array, seq: number): NetlinkMessage[] {
    sockSend(this.#fd.fd, msg, 0, "send(netlink)");
    const out: NetlinkMessage[] = [];
    for (;;) {
      const r = sockRecv(this.#fd.fd, this.#buf, 0, "recv(netlink)");
      // Copy: the receive buffer is reused for the next datagram.
      for (const m of decodeMessages(this.#buf.slice(0, r))) {
        if (m.seq !== seq) continue; // a late answer to something else
        out.push(m);
        if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE) return out;
        if ((m.flags & 0x2) === 0) return out; // not NLM_F_MULTI: a single reply
      }
    }
  }

  /** Send a request that expects an ack; returns the ack (errno 0 on success). */
  request(build: (seq: number) => Uint8Array): NetlinkAck {
    const seq = this.nextSeq();
    const replies = this.exchange(build(seq), seq);
    const err = replies.find((m) => m.type === NLMSG_ERROR);
    if (!err) throw new FormatError("netlink reply", "no acknowledgement");
    return decodeError(err);
  }

  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The XDP state of an interface, read over netlink. */
export function queryXdp(ifindex: number): LinkXdpInfo {
  using sock = new RouteSocket();
  const seq = sock.nextSeq();
  const replies = sock.exchange(getLinkRequest(seq, ifindex), seq);
  const link = replies.find((m) => m.type === RTM_NEWLINK);
  if (!link) {
    const e = replies.find((m) => m.type === NLMSG_ERROR);
    const errno = e ? decodeError(e).errno : 0;
    if (errno !== 0) throw new SysError("RTM_GETLINK", errno, { subject: `ifindex ${ifindex}` });
    throw new FormatError("netlink reply", "RTM_GETLINK answered without a link");
  }
  return decodeLinkXdp(link);
}
