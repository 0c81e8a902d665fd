// Packet views and program contexts (XdpContext, TcContext, tracepoint records, Registers…).
// Packet reads and bounds checks are lowered by src/compiler/lower/packet.ts; context fields by
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

export interface EthernetHeader {
  /** EtherType, host order (0x0800 IPv4, 0x86dd IPv6). */
  readonly protocol: number;
}

export interface Ipv4Header {
  readonly version: 4;
  /** header length in bytes */
  readonly headerLength: number;
  readonly tos: number;
  readonly totalLength: number;
  readonly ttl: number;
  /** IP protocol number (6 TCP, 17 UDP) */
  readonly protocol: number;
  /** source address as a number: 10.0.0.1 is 0x0a000001 */
  readonly saddr: number;
  readonly daddr: number;
}

/** A 16-byte IPv6 address; assign it to an `array(u8, 16)` field. */
export interface Ipv6Address extends Uint8Array {
  readonly __ipv6: true;
  /** the first / last 8 bytes as a big-endian number */
  readonly hi: bigint;
  readonly lo: bigint;
}

export interface Ipv6Header {
  readonly version: 6;
  readonly payloadLength: number;
  /** next header (6 TCP, 17 UDP); extension headers are not followed */
  readonly protocol: number;
  readonly hopLimit: number;
  readonly saddr: Ipv6Address;
  readonly daddr: Ipv6Address;
}

export type IpHeader = Ipv4Header | Ipv6Header;

export interface TcpHeader {
  readonly protocol: "tcp";
  /** source port, host order */
  source(): number;
  dest(): number;
  readonly seq: number;
  readonly ackSeq: number;
  /** flag byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10) */
  readonly flags: number;
  readonly window: number;
}

export interface UdpHeader {
  readonly protocol: "udp";
  source(): number;
  dest(): number;
  readonly length: number;
}

export type TransportHeader = TcpHeader | UdpHeader;

/** The bytes after the transport header. */
export interface Payload {
  /** `n` (constant) bytes, or null when the packet is shorter. */
  read(n: number): Bytes | null;
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
  transport(): TransportHeader | null;
  data(): Payload | null;
}

export interface XdpContext extends PacketContext {
  readonly __ctx: "xdp";
  readonly ingressIfindex: number;
  readonly rxQueueIndex: number;
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

export interface TcContext extends SkBuffFields {
  readonly __ctx: "tc";
  packet(): PacketContext;
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
