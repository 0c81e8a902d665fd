// Crafted frames for the network zoo (bench/compiler/zoo/net) and its kernel tests
// (test/kernel/zoo/): Ethernet with optional 802.1Q/802.1ad tags, IPv4 (valid header
// checksum) or IPv6, and TCP, UDP, ICMP or ICMPv6 with valid checksums, so that a program
// that rewrites a packet can be checked against what the kernel's stack would accept.

export interface NetFrame {
  ip: 4 | 6;
  proto: "tcp" | "udp" | "icmp" | number;
  /** IPv4: 4 bytes; IPv6: 16 bytes */
  src?: number[];
  dst?: number[];
  sport?: number;
  dport?: number;
  /** ICMP / ICMPv6 type (default echo request), echo id and sequence */
  icmpType?: number;
  id?: number;
  seq?: number;
  payload?: string | Uint8Array;
  /** VLAN tags after the MAC addresses, outermost first: [tpid, tci] */
  vlans?: [number, number][];
  /** IPv4 TOS / IPv6 traffic class */
  tos?: number;
  ttl?: number;
  ipOptionWords?: number;
  /** IPv4 fragment offset / flags word (host order) */
  frag?: number;
  /** TCP data offset in words (default 5) */
  doff?: number;
  /** TCP flags (default PSH|ACK) */
  tcpFlags?: number;
  srcMac?: number[];
  dstMac?: number[];
}

export const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
export const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

/** RFC 1071 sum of 16-bit big-endian words (not folded, not complemented). */
function sum16(b: Uint8Array, from: number, to: number, acc = 0): number {
  for (let i = from; i < to; i += 2) acc += (b[i]! << 8) | (i + 1 < to ? b[i + 1]! : 0);
  return acc;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

export function netFrame(f: NetFrame): Uint8Array {
  const payload =
    typeof f.payload === "string"
      ? new TextEncoder().encode(f.payload)
      : (f.payload ?? new Uint8Array());
  const protoNum =
    f.proto === "tcp"
      ? 6
      : f.proto === "udp"
        ? 17
        : f.proto === "icmp"
          ? f.ip === 4
            ? 1
            : 58
          : f.proto;
  const l4len =
    protoNum === 6
      ? 4 * (f.doff ?? 5)
      : protoNum === 17 || protoNum === 1 || protoNum === 58
        ? 8
        : 0;
  const iplen = f.ip === 4 ? 20 + 4 * (f.ipOptionWords ?? 0) : 40;
  const tags = f.vlans ?? [];
  const l2 = 14 + 4 * tags.length;
  const out = new Uint8Array(l2 + iplen + l4len + payload.length);
  const dv = new DataView(out.buffer);
  out.set(f.dstMac ?? MAC_B, 0);
  out.set(f.srcMac ?? MAC_A, 6);
  let at = 12;
  for (const [tpid, tci] of tags) {
    dv.setUint16(at, tpid);
    dv.setUint16(at + 2, tci);
    at += 4;
  }
  dv.setUint16(at, f.ip === 4 ? 0x0800 : 0x86dd);
  const ip = l2;
  const l4 = ip + iplen;
  const l4total = l4len + payload.length;
  if (f.ip === 4) {
    out[ip] = 0x40 | (iplen / 4);
    out[ip + 1] = f.tos ?? 0;
    dv.setUint16(ip + 2, iplen + l4total);
    dv.setUint16(ip + 4, 0x1234);
    dv.setUint16(ip + 6, f.frag ?? 0x4000);
    out[ip + 8] = f.ttl ?? 64;
    out[ip + 9] = protoNum;
    out.set(f.src ?? [10, 0, 0, 1], ip + 12);
    out.set(f.dst ?? [10, 0, 0, 2], ip + 16);
    dv.setUint16(ip + 10, fold(sum16(out, ip, ip + iplen)));
  } else {
    dv.setUint32(ip, (6 << 28) | ((f.tos ?? 0) << 20) | 0x12345);
    dv.setUint16(ip + 4, l4total);
    out[ip + 6] = protoNum;
    out[ip + 7] = f.ttl ?? 64;
    out.set(f.src ?? [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], ip + 8);
    out.set(f.dst ?? [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], ip + 24);
  }
  out.set(payload, l4 + l4len);
  let csumAt = -1;
  if (protoNum === 6 || protoNum === 17) {
    dv.setUint16(l4, f.sport ?? 40000);
    dv.setUint16(l4 + 2, f.dport ?? 80);
    if (protoNum === 6) {
      out[l4 + 12] = (f.doff ?? 5) << 4;
      out[l4 + 13] = f.tcpFlags ?? 0x18;
      dv.setUint16(l4 + 14, 502);
      csumAt = l4 + 16;
    } else {
      dv.setUint16(l4 + 4, l4total);
      csumAt = l4 + 6;
    }
  } else if (protoNum === 1 || protoNum === 58) {
    out[l4] = f.icmpType ?? (protoNum === 1 ? 8 : 128);
    dv.setUint16(l4 + 4, f.id ?? 0x77);
    dv.setUint16(l4 + 6, f.seq ?? 1);
    csumAt = l4 + 2;
  }
  if (csumAt >= 0) {
    let s = sum16(out, l4, out.length);
    if (protoNum !== 1) {
      // pseudo-header
      if (f.ip === 4) s = sum16(out, ip + 12, ip + 20, s);
      else s = sum16(out, ip + 8, ip + 40, s);
      s += protoNum + l4total;
    }
    let c = fold(s);
    if (protoNum === 17 && c === 0) c = 0xffff;
    dv.setUint16(csumAt, c);
  }
  return out;
}

/** A frame of `len` bytes with the given EtherType and no IP header behind it. */
export function rawFrame(etherType: number, len = 60): Uint8Array {
  const out = new Uint8Array(len);
  out.set(MAC_B, 0);
  out.set(MAC_A, 6);
  new DataView(out.buffer).setUint16(12, etherType);
  return out;
}

export const u32le = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
export const u64le = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};

/**
 * A frame as a socket filter attached to a packet socket sees it (skb->data at the MAC
 * header): BPF_PROG_TEST_RUN of a socket filter pulls the first 14 bytes as the Ethernet
 * header and starts the program at the network header, so the frame goes behind an outer
 * Ethernet header of its own.
 */
export function forPacketSocket(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(14 + frame.length);
  out.set(frame.subarray(0, 14), 0);
  out.set(frame, 14);
  return out;
}
