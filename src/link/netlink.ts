// Netlink message encoding and decoding (pure; no sockets here). Used for the XDP attach of
// kernels without bpf_link XDP, for the tc clsact/cls_bpf fallback, and for reading back what
// an interface has attached. Replies are untrusted input: decoding is bounds-checked, loops are
// bounded by the buffer, and the only exception is FormatError.

import { FormatError } from "./errors.js";
import { bug } from "../bug.js";

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
// Flags of an NLMSG_ERROR/ACK reply.
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;

const align4 = (n: number): number => (n + 3) & ~3;

/** One attribute: a type and either raw bytes or nested attributes. */
export type Attr = { type: number; data: Uint8Array } | { type: number; nested: readonly Attr[] };

export const attr = {
  u32: (type: number, v: number): Attr => {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, v >>> 0, true);
    return { type, data };
  },
  i32: (type: number, v: number): Attr => {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setInt32(0, v, true);
    return { type, data };
  },
  /** NUL-terminated string */
  str: (type: number, s: string): Attr => {
    const b = utf8e.encode(s);
    const data = new Uint8Array(b.length + 1);
    data.set(b);
    return { type, data };
  },
  nested: (type: number, nested: readonly Attr[]): Attr => ({ type, nested }),
};

function attrSize(a: Attr): number {
  const body = "data" in a ? a.data.length : a.nested.reduce((n, x) => n + align4(attrSize(x)), 0);
  return NLA_HDRLEN + body;
}

function writeAttr(out: Uint8Array, dv: DataView, at: number, a: Attr): number {
  const len = attrSize(a);
  if (len > 0xffff) throw bug(`netlink attribute ${a.type} too large (${len} bytes)`);
  dv.setUint16(at, len, true);
  dv.setUint16(at + 2, "data" in a ? a.type : a.type | NLA_F_NESTED, true);
  let p = at + NLA_HDRLEN;
  if ("data" in a) out.set(a.data, p);
  else for (const x of a.nested) p = writeAttr(out, dv, p, x);
  return at + align4(len);
}

export interface NetlinkRequest {
  type: number;
  flags: number;
  seq: number;
  /** fixed family header (ifinfomsg, tcmsg …) */
  header: Uint8Array;
  attrs?: readonly Attr[];
}

/** Encode one netlink message: nlmsghdr, the family header (padded), then attributes. */
export function encodeMessage(req: NetlinkRequest): Uint8Array {
  const attrs = req.attrs ?? [];
  const len =
    NLMSG_HDRLEN + align4(req.header.length) + attrs.reduce((n, a) => n + align4(attrSize(a)), 0);
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, len, true);
  dv.setUint16(4, req.type, true);
  dv.setUint16(6, req.flags, true);
  dv.setUint32(8, req.seq >>> 0, true);
  dv.setUint32(12, 0, true); // port id: the kernel fills ours in
  out.set(req.header, NLMSG_HDRLEN);
  let p = NLMSG_HDRLEN + align4(req.header.length);
  for (const a of attrs) p = writeAttr(out, dv, p, a);
  return out;
}

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** the bytes after nlmsghdr (a view into the received buffer) */
  payload: Uint8Array;
}

/** Split a received datagram into messages. A truncated or overlong message is a FormatError. */
export function decodeMessages(buf: Uint8Array): NetlinkMessage[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NetlinkMessage[] = [];
  let at = 0;
  while (at + NLMSG_HDRLEN <= buf.byteLength) {
    const len = dv.getUint32(at, true);
    if (len < NLMSG_HDRLEN || len > buf.byteLength - at) {
      throw new FormatError(
        "netlink reply",
        `message at ${at} claims length ${len}, ${buf.byteLength - at} bytes remain`,
      );
    }
    out.push({
      type: dv.getUint16(at + 4, true),
      flags: dv.getUint16(at + 6, true),
      seq: dv.getUint32(at + 8, true),
      pid: dv.getUint32(at + 12, true),
      payload: buf.subarray(at + NLMSG_HDRLEN, at + len),
    });
    at += align4(len);
  }
  // Fewer bytes than a header may remain only as alignment padding.
  if (at < buf.byteLength && buf.subarray(at).some((b) => b !== 0))
    throw new FormatError("netlink reply", `${buf.byteLength - at} stray bytes at the end`);
  return out;
}

export interface DecodedAttr {
  /** type without the NESTED / BYTEORDER bits */
  type: number;
  nested: boolean;
  data: Uint8Array;
}

/** Attributes in `buf` (one level). Malformed lengths are a FormatError. */
export function decodeAttrs(buf: Uint8Array): DecodedAttr[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: DecodedAttr[] = [];
  let at = 0;
  while (at + NLA_HDRLEN <= buf.byteLength) {
    const len = dv.getUint16(at, true);
    const type = dv.getUint16(at + 2, true);
    if (len < NLA_HDRLEN || len > buf.byteLength - at) {
      throw new FormatError(
        "netlink attribute",
        `attribute ${type & NLA_TYPE_MASK} at ${at} claims length ${len}, ${buf.byteLength - at} bytes remain`,
      );
    }
    out.push({
      type: type & NLA_TYPE_MASK,
      nested: (type & NLA_F_NESTED) !== 0,
      data: buf.subarray(at + NLA_HDRLEN, at + len),
    });
    at += align4(len);
  }
  return out;
}

/** A u32 attribute's value; FormatError when it is not 4 bytes. */
export function attrU32(a: DecodedAttr): number {
  if (a.data.length < 4)
    throw new FormatError(
      "netlink attribute",
      `attribute ${a.type} has ${a.data.length} bytes, expected 4`,
    );
  return new DataView(a.data.buffer, a.data.byteOffset, 4).getUint32(0, true);
}

/** A string attribute (NUL-terminated or not). */
export function attrString(a: DecodedAttr): string {
  const end = a.data.indexOf(0);
  return utf8d.decode(end < 0 ? a.data : a.data.subarray(0, end));
}

export interface NetlinkAck {
  /** 0 for success, else a positive errno */
  errno: number;
  /** the kernel's extended-ack message ("XDP program already attached"), if any */
  message?: string;
}

/** Decode an NLMSG_ERROR payload (struct nlmsgerr + optional extended-ack TLVs). */
export function decodeError(msg: NetlinkMessage): NetlinkAck {
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN)
    throw new FormatError("netlink error reply", `${p.length} bytes, need ${4 + NLMSG_HDRLEN}`);
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const err = dv.getInt32(0, true);
  const ack: NetlinkAck = { errno: err < 0 ? -err : err };
  if ((msg.flags & NLM_F_ACK_TLVS) !== 0) {
    // The echoed request is whole unless CAPPED (then just its header).
    const echoed = (msg.flags & NLM_F_CAPPED) !== 0 ? NLMSG_HDRLEN : align4(dv.getUint32(4, true));
    const tlvAt = 4 + echoed;
    if (echoed >= NLMSG_HDRLEN && tlvAt <= p.length) {
      for (const a of decodeAttrs(p.subarray(tlvAt)))
        if (a.type === NLMSGERR_ATTR_MSG) ack.message = attrString(a);
    }
  }
  return ack;
}

const utf8e = new TextEncoder();
const utf8d = new TextDecoder("utf-8");
