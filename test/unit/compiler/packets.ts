// Crafted Ethernet frames for probe tests: IPv4/IPv6, TCP/UDP, any payload.

export interface FrameSpec {
  ip: 4 | 6;
  proto?: "tcp" | "udp";
  /** IPv4: 4 bytes; IPv6: 16 bytes */
  src?: number[];
  dst?: number[];
  sport?: number;
  dport?: number;
  payload?: string | Uint8Array;
  /** IPv4 options words (header length grows by 4 bytes each) */
  ipOptionWords?: number;
  /** TCP options words */
  tcpOptionWords?: number;
}

export function frame(spec: FrameSpec): Uint8Array {
  const payload =
    typeof spec.payload === "string"
      ? new TextEncoder().encode(spec.payload)
      : (spec.payload ?? new Uint8Array());
  const proto = spec.proto ?? "tcp";
  const l4len = proto === "tcp" ? 20 + 4 * (spec.tcpOptionWords ?? 0) : 8;
  const iplen = spec.ip === 4 ? 20 + 4 * (spec.ipOptionWords ?? 0) : 40;
  const out = new Uint8Array(14 + iplen + l4len + payload.length);
  const dv = new DataView(out.buffer);
  out.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  dv.setUint16(12, spec.ip === 4 ? 0x0800 : 0x86dd);
  const ip = 14;
  const protoNum = proto === "tcp" ? 6 : 17;
  if (spec.ip === 4) {
    out[ip] = 0x40 | (iplen / 4);
    dv.setUint16(ip + 2, iplen + l4len + payload.length);
    out[ip + 8] = 64;
    out[ip + 9] = protoNum;
    out.set(spec.src ?? [10, 0, 0, 1], ip + 12);
    out.set(spec.dst ?? [10, 0, 0, 2], ip + 16);
  } else {
    out[ip] = 0x60;
    dv.setUint16(ip + 4, l4len + payload.length);
    out[ip + 6] = protoNum;
    out[ip + 7] = 64;
    out.set(spec.src ?? [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], ip + 8);
    out.set(spec.dst ?? [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], ip + 24);
  }
  const l4 = ip + iplen;
  dv.setUint16(l4, spec.sport ?? 40000);
  dv.setUint16(l4 + 2, spec.dport ?? 80);
  if (proto === "tcp") out[l4 + 12] = (l4len / 4) << 4;
  else dv.setUint16(l4 + 4, 8 + payload.length);
  out.set(payload, l4 + l4len);
  return out;
}
