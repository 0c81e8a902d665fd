// The network part of the public program zoo (bench/compiler/zoo.ts): each entry names the
// published original (project, file, function), the TS port in ./programs/, and the inputs
// both sides must treat identically — return value, packet and context out, events, map
// contents — before anything is timed. Inputs are crafted frames; what a port does not
// reproduce of its original is said at the entry and in bench/compiler/README.md ("Zoo").
import type { ZooEntry } from "../../zoo.js";
import type { Input } from "../../inputs.js";
import { forPacketSocket, netFrame, rawFrame, u32le, type NetFrame } from "./frames.js";

const f = (name: string, spec: NetFrame): Input => ({ name, data: netFrame(spec) });

/** Sets the 16-bit big-endian word at `at` (a checksum made to hit an edge case). */
function setWord(data: Uint8Array, at: number, v: number): Uint8Array {
  new DataView(data.buffer, data.byteOffset).setUint16(at, v);
  return data;
}

/**
 * Frames for the xdp-tutorial programs: TCP/UDP/ICMP over IPv4 and IPv6, echo requests with
 * odd and even sequence numbers, replies, ARP, a bad IPv4 header length, a frame shorter than
 * only an Ethernet header. Not here: VLAN-tagged IP (the tutorial's parse_ethhdr skips up to two
 * tags; tsbpf's `ip()` does not follow tags) and EtherType 0x0800 with a version nibble other
 * than 4 (parse_iphdr does not check it; `ip()` does).
 */
export function tutorialFrames(): Input[] {
  const badIhl = netFrame({ ip: 4, proto: "tcp" });
  badIhl[14] = 0x44;
  return [
    f("v4 TCP", { ip: 4, proto: "tcp", dport: 80 }),
    f("v4 UDP", { ip: 4, proto: "udp", dport: 53, payload: "query" }),
    f("v6 TCP", { ip: 6, proto: "tcp", dport: 443, payload: "hello" }),
    f("v6 UDP", { ip: 6, proto: "udp", dport: 5353 }),
    f("v4 echo seq 1", { ip: 4, proto: "icmp", seq: 1, payload: "ping-payload" }),
    f("v4 echo seq 2", { ip: 4, proto: "icmp", seq: 2, payload: "ping-payload" }),
    f("v4 echo reply", { ip: 4, proto: "icmp", icmpType: 0, seq: 2 }),
    f("v6 echo seq 7", { ip: 6, proto: "icmp", seq: 7 }),
    f("v6 echo seq 8", { ip: 6, proto: "icmp", seq: 8, payload: "abcdefgh" }),
    f("v6 echo reply", { ip: 6, proto: "icmp", icmpType: 129, seq: 8 }),
    f("v4 TCP options", { ip: 4, proto: "tcp", ipOptionWords: 2, doff: 8, dport: 8080 }),
    { name: "v4 bad ihl", data: badIhl },
    { name: "ARP", data: rawFrame(0x0806) },
    // BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header
    { name: "Ethernet only", data: rawFrame(0x0800, 14) },
  ];
}

/** packet02 ports: the port and checksum edge cases of the original's arithmetic. */
function portFrames(): Input[] {
  const tcp0 = netFrame({ ip: 4, proto: "tcp", dport: 0 });
  const udpFf = setWord(netFrame({ ip: 4, proto: "udp", dport: 7 }), 14 + 20 + 6, 0x12ff);
  const udpZero = setWord(netFrame({ ip: 6, proto: "udp", dport: 9 }), 14 + 40 + 6, 0x00ff);
  const udpShortLen = setWord(netFrame({ ip: 4, proto: "udp", dport: 9 }), 14 + 20 + 4, 7);
  const tcpDoff4 = netFrame({ ip: 4, proto: "tcp", dport: 22 });
  tcpDoff4[14 + 20 + 12] = 4 << 4;
  const tcpCut = netFrame({ ip: 6, proto: "tcp" }).subarray(0, 14 + 40 + 10);
  return [
    ...tutorialFrames(),
    { name: "TCP port 0", data: tcp0 },
    { name: "UDP check 0x12ff", data: udpFf },
    { name: "UDP check 0x00ff", data: udpZero },
    { name: "UDP length 7", data: udpShortLen },
    { name: "TCP doff 4", data: tcpDoff4 },
    { name: "v6 TCP cut", data: tcpCut },
  ];
}

/** packet02 VLAN swap: untagged frames get a tag, tagged ones lose the outer tag. */
function vlanFrames(): Input[] {
  return [
    ...tutorialFrames(),
    f("802.1Q id 5 v4", { ip: 4, proto: "udp", vlans: [[0x8100, 5]] }),
    f("802.1ad QinQ", {
      ip: 6,
      proto: "tcp",
      vlans: [
        [0x88a8, 0x2064],
        [0x8100, 7],
      ],
    }),
    { name: "802.1Q cut tag", data: rawFrame(0x8100, 16) },
  ];
}

/** Frames for the TC and socket programs (they start at the MAC header in test runs). */
function skbFrames(): Input[] {
  return [
    f("v4 TCP", { ip: 4, proto: "tcp", dport: 80 }),
    f("v4 UDP tos 0xb8", { ip: 4, proto: "udp", tos: 0xb8, dport: 53 }),
    f("v4 TCP tos 0x29", { ip: 4, proto: "tcp", tos: 0x29, sport: 1234 }),
    f("v4 ICMP", { ip: 4, proto: "icmp" }),
    f("v4 GRE", { ip: 4, proto: 47, payload: "\x00\x00\x08\x00greinner" }),
    f("v4 fragment", { ip: 4, proto: "udp", frag: 0x2000 }),
    f("v4 last fragment", { ip: 4, proto: "udp", frag: 0x0010 }),
    f("v4 options UDP", { ip: 4, proto: "udp", ipOptionWords: 1, dport: 4789 }),
    f("v6 TCP tc 0x28", { ip: 6, proto: "tcp", tos: 0x28, dport: 443 }),
    f("v6 UDP tc 0", { ip: 6, proto: "udp", dport: 53 }),
    f("v6 UDP tc 0x4b", { ip: 6, proto: "udp", tos: 0x4b, dport: 123 }),
    { name: "ARP", data: rawFrame(0x0806) },
  ];
}

/** Katran-style LB: VIPs, rings, reals and the gateway MAC (katran_lb.bpf.c's layouts). */
export const KATRAN = {
  gatewayMac: [0x02, 0, 0, 0, 0, 0x99],
  /** [address, port (0: any), protocol, flags, vip number] */
  vips: [
    [[10, 0, 0, 100], 80, 6, 0, 1],
    [[10, 0, 0, 100], 0, 17, 0, 2],
    [[10, 0, 0, 101], 53, 17, 1 /* F_HASH_NO_SRC_PORT */, 3],
    [[10, 0, 0, 102], 443, 6, 8 /* F_HASH_DPORT_ONLY */, 4],
  ] as [number[], number, number, number, number][],
  /** real index → [address, flags] */
  reals: [
    [1, [10, 1, 0, 1], 0],
    [2, [10, 1, 0, 2], 0],
    [3, [10, 1, 0, 3], 0],
    [4, [10, 1, 0, 4], 0],
    [6, [0, 0, 0, 0], 1 /* F_IPV6 */],
  ] as [number, number[], number][],
  ringSize: 257,
  /** the real in slot `i` of VIP `vip`'s ring (0: none) */
  ring(vip: number, i: number): number {
    if (vip === 1 || vip === 4) return 1 + (i % 3);
    if (vip === 2) return i % 2 ? 4 : 0;
    return 6;
  },
};

export function katranMaps(): Record<string, [Uint8Array, Uint8Array][]> {
  const vips: [Uint8Array, Uint8Array][] = KATRAN.vips.map(([addr, port, proto, flags, num]) => {
    const k = new Uint8Array(20);
    k.set(addr, 0);
    new DataView(k.buffer).setUint16(16, port);
    k[18] = proto;
    const v = new Uint8Array(8);
    new DataView(v.buffer).setUint32(0, flags, true);
    new DataView(v.buffer).setUint32(4, num, true);
    return [k, v];
  });
  const rings: [Uint8Array, Uint8Array][] = [];
  for (const [, , , , num] of KATRAN.vips)
    for (let i = 0; i < KATRAN.ringSize; i++)
      rings.push([u32le(KATRAN.ringSize * num + i), u32le(KATRAN.ring(num, i))]);
  const reals: [Uint8Array, Uint8Array][] = KATRAN.reals.map(([i, addr, flags]) => {
    const v = new Uint8Array(20);
    v.set(addr, 0);
    v[16] = flags;
    return [u32le(i), v];
  });
  const ctl = new Uint8Array(8);
  ctl.set(KATRAN.gatewayMac, 0);
  return { vip_map: vips, ch_rings: rings, reals, ctl_array: [[u32le(0), ctl]] };
}

function katranFrames(): Input[] {
  const vip = [10, 0, 0, 100];
  const flows: Input[] = [];
  for (let i = 0; i < 6; i++)
    flows.push(
      f(`SYN to VIP:80 from 192.0.2.${10 + i}`, {
        ip: 4,
        proto: "tcp",
        src: [192, 0, 2, 10 + i],
        dst: vip,
        sport: 30000 + 7 * i,
        dport: 80,
        tcpFlags: 0x02,
      }),
    );
  for (let i = 0; i < 6; i++)
    flows.push(
      f(`UDP to VIP:${9000 + i} (any port)`, {
        ip: 4,
        proto: "udp",
        src: [198, 51, 100, 1 + i],
        dst: vip,
        sport: 5000 + i,
        dport: 9000 + i,
        payload: "datagram",
      }),
    );
  const big = netFrame({ ip: 4, proto: "tcp", dst: vip, dport: 80, payload: new Uint8Array(1560) });
  const opts = netFrame({ ip: 4, proto: "tcp", dst: vip, dport: 80, ipOptionWords: 1 });
  return [
    f("ACK to VIP:80", { ip: 4, proto: "tcp", dst: vip, dport: 80, payload: "GET / HTTP/1.1\r\n" }),
    ...flows,
    f("DNS to VIP 2 (no source port)", {
      ip: 4,
      proto: "udp",
      dst: [10, 0, 0, 101],
      sport: 1111,
      dport: 53,
    }),
    f("DNS to VIP 2, other port", {
      ip: 4,
      proto: "udp",
      dst: [10, 0, 0, 101],
      sport: 2222,
      dport: 53,
    }),
    f("TLS to VIP 3 (dport only)", {
      ip: 4,
      proto: "tcp",
      src: [192, 0, 2, 77],
      dst: [10, 0, 0, 102],
      dport: 443,
    }),
    f("TCP to VIP:81 (no VIP)", { ip: 4, proto: "tcp", dst: vip, dport: 81 }),
    f("TCP to another host", { ip: 4, proto: "tcp", dst: [10, 0, 0, 7], dport: 80 }),
    f("ICMP to VIP", { ip: 4, proto: "icmp", dst: vip }),
    f("fragment to VIP", { ip: 4, proto: "udp", dst: vip, dport: 9000, frag: 0x2000 }),
    f("GRE to VIP", { ip: 4, proto: 47, dst: vip, payload: "xxxxxxxx" }),
    { name: "IP options to VIP", data: opts },
    { name: "1600-byte frame to VIP", data: big },
    f("IPv6 TCP", { ip: 6, proto: "tcp" }),
    { name: "ARP", data: rawFrame(0x0806) },
    {
      name: "TCP header cut",
      data: netFrame({ ip: 4, proto: "tcp", dst: vip }).subarray(0, 14 + 20 + 12),
    },
  ];
}

/** skbFrames() as a packet socket's filter sees them (frames.ts forPacketSocket). */
function socketFrames(): Input[] {
  return skbFrames().map((i) => ({ name: i.name, data: forPacketSocket(i.data) }));
}

const one = (name: string): Record<string, [Uint8Array, Uint8Array][]> => ({
  [name]: [[u32le(0), Uint8Array.of(1, 0, 0, 0)]],
});

export const NET_ZOO: ZooEntry[] = [
  {
    name: "tutorial_basic01_pass",
    origin: "xdp-tutorial basic01-xdp-pass/xdp_pass_kern.c xdp_prog_simple",
    ts: "net/programs/tutorial_basic01_pass.ts",
    cObject: "tutorial-basic01.o",
    cProgram: "xdp_prog_simple",
    inputs: tutorialFrames,
    timed: "v4 TCP",
  },
  {
    name: "tutorial_basic02_drop",
    origin: "xdp-tutorial basic02-prog-by-name/xdp_prog_kern.c xdp_drop_func",
    ts: "net/programs/tutorial_basic02_drop.ts",
    cObject: "tutorial-basic02.o",
    cProgram: "xdp_drop_func",
    inputs: tutorialFrames,
    timed: "v4 TCP",
  },
  {
    name: "tutorial_basic03_count",
    origin: "xdp-tutorial basic03-map-counter/xdp_prog_kern.c xdp_stats1_func",
    ts: "net/programs/tutorial_basic03_count.ts",
    cObject: "tutorial-basic03.o",
    cProgram: "xdp_stats1_func",
    inputs: tutorialFrames,
    timed: "v4 TCP",
  },
  {
    name: "tutorial_basic04_stats",
    origin: "xdp-tutorial basic04-pinning-maps/xdp_prog_kern.c xdp_pass_func",
    ts: "net/programs/tutorial_basic04_stats.ts",
    cObject: "tutorial-basic04.o",
    cProgram: "xdp_pass_func",
    inputs: tutorialFrames,
    timed: "v4 TCP",
  },
  {
    name: "tutorial_packet01_parse",
    origin: "xdp-tutorial packet02-rewriting/xdp_prog_kern.c xdp_parser_func (packet01's solution)",
    ts: "net/programs/tutorial_packet01_parse.ts",
    cObject: "tutorial-packet02.o",
    cProgram: "xdp_parser_func",
    pinned: true,
    inputs: tutorialFrames,
    timed: "v6 echo seq 8",
  },
  {
    name: "tutorial_packet02_ports",
    origin: "xdp-tutorial packet-solutions/xdp_prog_kern_02.c xdp_patch_ports_func",
    ts: "net/programs/tutorial_packet02_ports.ts",
    cObject: "tutorial-packet02s.o",
    cProgram: "xdp_patch_ports_func",
    cSection: "xdp",
    pinned: true,
    inputs: portFrames,
    timed: "v4 UDP",
  },
  {
    name: "tutorial_packet02_vlan",
    origin: "xdp-tutorial packet-solutions/xdp_prog_kern_02.c xdp_vlan_swap_func",
    ts: "net/programs/tutorial_packet02_vlan.ts",
    cObject: "tutorial-packet02s.o",
    cProgram: "xdp_vlan_swap_func",
    cSection: "xdp",
    pinned: true,
    inputs: vlanFrames,
    timed: "802.1Q id 5 v4",
  },
  {
    name: "tutorial_packet03_echo",
    origin: "xdp-tutorial packet-solutions/xdp_prog_kern_03.c xdp_icmp_echo_func",
    ts: "net/programs/tutorial_packet03_echo.ts",
    cObject: "tutorial-packet03s.o",
    cProgram: "xdp_icmp_echo_func",
    cSection: "xdp",
    pinned: true,
    inputs: tutorialFrames,
    timed: "v4 echo seq 1",
  },
  {
    name: "tutorial_packet03_redirect",
    origin: "xdp-tutorial packet-solutions/xdp_prog_kern_03.c xdp_redirect_func",
    ts: "net/programs/tutorial_packet03_redirect.ts",
    cObject: "tutorial-packet03s.o",
    cProgram: "xdp_redirect_func",
    cSection: "xdp",
    pinned: true,
    inputs: tutorialFrames,
    timed: "v4 TCP",
  },
  {
    name: "katran_pktcntr",
    origin: "katran katran/lib/bpf/xdp_pktcntr.c pktcntr",
    ts: "net/programs/katran_pktcntr.ts",
    cObject: "katran-pktcntr.o",
    cProgram: "pktcntr",
    inputs: tutorialFrames,
    maps: () => one("ctl_array"),
    timed: "v4 TCP",
  },
  {
    name: "katran_lb",
    origin:
      "katran katran/lib/bpf/balancer.bpf.c balancer_ingress (core IPv4 path; C: the reduction " +
      "bench/compiler/zoo/net/programs/katran_lb.bpf.c, the original does not build standalone)",
    ts: "net/programs/katran_lb.ts",
    cObject: "own-katran_lb.o",
    cProgram: "balancer_ingress",
    inputs: katranFrames,
    maps: katranMaps,
    timed: "SYN to VIP:80 from 192.0.2.10",
  },
  {
    name: "tc_policy_txq",
    origin: "bpf-examples tc-policy/tc_txq_policy_kern.c not_txq_zero",
    ts: "net/programs/tc_policy_txq.ts",
    cObject: "examples-tc-policy.o",
    cProgram: "not_txq_zero",
    inputs: skbFrames,
    timed: "v4 TCP",
  },
  {
    name: "dscp_read",
    origin: "bpf-examples preserve-dscp/preserve_dscp_kern.c read_dscp",
    ts: "net/programs/dscp_read.ts",
    cObject: "examples-preserve-dscp.o",
    cProgram: "read_dscp",
    inputs: skbFrames,
    timed: "v4 UDP tos 0xb8",
  },
  {
    name: "dscp_write",
    origin: "bpf-examples preserve-dscp/preserve_dscp_kern.c write_dscp",
    ts: "net/programs/dscp_write.ts",
    cObject: "examples-preserve-dscp.o",
    cProgram: "write_dscp",
    inputs: skbFrames,
    // test runs leave skb->hash 0: the flow remembered under hash 0 has DSCP 46 (EF)
    maps: () => ({ flow_dscps: [[u32le(0), Uint8Array.of(46)]] }),
    timed: "v4 TCP",
  },
  {
    name: "bootstrap_tc",
    origin: "libbpf-bootstrap examples/c/tc.bpf.c tc_ingress",
    ts: "net/programs/bootstrap_tc.ts",
    cObject: "bootstrap-tc.o",
    cProgram: "tc_ingress",
    inputs: skbFrames,
    timed: "v4 TCP",
  },
  {
    name: "bootstrap_sockfilter",
    origin: "libbpf-bootstrap examples/c/sockfilter.bpf.c socket_handler",
    ts: "net/programs/bootstrap_sockfilter.ts",
    cObject: "bootstrap-sockfilter.o",
    cProgram: "socket_handler",
    inputs: socketFrames,
    timed: "v4 TCP",
  },
];
