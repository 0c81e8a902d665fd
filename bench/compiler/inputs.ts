// The inputs every program pair is run on, and the map contents both sides start from.
// Frames cover the paths the programs take: HTTP requests over IPv4/IPv6 (with IP and TCP
// options), a TCP SYN, UDP to the dropped/blocked port, blocked IPv4 networks and IPv6
// prefixes, an exhausted hop limit, a non-IP frame and malformed/truncated frames.
import { frame, type FrameSpec } from "../../test/unit/compiler/packets.js";

export interface Input {
  name: string;
  data: Uint8Array;
  /** the program's context for BPF_PROG_TEST_RUN (`struct __sk_buff` / `xdp_md` bytes) */
  ctx?: Uint8Array;
}

const TCP_FLAGS = 13;

/** frame() with the TCP flags / window, IPv4 TTL or IPv6 hop limit set. */
function packet(
  spec: FrameSpec & { tcpFlags?: number; window?: number; hopLimit?: number },
): Uint8Array {
  const out = frame(spec);
  const ipLen = spec.ip === 4 ? 20 + 4 * (spec.ipOptionWords ?? 0) : 40;
  const l4 = 14 + ipLen;
  if ((spec.proto ?? "tcp") === "tcp") {
    out[l4 + TCP_FLAGS] = spec.tcpFlags ?? 0x18; // PSH|ACK unless told
    new DataView(out.buffer).setUint16(l4 + 14, spec.window ?? 502);
  }
  if (spec.hopLimit !== undefined) out[14 + (spec.ip === 4 ? 8 : 7)] = spec.hopLimit;
  return out;
}

const v6 = (...words: number[]): number[] => words.flatMap((w) => [w >> 8, w & 0xff]);

/** The signature payload: its first 16 bytes hash to an entry of `signatures`. */
export const SIGNATURE_PAYLOAD = "EVIL-PAYLOAD-0001 and some more bytes";

export function inputs(): Input[] {
  const ssh = packet({ ip: 4, dport: 22, payload: "SSH-2.0-OpenSSH_9.6p1 Debian" });
  const truncated = packet({ ip: 4, payload: "GET / HTTP/1.1\r\n" }).subarray(0, 14 + 20 + 10);
  const badIhl = packet({ ip: 4, payload: "GET / HTTP/1.1\r\n" });
  badIhl[14] = 0x44; // IPv4 with a 16-byte header length: malformed
  const arp = packet({ ip: 4, payload: "GET / HTTP/1.1\r\n" });
  arp[12] = 0x08;
  arp[13] = 0x06;
  return [
    {
      name: "v4 GET (options)",
      data: packet({
        ip: 4,
        sport: 43210,
        dport: 8080,
        payload: "GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n",
        ipOptionWords: 1,
        tcpOptionWords: 3,
      }),
    },
    { name: "v4 SYN", data: packet({ ip: 4, dport: 80, tcpFlags: 0x02, window: 64240 }) },
    { name: "v4 SYN-ACK", data: packet({ ip: 4, sport: 80, tcpFlags: 0x12 }) },
    { name: "v6 POST", data: packet({ ip: 6, dport: 443, payload: "POST /api HTTP/1.1\r\n" }) },
    { name: "v6 DELETE", data: packet({ ip: 6, payload: "DELETE /x/y HTTP/1.1\r\n" }) },
    { name: "v4 UDP 9999", data: packet({ ip: 4, proto: "udp", dport: 9999, payload: "x" }) },
    { name: "v4 UDP 53", data: packet({ ip: 4, proto: "udp", dport: 53, payload: "q" }) },
    { name: "v6 UDP 9999", data: packet({ ip: 6, proto: "udp", dport: 9999, payload: "y" }) },
    {
      name: "v4 UDP signature",
      data: packet({ ip: 4, proto: "udp", dport: 7000, payload: SIGNATURE_PAYLOAD }),
    },
    {
      name: "v6 TCP signature",
      data: packet({ ip: 6, dport: 7000, payload: SIGNATURE_PAYLOAD }),
    },
    { name: "v6 hop limit 1", data: packet({ ip: 6, hopLimit: 1, payload: "GET / HTTP/1.1" }) },
    {
      name: "v6 blocked /64",
      data: packet({ ip: 6, src: [0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9] }),
    },
    { name: "v6 other /64", data: packet({ ip: 6, src: v6(0xfd00, 0, 0, 2, 0, 0, 0, 9) }) },
    { name: "v4 to blocked /24", data: packet({ ip: 4, dst: [192, 168, 7, 9] }) },
    { name: "v4 to blocked /16", data: packet({ ip: 4, dst: [172, 16, 200, 1] }) },
    { name: "v4 to blocked /32", data: packet({ ip: 4, dst: [203, 0, 113, 5] }) },
    { name: "v4 to blocked /8", data: packet({ ip: 4, dst: [198, 51, 100, 1] }) },
    { name: "v4 to 203.0.113.6", data: packet({ ip: 4, dst: [203, 0, 113, 6] }) },
    { name: "v4 SSH", data: ssh },
    { name: "v4 short GET", data: packet({ ip: 4, payload: "GET " }) },
    { name: "v4 truncated", data: truncated },
    { name: "v4 bad ihl", data: badIhl },
    { name: "ARP", data: arp },
  ];
}

/** 32-bit FNV-1a, as the payload-hash programs compute it. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

const u32le = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};
const u64le = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};
const ONE = Uint8Array.of(1);

/**
 * Configuration both sides get before running, by map name (maps a program does not have are
 * skipped): blocked networks, payload signatures, blocked ports and /64 prefixes.
 */
export function mapSetup(): Record<string, [Uint8Array, Uint8Array][]> {
  const sig = fnv1a(new TextEncoder().encode(SIGNATURE_PAYLOAD).subarray(0, 16));
  return {
    blocked: [0xc0a80700, 0xac100000, 0xcb007105, 0xc6000000].map((n) => [u32le(n), ONE]),
    signatures: [[u32le(sig), ONE]],
    blocked_ports: [9999, 5353].map((p) => [u32le(p), ONE]),
    blocked64: [[u64le(0xfd00000000000001n), ONE]],
  };
}

/** The frame each program is timed on: its characteristic path. Default: the v4 GET. */
export const TIMED_INPUT: Record<string, string> = {
  xdp_drop_udp: "v4 UDP 9999",
  tc_port_filter: "v4 UDP 9999",
  xdp_syn_ringbuf: "v4 SYN",
  xdp_payload_hash: "v4 UDP signature",
  xdp_payload_loop: "v4 UDP signature",
  xdp_ipv6_filter: "v6 POST",
  tc_bytes: "v6 POST",
};
export const DEFAULT_TIMED_INPUT = "v4 GET (options)";
