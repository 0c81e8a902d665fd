// Frames and checksums for packet-writing tests: ICMP/ICMPv6 echo, UDP with a real checksum,
// VLAN tags, and the Internet checksum (RFC 1071) to validate what a probe wrote.

/** One's-complement sum of 16-bit big-endian words, folded (not inverted). */
export function onesSum(bytes: Uint8Array, start = 0): number {
  let s = start;
  for (let i = 0; i + 1 < bytes.length; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2) s += bytes[bytes.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The Internet checksum of `bytes` (with the checksum field as it is: 0 when computing). */
export function checksum(bytes: Uint8Array, start = 0): number {
  return ~onesSum(bytes, start) & 0xffff;
}

/** True when the bytes (checksum included) sum to 0xffff: the checksum is right. */
export function checksumOk(bytes: Uint8Array, start = 0): boolean {
  return onesSum(bytes, start) === 0xffff;
}

/** IPv4 pseudo-header sum for a transport segment of `len` bytes. */
export function pseudo4(src: Uint8Array, dst: Uint8Array, proto: number, len: number): number {
  const b = new Uint8Array(12);
  b.set(src, 0);
  b.set(dst, 4);
  b[9] = proto;
  b[10] = len >> 8;
  b[11] = len & 0xff;
  return onesSum(b);
}

export interface Ipv4FrameSpec {
  proto: number;
  l4: Uint8Array;
  src?: number[];
  dst?: number[];
  ttl?: number;
  /** IPv4 option words (4 bytes each, NOPs) */
  optionWords?: number;
  /** VLAN ids, outer first (802.1ad outer when two) */
  vlans?: number[];
  srcMac?: number[];
  dstMac?: number[];
}

/** An Ethernet + IPv4 frame with a correct header checksum around `l4`. */
export function ipv4Frame(spec: Ipv4FrameSpec): Uint8Array {
  const vl = spec.vlans ?? [];
  const ihl = 20 + 4 * (spec.optionWords ?? 0);
  const l2 = 14 + 4 * vl.length;
  const out = new Uint8Array(l2 + ihl + spec.l4.length);
  const dv = new DataView(out.buffer);
  out.set(spec.dstMac ?? [2, 0, 0, 0, 0, 2], 0);
  out.set(spec.srcMac ?? [2, 0, 0, 0, 0, 1], 6);
  vl.forEach((id, i) => {
    dv.setUint16(12 + 4 * i, vl.length === 2 && i === 0 ? 0x88a8 : 0x8100);
    dv.setUint16(14 + 4 * i, id);
  });
  dv.setUint16(l2 - 2, 0x0800);
  const ip = out.subarray(l2, l2 + ihl);
  ip[0] = 0x40 | (ihl / 4);
  new DataView(ip.buffer, ip.byteOffset).setUint16(2, ihl + spec.l4.length);
  ip[4] = 0x12;
  ip[5] = 0x34;
  ip[8] = spec.ttl ?? 64;
  ip[9] = spec.proto;
  ip.set(spec.src ?? [10, 0, 0, 1], 12);
  ip.set(spec.dst ?? [10, 0, 0, 2], 16);
  for (let i = 20; i < ihl; i++) ip[i] = 1; // NOP options
  new DataView(ip.buffer, ip.byteOffset).setUint16(10, checksum(ip));
  out.set(spec.l4, l2 + ihl);
  return out;
}

/** An ICMP echo request (type 8) with a correct checksum. */
export function icmpEcho(id: number, seq: number, payload: Uint8Array, type = 8): Uint8Array {
  const m = new Uint8Array(8 + payload.length);
  m[0] = type;
  new DataView(m.buffer).setUint16(4, id);
  new DataView(m.buffer).setUint16(6, seq);
  m.set(payload, 8);
  new DataView(m.buffer).setUint16(2, checksum(m));
  return m;
}

/** A UDP datagram with its checksum computed over the IPv4 pseudo-header. */
export function udp4(
  sport: number,
  dport: number,
  payload: Uint8Array,
  src = [10, 0, 0, 1],
  dst = [10, 0, 0, 2],
): Uint8Array {
  const u = new Uint8Array(8 + payload.length);
  const dv = new DataView(u.buffer);
  dv.setUint16(0, sport);
  dv.setUint16(2, dport);
  dv.setUint16(4, u.length);
  u.set(payload, 8);
  const c = checksum(u, pseudo4(new Uint8Array(src), new Uint8Array(dst), 17, u.length));
  dv.setUint16(6, c === 0 ? 0xffff : c);
  return u;
}
