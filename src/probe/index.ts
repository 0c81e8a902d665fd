// `tsbpf/probe`: what probe authors import. These are typed declarations; the tsbpf compiler
// recognises each one by its symbol and gives it eBPF meaning. Executed in Node they throw,
// because probe code only makes sense inside the kernel.
//
// Keep this module free of runtime dependencies and of lib features beyond the compiler's
// minimal lib (src/compiler/frontend/lib.ts): the compiler type-checks probes against it with noLib.
import type { Infer, Type } from "../types/type.js";

/** Parameters exist for their types; the bodies never use them. */
function unused(...args: unknown[]): void {
  void args;
}

/** Thrown by every declaration here when run in Node. */
function kernelOnly(): never {
  throw new Error("probe code runs in the kernel; build it with tsbpf build");
}

// ---------------------------------------------------------------------------------------------
// Object-level declarations

export interface ProgramOptions {
  /** License string; GPL-only helpers (perf output, probe reads…) need a GPL-compatible one. */
  license: string;
  /** Kernel version word (`version` section); 0xfffffffe means "any" as in RedBPF. */
  version?: number;
}

/** Declares the object's license and version. Call once at the top level of the probe. */
export function program(options: ProgramOptions): void {
  void options;
  kernelOnly();
}

/** Map options shared by every map kind. */
export interface MapOptions {
  /** `max_entries` of the map. */
  maxEntries: number;
  /** `map_flags` (BPF_F_*), default 0. */
  flags?: number;
}

/** Names a map: `const counts = map("counts", new HashMap(u32, u64, { maxEntries: 64 }))`. */
export function map<M extends AnyMap>(name: string, definition: M): M {
  void name;
  return definition;
}

/** A key/value map. `get` returns a live reference into the map value (or null). */
interface KeyValueMap<K extends Type, V extends Type> {
  /** Looks up `key`; the result is a reference: assigning its fields updates the map. */
  get(key: Infer<K>): Infer<V> | null;
  /** Inserts or replaces; returns 0 or a negative errno. */
  set(key: Infer<K>, value: Infer<V>, flags?: number): number;
  /** Deletes; returns 0 or a negative errno (-ENOENT when absent). */
  delete(key: Infer<K>): number;
}

export class HashMap<K extends Type, V extends Type> implements KeyValueMap<K, V> {
  declare private readonly __kind: "hash";
  constructor(key: K, value: V, options: MapOptions) {
    unused(key, value, options);
    kernelOnly();
  }
  get(key: Infer<K>): Infer<V> | null {
    void key;
    return kernelOnly();
  }
  set(key: Infer<K>, value: Infer<V>, flags?: number): number {
    unused(key, value, flags);
    return kernelOnly();
  }
  delete(key: Infer<K>): number {
    void key;
    return kernelOnly();
  }
}

export class PerCpuHashMap<K extends Type, V extends Type> extends HashMap<K, V> {
  declare private readonly __percpu: "percpu_hash";
}

export class LruHashMap<K extends Type, V extends Type> extends HashMap<K, V> {
  declare private readonly __lru: "lru_hash";
}

export class LruPerCpuHashMap<K extends Type, V extends Type> extends HashMap<K, V> {
  declare private readonly __lrupercpu: "lru_percpu_hash";
}

/** Keys are `u32` indexes below `maxEntries`; every entry exists (zeroed). */
export class ArrayMap<V extends Type> {
  declare private readonly __kind: "array";
  constructor(value: V, options: MapOptions) {
    unused(value, options);
    kernelOnly();
  }
  get(index: number): Infer<V> | null {
    void index;
    return kernelOnly();
  }
  set(index: number, value: Infer<V>, flags?: number): number {
    unused(index, value, flags);
    return kernelOnly();
  }
}

export class PerCpuArrayMap<V extends Type> extends ArrayMap<V> {
  declare private readonly __percpu: "percpu_array";
}

/** Longest-prefix-match trie; the key type must start with a u32 prefix length. */
export class LpmTrieMap<K extends Type, V extends Type> extends HashMap<K, V> {
  declare private readonly __lpm: "lpm_trie";
}

/** Anything that can be sent through a perf or ring buffer. */
export type Event<V extends Type> = Infer<V> | MapData<Infer<V>>;

/** Perf event array: one ring per CPU, read with `Loader` events in user space. */
export class PerfMap<V extends Type> {
  declare private readonly __kind: "perf";
  constructor(value: V, options?: Partial<MapOptions>) {
    unused(value, options);
    kernelOnly();
  }
  /** `bpf_perf_event_output` on the current CPU; with MapData, packet bytes follow. */
  insert(ctx: AnyContext, event: Event<V>): number {
    unused(ctx, event);
    return kernelOnly();
  }
}

/** BPF ring buffer; `maxEntries` is its size in bytes (a power of two, ≥ page size). */
export class RingBuf<V extends Type> {
  declare private readonly __kind: "ringbuf";
  constructor(value: V, options: MapOptions) {
    unused(value, options);
    kernelOnly();
  }
  /**
   * `bpf_ringbuf_output`: copies the value; returns 0 or a negative errno. With
   * `MapData.withPayload(value, offset, size)` (packet programs) the record is the MapData
   * header followed by a fixed 512-byte capture area holding min(size, 512) packet bytes from
   * the packet start; the record's `size` says how many.
   */
  output(value: Infer<V> | MapData<Infer<V>>, flags?: number): number {
    unused(value, flags);
    return kernelOnly();
  }
  /**
   * `bpf_ringbuf_reserve`: space for one event, written in place, or null when the ring is
   * full. Every path must then `submit` or `discard` it (the verifier checks).
   */
  reserve(): Infer<V> | null {
    return kernelOnly();
  }
  submit(event: Infer<V>, flags?: number): void {
    unused(event, flags);
    kernelOnly();
  }
  discard(event: Infer<V>, flags?: number): void {
    unused(event, flags);
    kernelOnly();
  }
}

/** Program array for tail calls. */
export class ProgArray {
  declare private readonly __kind: "prog_array";
  constructor(options: MapOptions) {
    void options;
    kernelOnly();
  }
  /** Jumps to the program at `index`; returns only when the slot is empty. */
  tailCall(ctx: AnyContext, index: number): void {
    unused(ctx, index);
    kernelOnly();
  }
}

/** Stack trace map for `getStackId`. */
export class StackTraceMap {
  declare private readonly __kind: "stack_trace";
  constructor(options: MapOptions) {
    void options;
    kernelOnly();
  }
  /** `bpf_get_stackid`: an id into this map, or a negative errno. */
  getStackId(ctx: AnyContext, flags?: number): number {
    unused(ctx, flags);
    return kernelOnly();
  }
}

export type AnyMap =
  HashMap<Type, Type> | ArrayMap<Type> | PerfMap<Type> | RingBuf<Type> | ProgArray | StackTraceMap;

/** A global variable of the object; read and assign `.value` (or `atomicAdd(g, "value", n)`). */
export interface Global<T> {
  value: T;
}

/**
 * A global variable: `.bss` (zeroed), or `.data` when `initial` is given. User space reads and
 * writes it through the loader's globals (libbpf: `<obj>.bss` / `<obj>.data` maps).
 */
export function global<L extends Type>(
  name: string,
  type: L,
  initial?: Infer<L>,
): Global<Infer<L>> {
  unused(name, type, initial);
  return kernelOnly();
}

/**
 * A load-time constant (`const volatile` in `.rodata`): user space may set it before loading
 * (Collection `globals` option); the verifier then knows its value and prunes dead branches.
 */
export function config<L extends Type>(
  name: string,
  type: L,
  value: Infer<L>,
): { readonly value: Infer<L> } {
  unused(name, type, value);
  return kernelOnly();
}

/** A value followed by packet bytes in a perf event (RedBPF's MapData). */
export class MapData<T> {
  declare private readonly __kind: "mapdata";
  declare readonly data: T;
  /**
   * `value`, then `offset` (u32: where the payload starts within the appended bytes) and
   * `size` (u32: how many bytes of the packet, counted from its first byte, are appended).
   */
  static withPayload<T>(value: T, offset: number, size: number): MapData<T> {
    unused(value, offset, size);
    return kernelOnly();
  }
}

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Return codes

export const XdpAction = { Aborted: 0, Drop: 1, Pass: 2, Tx: 3, Redirect: 4 } as const;
export type XdpAction = (typeof XdpAction)[keyof typeof XdpAction];

export const TcAction = {
  Unspec: -1,
  Ok: 0,
  Reclassify: 1,
  Shot: 2,
  Pipe: 3,
  Stolen: 4,
  Redirect: 7,
} as const;
export type TcAction = (typeof TcAction)[keyof typeof TcAction];

export const SkAction = { Drop: 0, Pass: 1 } as const;
export type SkAction = (typeof SkAction)[keyof typeof SkAction];

// ---------------------------------------------------------------------------------------------
// Programs. Export the result: `export const name = xdp(...)`; `name` becomes the program.

/** A compiled program; its kind decides the ELF section (libbpf SEC() names). */
export interface ProgramDecl<Kind extends string> {
  readonly __program: Kind;
}

function declare<K extends string>(): ProgramDecl<K> {
  return kernelOnly();
}

export function xdp(fn: (ctx: XdpContext) => XdpAction): ProgramDecl<"xdp"> {
  void fn;
  return declare();
}

export function tc(fn: (ctx: TcContext) => TcAction): ProgramDecl<"tc"> {
  void fn;
  return declare();
}

/** Returns how many bytes of the packet to keep (0 drops it). */
export function socketFilter(fn: (ctx: SocketFilterContext) => number): ProgramDecl<"socket"> {
  void fn;
  return declare();
}

export function cgroupSkb(
  direction: "ingress" | "egress",
  fn: (ctx: CgroupSkbContext) => SkAction,
): ProgramDecl<"cgroup_skb"> {
  unused(direction, fn);
  return declare();
}

/** `tracepoint/<category>/<name>`; `layout` describes the record after the 8-byte header. */
export function tracepoint<L extends Type>(
  category: string,
  name: string,
  layout: L,
  fn: (ctx: TracepointContext<Infer<L>>) => number,
): ProgramDecl<"tracepoint"> {
  unused(category, name, layout, fn);
  return declare();
}

export function rawTracepoint(
  name: string,
  fn: (ctx: RawTracepointContext) => number,
): ProgramDecl<"raw_tracepoint"> {
  unused(name, fn);
  return declare();
}

export function tpBtf(
  name: string,
  fn: (ctx: RawTracepointContext) => number,
): ProgramDecl<"tp_btf"> {
  unused(name, fn);
  return declare();
}

export function kprobe(fn: (regs: Registers) => number, target: string): ProgramDecl<"kprobe"> {
  unused(fn, target);
  return declare();
}

export function kretprobe(
  fn: (regs: Registers) => number,
  target: string,
): ProgramDecl<"kretprobe"> {
  unused(fn, target);
  return declare();
}

/** `uprobe` section; the loader attaches it to a binary and offset. */
export function uprobe(fn: (regs: Registers) => number): ProgramDecl<"uprobe"> {
  void fn;
  return declare();
}

export function uretprobe(fn: (regs: Registers) => number): ProgramDecl<"uretprobe"> {
  void fn;
  return declare();
}

// ---------------------------------------------------------------------------------------------
// Helpers (each is one BPF helper call)

/** `bpf_get_current_pid_tgid`: tgid << 32 | pid */
export function pidTgid(): bigint {
  return kernelOnly();
}
/** `bpf_get_current_uid_gid`: gid << 32 | uid */
export function uidGid(): bigint {
  return kernelOnly();
}
export function ktimeGetNs(): bigint {
  return kernelOnly();
}
export function ktimeGetBootNs(): bigint {
  return kernelOnly();
}
export function prandom(): number {
  return kernelOnly();
}
export function smpProcessorId(): number {
  return kernelOnly();
}
/** `bpf_get_current_cgroup_id` */
export function cgroupId(): bigint {
  return kernelOnly();
}
/** `bpf_get_current_comm` into a `array(u8, 16)` field of a struct held on the stack */
export function comm(into: ArrayLike<number>): number {
  void into;
  return kernelOnly();
}
/** `bpf_probe_read_user` / `_kernel` / `_user_str` / `_kernel_str` into an array field */
export function probeReadUser(into: ArrayLike<number>, src: bigint): number {
  unused(into, src);
  return kernelOnly();
}
export function probeReadKernel(into: ArrayLike<number>, src: bigint): number {
  unused(into, src);
  return kernelOnly();
}
export function probeReadUserStr(into: ArrayLike<number>, src: bigint): number {
  unused(into, src);
  return kernelOnly();
}
export function probeReadKernelStr(into: ArrayLike<number>, src: bigint): number {
  unused(into, src);
  return kernelOnly();
}
/** `bpf_trace_printk`: a literal format and up to three integer arguments */
export function tracePrintk(format: string, ...args: (number | bigint)[]): number {
  unused(format, args);
  return kernelOnly();
}
/**
 * `bpf_redirect(ifindex, flags)`: the program's verdict, `XdpAction.Redirect` /
 * `TcAction.Redirect` (or `Aborted` / `Shot` for bad flags). Its type is the action type the
 * result is used as, so `return redirect(ifindex)` needs no cast in an xdp or a tc program;
 * the compiler rejects the other program's action type.
 */
export function redirect<A extends XdpAction | TcAction = XdpAction | TcAction>(
  ifindex: number,
  flags?: number,
): A {
  unused(ifindex, flags);
  return kernelOnly();
}
/**
 * Any helper by id (at most five arguments): integers, or pointers — a struct local, a map
 * value or one of its fields (an array field is its first byte), a packet header view
 * (pointing at the header) or `ctx`. A helper that changes packet data (`skb_store_bytes`,
 * `xdp_adjust_head`, …) invalidates every header view, as the named methods do.
 */
export function helper(id: number, ...args: (number | bigint | boolean | object)[]): bigint {
  unused(id, args);
  return kernelOnly();
}

/**
 * Incremental Internet checksum update (RFC 1624): the checksum `check` of data in which the
 * 16-bit (`size` 2) or 32-bit (`size` 4) field `from` became `to`, all host-order numbers.
 * Plain arithmetic, no helper: works in every program kind.
 * `ip.checksum = csumReplace(ip.checksum, oldTtlProto, newTtlProto)`.
 */
export function csumReplace(check: number, from: number, to: number, size?: 2 | 4): number {
  unused(check, from, to, size);
  return kernelOnly();
}

/**
 * `bpf_csum_diff(from, from.length, to, to.length, seed)`: the 32-bit one's-complement sum of
 * `to` minus that of `from` plus `seed` (xdp and tc). `from`/`to` are array fields, struct
 * locals or header views (`null` for none); fold it with `csumFold`.
 */
export function csumDiff(from: object | null, to: object | null, seed?: number): number {
  unused(from, to, seed);
  return kernelOnly();
}

/** Folds a 32-bit one's-complement sum to the 16-bit checksum (`~sum` folded, host order). */
export function csumFold(sum: number): number {
  void sum;
  return kernelOnly();
}

/** Atomically adds `by` to a numeric field of a map value (`lock xadd`). */
export function atomicAdd<T, K extends keyof T>(target: T, field: K, by: number | bigint): void {
  unused(target, field, by);
  kernelOnly();
}

/** Converts a 64-bit value to number / bigint in probe code (no runtime cost). */
export function toNumber(value: number | bigint): number {
  void value;
  return kernelOnly();
}
export function toBigInt(value: number | bigint): bigint {
  void value;
  return kernelOnly();
}
