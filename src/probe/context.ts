// Packet views and program contexts (XdpContext, TcContext, tracepoint records, Registers…).
// Packet reads and bounds checks are lowered by src/compiler/lower/packet.ts (ICMP, VLAN, ARP,
// IPv6 extension headers, run-time reads: packet-headers.ts; writes, checksums and the
// helpers that change the packet: packet-write.ts); context fields by
// src/compiler/lower/ (ctxMember, lowerer.ts today) and context methods by
// src/compiler/lower/intrinsics.ts (ctxMethod), with pt_regs offsets there too.

// Packet views

/** Bytes read from a packet, compared against string literals byte by byte. */
export interface Bytes {
  readonly length: number;
  /** True when the bytes begin with the (ASCII) literal; it may not be longer than the read. */
  startsWith(prefix: string): boolean;
  /** True when the bytes are exactly the literal (same length as the read). */
  equals(literal: string): boolean;
  /** Byte at a constant index. */
  at(index: number): number;
}

/**
 * A 6-byte MAC address in a packet. Assign it to an `array(u8, 6)` field, or to another
 * header's `dst`/`src`; `value` is the address as a 48-bit number (02:00:00:00:00:01 is
 * 0x020000000001n).
 */
export interface MacAddress extends Uint8Array {
  readonly __mac: true;
  readonly value: bigint;
}

export interface EthernetHeader {
  /** EtherType, host order (0x0800 IPv4, 0x86dd IPv6, 0x8100 a VLAN tag) */
  protocol: number;
  /**
   * Destination and source MAC. Writable in xdp and tc programs: assign another `MacAddress`,
   * an `array(u8, 6)` field, or a 48-bit number (`0x020000000001n`).
   */
  get dst(): MacAddress;
  set dst(mac: MacAddress | ArrayLike<number> | bigint);
  get src(): MacAddress;
  set src(mac: MacAddress | ArrayLike<number> | bigint);
  /** Exchanges `dst` and `src` (a reflector's first step). */
  swapMacs(): void;
  /** offset of this header from the packet's first byte (0) */
  offset(): number;
}

/** An 802.1Q / 802.1ad tag (`ctx.vlan()`: the outer one, `ctx.vlan(1)`: the inner one). */
export interface VlanHeader {
  /** VLAN id (12 bits) */
  readonly id: number;
  /** priority code point (3 bits) */
  readonly priority: number;
  /** the EtherType after this tag, host order */
  readonly protocol: number;
  offset(): number;
}

/** An ARP packet for IPv4 over Ethernet (`ctx.arp()`). */
export interface ArpHeader {
  /** 1 request, 2 reply */
  operation: number;
  get senderMac(): MacAddress;
  set senderMac(mac: MacAddress | ArrayLike<number> | bigint);
  /** sender IPv4 address as a number */
  senderIp: number;
  get targetMac(): MacAddress;
  set targetMac(mac: MacAddress | ArrayLike<number> | bigint);
  targetIp: number;
  offset(): number;
}

/**
 * IPv4 header. Fields are host-order numbers; in xdp and tc programs they are writable
 * (`ip.ttl--`, `ip.daddr = 0x0a000002`): a write stores only those bytes, so fix the checksum
 * with `ip.updateChecksum()` or `csumReplace()`.
 */
export interface Ipv4Header {
  readonly version: 4;
  /** header length in bytes */
  readonly headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  ttl: number;
  /** IP protocol number (1 ICMP, 6 TCP, 17 UDP) */
  protocol: number;
  /** header checksum, as the 16-bit number in the header */
  checksum: number;
  /** source address as a number: 10.0.0.1 is 0x0a000001 */
  saddr: number;
  daddr: number;
  /** Recomputes `checksum` over the header (options included). */
  updateChecksum(): void;
  /** offset of this header from the packet's first byte */
  offset(): number;
}

/** A 16-byte IPv6 address; assign it to an `array(u8, 16)` field or another address. */
export interface Ipv6Address extends Uint8Array {
  readonly __ipv6: true;
  /** the first / last 8 bytes as a big-endian number */
  readonly hi: bigint;
  readonly lo: bigint;
}

export interface Ipv6Header {
  readonly version: 6;
  payloadLength: number;
  /** next header (6 TCP, 17 UDP, 58 ICMPv6) of the fixed header */
  readonly protocol: number;
  hopLimit: number;
  get saddr(): Ipv6Address;
  set saddr(a: Ipv6Address | ArrayLike<number>);
  get daddr(): Ipv6Address;
  set daddr(a: Ipv6Address | ArrayLike<number>);
  offset(): number;
}

export type IpHeader = Ipv4Header | Ipv6Header;

/**
 * TCP header. `setSource`/`setDest`/`checksum` write the packet (xdp and tc programs); fix the
 * checksum with `csumReplace()` or, in tc, `ctx.l4CsumReplace()`.
 */
export interface TcpHeader {
  readonly protocol: "tcp";
  /** source port, host order */
  source(): number;
  dest(): number;
  setSource(port: number): void;
  setDest(port: number): void;
  readonly seq: number;
  readonly ackSeq: number;
  /** flag byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10) */
  readonly flags: number;
  readonly window: number;
  checksum: number;
  /** offset of this header from the packet's first byte */
  offset(): number;
}

export interface UdpHeader {
  readonly protocol: "udp";
  source(): number;
  dest(): number;
  setSource(port: number): void;
  setDest(port: number): void;
  readonly length: number;
  /** 0 when the sender computed none (IPv4) */
  checksum: number;
  offset(): number;
}

/** `ctx.icmp()`: ICMP (IPv4, protocol 1) or ICMPv6 (next header 58), the first 8 bytes. */
export interface IcmpHeader {
  readonly protocol: "icmp" | "icmpv6";
  /** ICMP: 8 echo request, 0 echo reply; ICMPv6: 128 request, 129 reply */
  type: number;
  code: number;
  checksum: number;
  /** echo identifier and sequence number (bytes 4-5, 6-7) */
  id: number;
  sequence: number;
  offset(): number;
}

export type TransportHeader = TcpHeader | UdpHeader;

/** The bytes after the transport header. */
export interface Payload {
  /**
   * `n` bytes, or null when the packet is shorter. A run-time `n` needs its largest value:
   * `read(n, 64)` (null also when n > 64); its `length` is then `n`.
   */
  read(n: number, max?: number): Bytes | null;
  /** offset of the payload from the packet's first byte */
  offset(): number;
  /** payload length in bytes (to the end of the packet) */
  len(): number;
}

/** Packet parsing shared by XDP, TC and cgroup skb contexts (direct packet access). */
export interface PacketContext {
  /** packet length in bytes */
  len(): number;
  eth(): EthernetHeader | null;
  ip(): IpHeader | null;
  /**
   * TCP or UDP (null for any other protocol: ICMP is `icmp()`). On IPv6 it must follow the
   * fixed header, unless `{ ipv6Extensions: true }`: then up to 4 extension headers
   * (hop-by-hop, routing, destination options, fragment, authentication) are skipped.
   */
  transport(options?: ParseOptions): TransportHeader | null;
  /** the bytes after the TCP or UDP header (same options as `transport()`) */
  data(options?: ParseOptions): Payload | null;
  /** ICMP (over IPv4, protocol 1) or ICMPv6 (over IPv6, next header 58) */
  icmp(): IcmpHeader | null;
  /** An 802.1Q / 802.1ad tag after the MAC addresses: 0 the outer (default), 1 the inner (QinQ). */
  vlan(index?: 0 | 1): VlanHeader | null;
  /** ARP for IPv4 over Ethernet (EtherType 0x0806, hardware type 1, protocol 0x0800). */
  arp(): ArpHeader | null;
}

/** How far `transport()` and `data()` look. */
export interface ParseOptions {
  /** walk up to 4 IPv6 extension headers before the upper-layer header */
  ipv6Extensions?: boolean;
}

/** Flags of `storeBytes` and the checksum helpers (`BPF_F_*`). */
export interface StoreOptions {
  /** BPF_F_RECOMPUTE_CSUM: update skb->csum for CHECKSUM_COMPLETE packets */
  recomputeChecksum?: boolean;
  /** BPF_F_INVALIDATE_HASH: clear skb->hash */
  invalidateHash?: boolean;
}
export interface L4CsumOptions {
  /** BPF_F_PSEUDO_HDR: the changed bytes are part of the pseudo-header (an IP address) */
  pseudoHeader?: boolean;
  /** BPF_F_MARK_MANGLED_0: a UDP checksum of 0 (none) stays 0, and a result of 0 becomes 0xffff */
  udp?: boolean;
}

export interface XdpContext extends PacketContext {
  readonly __ctx: "xdp";
  readonly ingressIfindex: number;
  readonly rxQueueIndex: number;
  /**
   * `bpf_xdp_adjust_head`: moves the packet start by `delta` bytes (negative grows the
   * packet in front). 0 or a negative errno. Every header view is invalid afterwards: parse
   * again (`ctx.eth()`).
   */
  adjustHead(delta: number): number;
  /** `bpf_xdp_adjust_tail`: grows (positive) or shrinks the packet end; views are invalid after. */
  adjustTail(delta: number): number;
}

/** Packet helpers of `__sk_buff` programs that may write (tc). */
export interface SkbWrite {
  /**
   * `bpf_skb_store_bytes`: writes `value` (host order, `size` 1, 2 or 4 bytes, stored in
   * network order) or the bytes of `from` (an array field, a header address) at `offset`.
   * 0 or a negative errno. Every header view is invalid afterwards: parse again.
   */
  storeBytes(
    offset: number,
    value: number | ArrayLike<number>,
    size?: 1 | 2 | 4,
    options?: StoreOptions,
  ): number;
  /**
   * `bpf_l3_csum_replace`: fixes the IP header checksum at `offset` for a field that changed
   * from `from` to `to` (host-order numbers of `size` 2 or 4 bytes). Views are invalid after.
   */
  l3CsumReplace(offset: number, from: number, to: number, size: 2 | 4): number;
  /** `bpf_l4_csum_replace`: the same for a TCP/UDP checksum at `offset`. */
  l4CsumReplace(
    offset: number,
    from: number,
    to: number,
    size: 2 | 4,
    options?: L4CsumOptions,
  ): number;
  /** `bpf_skb_adjust_room(len_diff, mode, flags)`: mode 0 (net) or 1 (mac). Views are invalid after. */
  adjustRoom(lenDiff: number, mode: 0 | 1, flags?: number | bigint): number;
  /** `bpf_skb_change_tail(len, 0)`: resizes the packet to `len` bytes. Views are invalid after. */
  changeTail(len: number): number;
  /** `bpf_skb_pull_data(len)`: makes `len` bytes directly accessible. Views are invalid after. */
  pullData(len: number): number;
}

/** `struct __sk_buff` fields shared by TC, socket filters and cgroup skb programs. */
export interface SkBuffFields {
  readonly len: number;
  readonly pktType: number;
  readonly mark: number;
  readonly queueMapping: number;
  /** EtherType, host order (0x0800 IPv4, 0x86dd IPv6) */
  readonly protocol: number;
  readonly vlanPresent: number;
  readonly priority: number;
  readonly ifindex: number;
  readonly hash: number;
}

export interface TcContext extends SkBuffFields, SkbWrite {
  readonly __ctx: "tc";
  packet(): PacketContext;
  /** writable in tc programs */
  mark: number;
  priority: number;
  /** `skb->tc_classid` (the class a classifier picks, major:minor as 0xMMMMmmmm) */
  tcClassid: number;
  /** `skb->tc_index` */
  tcIndex: number;
  queueMapping: number;
}

export interface SocketFilterContext extends SkBuffFields {
  readonly __ctx: "socket";
  /**
   * `bpf_skb_load_bytes`: `n` bytes at `offset` from skb->data as a big-endian number, or -1.
   * skb->data is the MAC header on packet sockets and the network header on IP sockets.
   */
  loadBytes(offset: number, n: 1 | 2 | 4): number;
}

export interface CgroupSkbContext extends SkBuffFields {
  readonly __ctx: "cgroup_skb";
  /** writable in cgroup skb programs */
  mark: number;
  priority: number;
  packet(): PacketContext;
}

/** Tracepoint context: `fields` reads the event record laid out by `layout`. */
export interface TracepointContext<F> {
  readonly __ctx: "tracepoint";
  readonly fields: F;
}

export interface RawTracepointContext {
  readonly __ctx: "raw_tracepoint";
  /** the i-th raw argument (constant index) */
  arg(index: number): bigint;
}

/** `struct pt_regs` (x86-64) for kprobes and uprobes. */
export interface Registers {
  readonly __ctx: "regs";
  parm1(): bigint;
  parm2(): bigint;
  parm3(): bigint;
  parm4(): bigint;
  parm5(): bigint;
  /** return value (kretprobe / uretprobe) */
  ret(): bigint;
  ip(): bigint;
  sp(): bigint;
}

export type AnyContext =
  | XdpContext
  | TcContext
  | SocketFilterContext
  | CgroupSkbContext
  | TracepointContext<unknown>
  | RawTracepointContext
  | Registers;
