// Program kinds: the one table of what each kind of eBPF program is. Read by the section parser
// (obj/section.ts), the compiler (module/scan.ts: which tsbpf/probe function declares which kind;
// lower/: context field offsets, packet pointers, pt_regs) and the attach dispatch (link/index.ts).
// Pure data: no syscalls, no imports outside obj/.
//
// Where the values come from:
// - section names: libbpf's SEC() names (tools/lib/bpf/libbpf.c `section_defs[]`) and RedBPF's
//   `<kind>/<program name>` sections (redbpf `Program::new`);
// - program and expected attach types: include/uapi/linux/bpf.h `enum bpf_prog_type`,
//   `enum bpf_attach_type` (obj/consts.ts), as libbpf's section_defs pair them;
// - context structs: include/uapi/linux/bpf.h (`xdp_md`, `__sk_buff`, `bpf_sock`…), offsets and
//   sizes as `/sys/kernel/btf/vmlinux` of Linux 6.18 x86-64 lays them out;
//   test/kernel/obj/program-kinds.test.ts checks every one against the running kernel's BTF;
// - `pt_regs`: arch/x86/include/asm/ptrace.h (x86-64), arch/arm64/include/uapi/asm/ptrace.h
//   `user_pt_regs` (arm64, what a kprobe sees as `bpf_user_pt_regs_t`); which register holds
//   which argument: the psABI calling conventions (tools/lib/bpf/bpf_tracing.h PT_REGS_PARM*);
// - `trace_entry`: include/linux/trace_events.h, the common header of every tracepoint record;
// - readability/writability: the verifier's `*_is_valid_access` callbacks (net/core/filter.c,
//   kernel/trace/bpf_trace.c), recorded only for the kinds a struct's `accessFor` lists.
import { bug } from "../bug.js";
import { AttachType, ProgFlags, ProgType } from "./consts.js";

// ---------------------------------------------------------------------------------- contexts

/**
 * One member of a context struct (arrays as one field; `elem` is the element size). `K` is
 * `ProgramKind`; the tables below are declared with `string` (a kind list derived from KINDS
 * cannot be named inside the tables KINDS refers to) and checked against it after KINDS.
 */
export interface ContextField<K extends string = ProgramKind> {
  /** the C member name (members of anonymous unions by their own name) */
  readonly name: string;
  /** byte offset in the struct */
  readonly offset: number;
  /** bytes (the whole array for arrays) */
  readonly size: number;
  /** element size of an array member */
  readonly elem?: number;
  /** the property probes read it by (`ctx.ingressIfindex`): tsbpf/probe context types */
  readonly probe?: string;
  /** kinds (of the struct's `accessFor`) whose verifier refuses reading it */
  readonly noRead?: readonly K[];
  /** kinds (of the struct's `accessFor`) whose verifier lets a program write it */
  readonly write?: readonly K[];
  /** a condition the kernel adds (attach type, capability) */
  readonly note?: string;
  /** first kernel release with the member, when later than 6.1 */
  readonly since?: string;
}

export interface ContextStruct<K extends string = ProgramKind> {
  /** the C struct name (`xdp_md`, `__sk_buff`) */
  readonly name: string;
  /** sizeof(), as of Linux 6.18; 0 for a flexible array (bpf_raw_tracepoint_args) */
  readonly size: number;
  readonly fields: readonly ContextField<K>[];
  /** the kinds whose read/write rules `noRead`/`write` record; for other kinds: not recorded */
  readonly accessFor: readonly K[];
  /** first kernel release with the struct, when later than 6.1 */
  readonly since?: string;
}

const SKB_KINDS = ["socket_filter", "tc", "tcx", "netkit", "sched_act", "cgroup_skb"] as const;
const TC = ["tc", "tcx", "netkit", "sched_act"] as const;
const SOCK_FILTER = ["socket_filter"] as const;
const CG_SKB = ["cgroup_skb"] as const;
const TCP_FIELDS =
  "family, remote/local ip and port: socket filters and tc programs cannot read them";

// prettier-ignore
export const CONTEXTS = {
  xdp_md: { name: "xdp_md", size: 24, accessFor: ["xdp"], fields: [
    { name: "data", offset: 0, size: 4 },
    { name: "data_end", offset: 4, size: 4 },
    { name: "data_meta", offset: 8, size: 4 },
    { name: "ingress_ifindex", offset: 12, size: 4, probe: "ingressIfindex" },
    { name: "rx_queue_index", offset: 16, size: 4, probe: "rxQueueIndex" },
    { name: "egress_ifindex", offset: 20, size: 4, noRead: ["xdp"], note: "readable with expected attach type XDP_DEVMAP" },
  ] },
  __sk_buff: { name: "__sk_buff", size: 192, accessFor: SKB_KINDS, fields: [
    { name: "len", offset: 0, size: 4, probe: "len" },
    { name: "pkt_type", offset: 4, size: 4, probe: "pktType" },
    { name: "mark", offset: 8, size: 4, probe: "mark", write: [...TC, ...CG_SKB] },
    { name: "queue_mapping", offset: 12, size: 4, probe: "queueMapping", write: TC },
    { name: "protocol", offset: 16, size: 4, probe: "protocol", note: "EtherType in network order; tsbpf reads its low 16 bits" },
    { name: "vlan_present", offset: 20, size: 4, probe: "vlanPresent" },
    { name: "vlan_tci", offset: 24, size: 4 },
    { name: "vlan_proto", offset: 28, size: 4 },
    { name: "priority", offset: 32, size: 4, probe: "priority", write: [...TC, ...CG_SKB] },
    { name: "ingress_ifindex", offset: 36, size: 4, probe: "ingressIfindex" },
    { name: "ifindex", offset: 40, size: 4, probe: "ifindex" },
    { name: "tc_index", offset: 44, size: 4, write: TC },
    { name: "cb", offset: 48, size: 20, elem: 4, write: SKB_KINDS },
    { name: "hash", offset: 68, size: 4, probe: "hash" },
    { name: "tc_classid", offset: 72, size: 4, noRead: [...SOCK_FILTER, ...CG_SKB], write: TC },
    { name: "data", offset: 76, size: 4, noRead: SOCK_FILTER, note: "cgroup_skb: with CAP_BPF or CAP_PERFMON" },
    { name: "data_end", offset: 80, size: 4, noRead: SOCK_FILTER, note: "cgroup_skb: with CAP_BPF or CAP_PERFMON" },
    { name: "napi_id", offset: 84, size: 4 },
    { name: "family", offset: 88, size: 4, noRead: [...SOCK_FILTER, ...TC], note: TCP_FIELDS },
    { name: "remote_ip4", offset: 92, size: 4, noRead: [...SOCK_FILTER, ...TC] },
    { name: "local_ip4", offset: 96, size: 4, noRead: [...SOCK_FILTER, ...TC] },
    { name: "remote_ip6", offset: 100, size: 16, elem: 4, noRead: [...SOCK_FILTER, ...TC] },
    { name: "local_ip6", offset: 116, size: 16, elem: 4, noRead: [...SOCK_FILTER, ...TC] },
    { name: "remote_port", offset: 132, size: 4, noRead: [...SOCK_FILTER, ...TC] },
    { name: "local_port", offset: 136, size: 4, noRead: [...SOCK_FILTER, ...TC] },
    { name: "data_meta", offset: 140, size: 4, noRead: [...SOCK_FILTER, ...CG_SKB] },
    { name: "flow_keys", offset: 144, size: 8, noRead: SKB_KINDS, note: "flow_dissector programs only" },
    { name: "tstamp", offset: 152, size: 8, noRead: SOCK_FILTER, write: [...TC, ...CG_SKB] },
    { name: "wire_len", offset: 160, size: 4, noRead: [...SOCK_FILTER, ...CG_SKB] },
    { name: "gso_segs", offset: 164, size: 4 },
    { name: "sk", offset: 168, size: 8 },
    { name: "gso_size", offset: 176, size: 4 },
    { name: "tstamp_type", offset: 180, size: 1, noRead: [...SOCK_FILTER, ...CG_SKB] },
    { name: "hwtstamp", offset: 184, size: 8, noRead: SOCK_FILTER },
  ] },
  bpf_sock: { name: "bpf_sock", size: 80, accessFor: ["cgroup_sock"], fields: [
    { name: "bound_dev_if", offset: 0, size: 4, write: ["cgroup_sock"] },
    { name: "family", offset: 4, size: 4 },
    { name: "type", offset: 8, size: 4 },
    { name: "protocol", offset: 12, size: 4 },
    { name: "mark", offset: 16, size: 4, write: ["cgroup_sock"] },
    { name: "priority", offset: 20, size: 4, write: ["cgroup_sock"] },
    { name: "src_ip4", offset: 24, size: 4, noRead: ["cgroup_sock"], note: "readable with expected attach type CGROUP_INET4_POST_BIND" },
    { name: "src_ip6", offset: 28, size: 16, elem: 4, noRead: ["cgroup_sock"], note: "readable with expected attach type CGROUP_INET6_POST_BIND" },
    { name: "src_port", offset: 44, size: 4, noRead: ["cgroup_sock"], note: "readable with expected attach types CGROUP_INET4/6_POST_BIND" },
    { name: "dst_port", offset: 48, size: 2 },
    { name: "dst_ip4", offset: 52, size: 4 },
    { name: "dst_ip6", offset: 56, size: 16, elem: 4 },
    { name: "state", offset: 72, size: 4 },
    { name: "rx_queue_mapping", offset: 76, size: 4 },
  ] },
  bpf_sock_addr: { name: "bpf_sock_addr", size: 72, accessFor: [], fields: [
    { name: "user_family", offset: 0, size: 4 },
    { name: "user_ip4", offset: 4, size: 4 },
    { name: "user_ip6", offset: 8, size: 16, elem: 4 },
    { name: "user_port", offset: 24, size: 4 },
    { name: "family", offset: 28, size: 4 },
    { name: "type", offset: 32, size: 4 },
    { name: "protocol", offset: 36, size: 4 },
    { name: "msg_src_ip4", offset: 40, size: 4 },
    { name: "msg_src_ip6", offset: 44, size: 16, elem: 4 },
    { name: "sk", offset: 64, size: 8 },
  ] },
  bpf_sock_ops: { name: "bpf_sock_ops", size: 224, accessFor: [], fields: [
    { name: "op", offset: 0, size: 4 },
    { name: "args", offset: 4, size: 16, elem: 4 },
    { name: "reply", offset: 4, size: 4 },
    { name: "replylong", offset: 4, size: 16, elem: 4 },
    { name: "family", offset: 20, size: 4 },
    { name: "remote_ip4", offset: 24, size: 4 },
    { name: "local_ip4", offset: 28, size: 4 },
    { name: "remote_ip6", offset: 32, size: 16, elem: 4 },
    { name: "local_ip6", offset: 48, size: 16, elem: 4 },
    { name: "remote_port", offset: 64, size: 4 },
    { name: "local_port", offset: 68, size: 4 },
    { name: "is_fullsock", offset: 72, size: 4 },
    { name: "snd_cwnd", offset: 76, size: 4 },
    { name: "srtt_us", offset: 80, size: 4 },
    { name: "bpf_sock_ops_cb_flags", offset: 84, size: 4 },
    { name: "state", offset: 88, size: 4 },
    { name: "rtt_min", offset: 92, size: 4 },
    { name: "snd_ssthresh", offset: 96, size: 4 },
    { name: "rcv_nxt", offset: 100, size: 4 },
    { name: "snd_nxt", offset: 104, size: 4 },
    { name: "snd_una", offset: 108, size: 4 },
    { name: "mss_cache", offset: 112, size: 4 },
    { name: "ecn_flags", offset: 116, size: 4 },
    { name: "rate_delivered", offset: 120, size: 4 },
    { name: "rate_interval_us", offset: 124, size: 4 },
    { name: "packets_out", offset: 128, size: 4 },
    { name: "retrans_out", offset: 132, size: 4 },
    { name: "total_retrans", offset: 136, size: 4 },
    { name: "segs_in", offset: 140, size: 4 },
    { name: "data_segs_in", offset: 144, size: 4 },
    { name: "segs_out", offset: 148, size: 4 },
    { name: "data_segs_out", offset: 152, size: 4 },
    { name: "lost_out", offset: 156, size: 4 },
    { name: "sacked_out", offset: 160, size: 4 },
    { name: "sk_txhash", offset: 164, size: 4 },
    { name: "bytes_received", offset: 168, size: 8 },
    { name: "bytes_acked", offset: 176, size: 8 },
    { name: "sk", offset: 184, size: 8 },
    { name: "skb_data", offset: 192, size: 8 },
    { name: "skb_data_end", offset: 200, size: 8 },
    { name: "skb_len", offset: 208, size: 4 },
    { name: "skb_tcp_flags", offset: 212, size: 4 },
    { name: "skb_hwtstamp", offset: 216, size: 8, since: "6.2" },
  ] },
  sk_msg_md: { name: "sk_msg_md", size: 80, accessFor: [], fields: [
    { name: "data", offset: 0, size: 8 },
    { name: "data_end", offset: 8, size: 8 },
    { name: "family", offset: 16, size: 4 },
    { name: "remote_ip4", offset: 20, size: 4 },
    { name: "local_ip4", offset: 24, size: 4 },
    { name: "remote_ip6", offset: 28, size: 16, elem: 4 },
    { name: "local_ip6", offset: 44, size: 16, elem: 4 },
    { name: "remote_port", offset: 60, size: 4 },
    { name: "local_port", offset: 64, size: 4 },
    { name: "size", offset: 68, size: 4 },
    { name: "sk", offset: 72, size: 8 },
  ] },
  sk_reuseport_md: { name: "sk_reuseport_md", size: 56, accessFor: [], fields: [
    { name: "data", offset: 0, size: 8 },
    { name: "data_end", offset: 8, size: 8 },
    { name: "len", offset: 16, size: 4 },
    { name: "eth_protocol", offset: 20, size: 4 },
    { name: "ip_protocol", offset: 24, size: 4 },
    { name: "bind_inany", offset: 28, size: 4 },
    { name: "hash", offset: 32, size: 4 },
    { name: "sk", offset: 40, size: 8 },
    { name: "migrating_sk", offset: 48, size: 8 },
  ] },
  bpf_sk_lookup: { name: "bpf_sk_lookup", size: 72, accessFor: [], fields: [
    { name: "sk", offset: 0, size: 8 },
    { name: "cookie", offset: 0, size: 8 },
    { name: "family", offset: 8, size: 4 },
    { name: "protocol", offset: 12, size: 4 },
    { name: "remote_ip4", offset: 16, size: 4 },
    { name: "remote_ip6", offset: 20, size: 16, elem: 4 },
    { name: "remote_port", offset: 36, size: 2 },
    { name: "local_ip4", offset: 40, size: 4 },
    { name: "local_ip6", offset: 44, size: 16, elem: 4 },
    { name: "local_port", offset: 60, size: 4 },
    { name: "ingress_ifindex", offset: 64, size: 4 },
  ] },
  bpf_sysctl: { name: "bpf_sysctl", size: 8, accessFor: [], fields: [
    { name: "write", offset: 0, size: 4 },
    { name: "file_pos", offset: 4, size: 4 },
  ] },
  bpf_sockopt: { name: "bpf_sockopt", size: 40, accessFor: [], fields: [
    { name: "sk", offset: 0, size: 8 },
    { name: "optval", offset: 8, size: 8 },
    { name: "optval_end", offset: 16, size: 8 },
    { name: "level", offset: 24, size: 4 },
    { name: "optname", offset: 28, size: 4 },
    { name: "optlen", offset: 32, size: 4 },
    { name: "retval", offset: 36, size: 4 },
  ] },
  bpf_cgroup_dev_ctx: { name: "bpf_cgroup_dev_ctx", size: 12, accessFor: [], fields: [
    { name: "access_type", offset: 0, size: 4 },
    { name: "major", offset: 4, size: 4 },
    { name: "minor", offset: 8, size: 4 },
  ] },
  /** not UAPI: include/net/netfilter/nf_bpf_link.h (CONFIG_NETFILTER_BPF_LINK) */
  bpf_nf_ctx: { name: "bpf_nf_ctx", size: 16, accessFor: [], since: "6.4", fields: [
    { name: "state", offset: 0, size: 8 },
    { name: "skb", offset: 8, size: 8 },
  ] },
  /**
   * the common header of a tracepoint record; the event's own fields follow it. Programs cannot
   * read the header (kernel/trace/bpf_trace.c tp_prog_is_valid_access: offsets below 8).
   */
  trace_entry: { name: "trace_entry", size: 8, accessFor: ["tracepoint"], fields: [
    { name: "type", offset: 0, size: 2, noRead: ["tracepoint"] },
    { name: "flags", offset: 2, size: 1, noRead: ["tracepoint"] },
    { name: "preempt_count", offset: 3, size: 1, noRead: ["tracepoint"] },
    { name: "pid", offset: 4, size: 4, noRead: ["tracepoint"] },
  ] },
  /** raw tracepoint arguments; tp_btf programs see the same u64 array */
  bpf_raw_tracepoint_args: { name: "bpf_raw_tracepoint_args", size: 0, accessFor: ["raw_tracepoint", "tp_btf", "fentry", "fexit", "iter"], fields: [
    { name: "args", offset: 0, size: 0, elem: 8, note: "probes read args[i] with ctx.arg(i)" },
  ] },
} as const satisfies Record<string, ContextStruct<string>>;

export type ContextName = keyof typeof CONTEXTS | "pt_regs";

/** Architectures whose `pt_regs` the table holds (Node's `process.arch` names). */
export type Arch = "x64" | "arm64";

const KPROBE_KINDS = [
  "kprobe",
  "kretprobe",
  "ksyscall",
  "kretsyscall",
  "uprobe",
  "uretprobe",
  "usdt",
] as const;

/** `struct pt_regs` as a kprobe/uprobe program sees it (`bpf_user_pt_regs_t`), per architecture. */
// prettier-ignore
export const PT_REGS = {
  x64: { name: "pt_regs", size: 168, accessFor: KPROBE_KINDS, fields: [
    { name: "r15", offset: 0, size: 8 },
    { name: "r14", offset: 8, size: 8 },
    { name: "r13", offset: 16, size: 8 },
    { name: "r12", offset: 24, size: 8 },
    { name: "bp", offset: 32, size: 8 },
    { name: "bx", offset: 40, size: 8 },
    { name: "r11", offset: 48, size: 8 },
    { name: "r10", offset: 56, size: 8 },
    { name: "r9", offset: 64, size: 8 },
    { name: "r8", offset: 72, size: 8 },
    { name: "ax", offset: 80, size: 8 },
    { name: "cx", offset: 88, size: 8 },
    { name: "dx", offset: 96, size: 8 },
    { name: "si", offset: 104, size: 8 },
    { name: "di", offset: 112, size: 8 },
    { name: "orig_ax", offset: 120, size: 8 },
    { name: "ip", offset: 128, size: 8 },
    { name: "flags", offset: 144, size: 8 },
    { name: "sp", offset: 152, size: 8 },
  ] },
  arm64: { name: "user_pt_regs", size: 272, accessFor: KPROBE_KINDS, fields: [
    { name: "regs", offset: 0, size: 248, elem: 8 },
    { name: "sp", offset: 248, size: 8 },
    { name: "pc", offset: 256, size: 8 },
    { name: "pstate", offset: 264, size: 8 },
  ] },
} as const satisfies Record<Arch, ContextStruct<string>>;

/** A register by its pt_regs member (`index`: element of an array member). */
export interface RegisterRef {
  readonly field: string;
  readonly index?: number;
}

/**
 * The probe `Registers` methods → pt_regs members: arguments 1-5, return value, instruction
 * and stack pointer (x86-64 System V: rdi rsi rdx rcx r8, rax; arm64 AAPCS64: x0-x4, x0).
 */
// prettier-ignore
export const REGISTERS = {
  x64: {
    parm1: { field: "di" }, parm2: { field: "si" }, parm3: { field: "dx" }, parm4: { field: "cx" },
    parm5: { field: "r8" }, ret: { field: "ax" }, ip: { field: "ip" }, sp: { field: "sp" },
  },
  arm64: {
    parm1: { field: "regs", index: 0 }, parm2: { field: "regs", index: 1 },
    parm3: { field: "regs", index: 2 }, parm4: { field: "regs", index: 3 },
    parm5: { field: "regs", index: 4 }, ret: { field: "regs", index: 0 },
    ip: { field: "pc" }, sp: { field: "sp" },
  },
} as const satisfies Record<Arch, Record<string, RegisterRef>>;

// ------------------------------------------------------------------------------------- kinds

/** How a kind is attached: the link/ module that does it (undefined: tsbpf cannot attach it). */
export type AttachVia =
  | "xdp"
  | "tc"
  | "tracepoint"
  | "raw_tracepoint"
  | "tp_btf"
  | "tracing"
  | "iter"
  | "perf_event"
  | "kprobe"
  | "ksyscall"
  | "uprobe"
  | "usdt"
  | "socket_filter"
  | "cgroup";

export interface KindInfo {
  readonly progType: ProgType;
  /** the expected attach type of its sections unless a section row says otherwise */
  readonly expectedAttachType?: AttachType;
  /** label for `Loaded: <name>, <display>` unless a section row says otherwise */
  readonly display: string;
  /** the struct its programs get as context (R1), when there is one */
  readonly context?: ContextName;
  /** the context fields that hold the packet's first byte and one past its last */
  readonly packet?: {
    readonly data: string;
    readonly end: string;
    /** where `data` points: the Ethernet header, the network header or the payload */
    readonly start: "mac" | "network" | "payload";
  };
  /** the helper that copies packet bytes to memory (bpf_xdp_load_bytes / bpf_skb_load_bytes) */
  readonly loadBytes?: "xdp_load_bytes" | "skb_load_bytes";
  /** the tsbpf/probe function that declares a program of this kind */
  readonly probe?: string;
  /** the link/ module that attaches it */
  readonly attach?: AttachVia;
}

const P = ProgType;
const A = AttachType;
const MAC_PACKET = { data: "data", end: "data_end", start: "mac" } as const;
const L3_PACKET = { data: "data", end: "data_end", start: "network" } as const;

// prettier-ignore
export const KINDS = {
  socket_filter: { progType: P.SOCKET_FILTER, display: "SocketFilter", context: "__sk_buff", loadBytes: "skb_load_bytes", probe: "socketFilter", attach: "socket_filter" },
  sk_reuseport: { progType: P.SK_REUSEPORT, display: "SkReuseport", context: "sk_reuseport_md" },
  kprobe: { progType: P.KPROBE, display: "KProbe", context: "pt_regs", probe: "kprobe", attach: "kprobe" },
  kretprobe: { progType: P.KPROBE, display: "KRetProbe", context: "pt_regs", probe: "kretprobe", attach: "kprobe" },
  kprobe_multi: { progType: P.KPROBE, expectedAttachType: A.TRACE_KPROBE_MULTI, display: "KProbeMulti", context: "pt_regs" },
  kretprobe_multi: { progType: P.KPROBE, expectedAttachType: A.TRACE_KPROBE_MULTI, display: "KRetProbeMulti", context: "pt_regs" },
  ksyscall: { progType: P.KPROBE, display: "KSyscall", context: "pt_regs", attach: "ksyscall" },
  kretsyscall: { progType: P.KPROBE, display: "KRetSyscall", context: "pt_regs", attach: "ksyscall" },
  uprobe: { progType: P.KPROBE, display: "UProbe", context: "pt_regs", probe: "uprobe", attach: "uprobe" },
  uretprobe: { progType: P.KPROBE, display: "URetProbe", context: "pt_regs", probe: "uretprobe", attach: "uprobe" },
  uprobe_multi: { progType: P.KPROBE, expectedAttachType: A.TRACE_UPROBE_MULTI, display: "UProbeMulti", context: "pt_regs" },
  uretprobe_multi: { progType: P.KPROBE, expectedAttachType: A.TRACE_UPROBE_MULTI, display: "URetProbeMulti", context: "pt_regs" },
  usdt: { progType: P.KPROBE, display: "Usdt", context: "pt_regs", attach: "usdt" },
  tc: { progType: P.SCHED_CLS, display: "TC", context: "__sk_buff", packet: MAC_PACKET, loadBytes: "skb_load_bytes", probe: "tc", attach: "tc" },
  tcx: { progType: P.SCHED_CLS, display: "TCX", context: "__sk_buff", packet: MAC_PACKET, loadBytes: "skb_load_bytes", attach: "tc" },
  netkit: { progType: P.SCHED_CLS, display: "Netkit", context: "__sk_buff", packet: MAC_PACKET, loadBytes: "skb_load_bytes" },
  sched_act: { progType: P.SCHED_ACT, display: "TCAction", context: "__sk_buff", packet: MAC_PACKET, loadBytes: "skb_load_bytes" },
  tracepoint: { progType: P.TRACEPOINT, display: "TracePoint", context: "trace_entry", probe: "tracepoint", attach: "tracepoint" },
  raw_tracepoint: { progType: P.RAW_TRACEPOINT, display: "RawTracePoint", context: "bpf_raw_tracepoint_args", probe: "rawTracepoint", attach: "raw_tracepoint" },
  raw_tracepoint_writable: { progType: P.RAW_TRACEPOINT_WRITABLE, display: "RawTracePoint", context: "bpf_raw_tracepoint_args", attach: "raw_tracepoint" },
  tp_btf: { progType: P.TRACING, expectedAttachType: A.TRACE_RAW_TP, display: "BtfTracePoint", context: "bpf_raw_tracepoint_args", probe: "tpBtf", attach: "tp_btf" },
  fentry: { progType: P.TRACING, expectedAttachType: A.TRACE_FENTRY, display: "FEntry", context: "bpf_raw_tracepoint_args", probe: "fentry", attach: "tracing" },
  fexit: { progType: P.TRACING, expectedAttachType: A.TRACE_FEXIT, display: "FExit", context: "bpf_raw_tracepoint_args", probe: "fexit", attach: "tracing" },
  fmod_ret: { progType: P.TRACING, expectedAttachType: A.MODIFY_RETURN, display: "FModRet", attach: "tracing" },
  freplace: { progType: P.EXT, display: "Extension" },
  lsm: { progType: P.LSM, expectedAttachType: A.LSM_MAC, display: "LSM", attach: "tracing" },
  lsm_cgroup: { progType: P.LSM, expectedAttachType: A.LSM_CGROUP, display: "LSMCgroup" },
  iter: { progType: P.TRACING, expectedAttachType: A.TRACE_ITER, display: "Iter", context: "bpf_raw_tracepoint_args", probe: "iter", attach: "iter" },
  syscall: { progType: P.SYSCALL, display: "Syscall" },
  xdp: { progType: P.XDP, expectedAttachType: A.XDP, display: "XDP", context: "xdp_md", packet: MAC_PACKET, loadBytes: "xdp_load_bytes", probe: "xdp", attach: "xdp" },
  perf_event: { progType: P.PERF_EVENT, display: "PerfEvent", attach: "perf_event" },
  lwt_in: { progType: P.LWT_IN, display: "LwtIn", context: "__sk_buff", packet: L3_PACKET },
  lwt_out: { progType: P.LWT_OUT, display: "LwtOut", context: "__sk_buff", packet: L3_PACKET },
  lwt_xmit: { progType: P.LWT_XMIT, display: "LwtXmit", context: "__sk_buff", packet: L3_PACKET },
  lwt_seg6local: { progType: P.LWT_SEG6LOCAL, display: "LwtSeg6Local", context: "__sk_buff", packet: L3_PACKET },
  sockops: { progType: P.SOCK_OPS, expectedAttachType: A.CGROUP_SOCK_OPS, display: "SockOps", context: "bpf_sock_ops", attach: "cgroup" },
  sk_skb: { progType: P.SK_SKB, display: "SkSkb", context: "__sk_buff" },
  sk_msg: { progType: P.SK_MSG, expectedAttachType: A.SK_MSG_VERDICT, display: "SkMsg", context: "sk_msg_md", packet: { data: "data", end: "data_end", start: "payload" } },
  lirc_mode2: { progType: P.LIRC_MODE2, expectedAttachType: A.LIRC_MODE2, display: "LircMode2" },
  flow_dissector: { progType: P.FLOW_DISSECTOR, expectedAttachType: A.FLOW_DISSECTOR, display: "FlowDissector", context: "__sk_buff" },
  cgroup_skb: { progType: P.CGROUP_SKB, display: "CgroupSkb", context: "__sk_buff", packet: L3_PACKET, loadBytes: "skb_load_bytes", probe: "cgroupSkb", attach: "cgroup" },
  cgroup_sock: { progType: P.CGROUP_SOCK, display: "CgroupSock", context: "bpf_sock", attach: "cgroup" },
  cgroup_sock_addr: { progType: P.CGROUP_SOCK_ADDR, display: "CgroupSockAddr", context: "bpf_sock_addr", attach: "cgroup" },
  cgroup_sysctl: { progType: P.CGROUP_SYSCTL, expectedAttachType: A.CGROUP_SYSCTL, display: "CgroupSysctl", context: "bpf_sysctl", attach: "cgroup" },
  cgroup_sockopt: { progType: P.CGROUP_SOCKOPT, display: "CgroupSockopt", context: "bpf_sockopt", attach: "cgroup" },
  cgroup_device: { progType: P.CGROUP_DEVICE, expectedAttachType: A.CGROUP_DEVICE, display: "CgroupDevice", context: "bpf_cgroup_dev_ctx", attach: "cgroup" },
  struct_ops: { progType: P.STRUCT_OPS, display: "StructOps" },
  sk_lookup: { progType: P.SK_LOOKUP, expectedAttachType: A.SK_LOOKUP, display: "SkLookup", context: "bpf_sk_lookup" },
  netfilter: { progType: P.NETFILTER, expectedAttachType: A.NETFILTER, display: "Netfilter", context: "bpf_nf_ctx" },
} as const satisfies Record<string, KindInfo>;

/** A kind of eBPF program (libbpf's spellings: `socket_filter`, `cgroup_skb`, `tp_btf`). */
export type ProgramKind = keyof typeof KINDS;

/** The tsbpf/probe functions that declare programs (`xdp`, `socketFilter`, `cgroupSkb`…). */
export type ProbeProgramFn = {
  [K in ProgramKind]: (typeof KINDS)[K] extends { probe: infer F extends string } ? F : never;
}[ProgramKind];

/** The kinds whose `attach` is `A` (`KindsAttachedBy<"tracing">`: fentry, fexit, fmod_ret, lsm). */
export type KindsAttachedBy<A extends AttachVia> = {
  [K in ProgramKind]: (typeof KINDS)[K] extends { attach: A } ? K : never;
}[ProgramKind];

export const PROGRAM_KINDS = Object.keys(KINDS) as readonly ProgramKind[];

// The context tables name only real kinds (a misspelt kind fails to compile here).
const checkedContexts: Record<string, ContextStruct> = CONTEXTS;
const checkedPtRegs: Record<Arch, ContextStruct> = PT_REGS;

export function kindInfo(kind: ProgramKind): KindInfo {
  return KINDS[kind];
}

const byProbeFn = new Map<string, ProgramKind>(
  PROGRAM_KINDS.flatMap((k) => {
    const f = kindInfo(k).probe;
    return f === undefined ? [] : [[f, k] as const];
  }),
);

/** The kind a tsbpf/probe function declares (`socketFilter` → `socket_filter`), if it is one. */
export function kindOfProbeFn(name: string): ProgramKind | undefined {
  return byProbeFn.get(name);
}

/** The tsbpf/probe function that declares `kind` (the name diagnostics show to probe authors). */
export function probeFnOf(kind: ProgramKind): ProbeProgramFn {
  const f = kindInfo(kind).probe;
  if (f === undefined) throw bug(`no tsbpf/probe function declares ${kind} programs`);
  return f as ProbeProgramFn;
}

/** The context struct of `kind` (pt_regs of `arch`), or undefined when it has none here. */
export function contextOf(kind: ProgramKind, arch: Arch = "x64"): ContextStruct | undefined {
  const c = kindInfo(kind).context;
  if (c === undefined) return undefined;
  return c === "pt_regs" ? checkedPtRegs[arch] : checkedContexts[c];
}

/** A member of a context struct by its C name; throws when the table has no such member. */
export function contextField(struct: ContextStruct, name: string): ContextField {
  const f = struct.fields.find((x) => x.name === name);
  if (!f) throw bug(`${struct.name} has no member ${name} in the program-kind table`);
  return f;
}

/** A member one load instruction reads whole. */
export type ScalarField = ContextField & { readonly size: 1 | 2 | 4 | 8 };

function scalar(struct: ContextStruct, f: ContextField): ScalarField {
  if (f.size === 1 || f.size === 2 || f.size === 4 || f.size === 8) return f as ScalarField;
  throw bug(`${struct.name}.${f.name} (${f.size} bytes) is not a scalar a load can read`);
}

/** The context member probes read as `ctx.<probe>` in a `kind` program, if there is one. */
export function probeContextField(kind: ProgramKind, probe: string): ScalarField | undefined {
  const ctx = contextOf(kind);
  const f = ctx?.fields.find((x) => x.probe === probe);
  return ctx && f && scalar(ctx, f);
}

/** The `data` / `data_end` members of a packet program's context, or undefined. */
export function packetFields(
  kind: ProgramKind,
): { data: ScalarField; end: ScalarField; start: "mac" | "network" | "payload" } | undefined {
  const p = kindInfo(kind).packet;
  const ctx = contextOf(kind);
  if (!p || !ctx) return undefined;
  return {
    data: scalar(ctx, contextField(ctx, p.data)),
    end: scalar(ctx, contextField(ctx, p.end)),
    start: p.start,
  };
}

/** Byte offset in pt_regs of a probe `Registers` method (`parm1`, `ret`, `sp`…) on `arch`. */
export function registerOffset(arch: Arch, method: string): number | undefined {
  const r = (REGISTERS[arch] as Record<string, RegisterRef>)[method];
  if (!r) return undefined;
  const f = contextField(checkedPtRegs[arch], r.field);
  return f.offset + (r.index ?? 0) * (f.elem ?? 0);
}

// ---------------------------------------------------------------------------------- sections

/** One SEC() name (or name prefix) and what it means. */
export interface SectionDef {
  /** section name, or its prefix before `/` */
  readonly name: string;
  /** exact: the name only; target: the name or `name/<target>`; always: requires a target */
  readonly match: "exact" | "target" | "always";
  readonly kind: ProgramKind;
  /** overrides the kind's expected attach type */
  readonly attach?: AttachType;
  /** overrides the kind's display label */
  readonly display?: string;
  readonly flags?: number;
  /** fixed target implied by the name (tc/ingress → ingress) */
  readonly fixed?: string;
  readonly convention?: "redbpf";
  /** RedBPF only: the rest must not contain `/` (else it is libbpf's meaning) */
  readonly flat?: boolean;
}

const S = ProgFlags.SLEEPABLE;
const F = ProgFlags.XDP_HAS_FRAGS;

/** Section names in match order: the first that matches wins (specific names before the generic prefix they share). */
// prettier-ignore
export const SECTIONS: readonly SectionDef[] = [
  { name: "socket", match: "target", kind: "socket_filter" },
  { name: "sk_reuseport/migrate", match: "exact", kind: "sk_reuseport", attach: A.SK_REUSEPORT_SELECT_OR_MIGRATE },
  { name: "sk_reuseport", match: "exact", kind: "sk_reuseport", attach: A.SK_REUSEPORT_SELECT },
  { name: "kprobe.multi", match: "target", kind: "kprobe_multi" },
  { name: "kretprobe.multi", match: "target", kind: "kretprobe_multi" },
  { name: "kprobe", match: "target", kind: "kprobe" },
  { name: "kretprobe", match: "target", kind: "kretprobe" },
  { name: "ksyscall", match: "target", kind: "ksyscall" },
  { name: "kretsyscall", match: "target", kind: "kretsyscall" },
  { name: "uprobe.multi.s", match: "target", kind: "uprobe_multi", flags: S },
  { name: "uprobe.multi", match: "target", kind: "uprobe_multi" },
  { name: "uretprobe.multi.s", match: "target", kind: "uretprobe_multi", flags: S },
  { name: "uretprobe.multi", match: "target", kind: "uretprobe_multi" },
  { name: "uprobe.s", match: "target", kind: "uprobe", flags: S },
  { name: "uprobe", match: "target", kind: "uprobe" },
  { name: "uretprobe.s", match: "target", kind: "uretprobe", flags: S },
  { name: "uretprobe", match: "target", kind: "uretprobe" },
  { name: "usdt.s", match: "target", kind: "usdt", flags: S },
  { name: "usdt", match: "target", kind: "usdt" },
  { name: "tc/ingress", match: "exact", kind: "tc", attach: A.TCX_INGRESS, fixed: "ingress" },
  { name: "tc/egress", match: "exact", kind: "tc", attach: A.TCX_EGRESS, fixed: "egress" },
  { name: "tcx/ingress", match: "exact", kind: "tcx", attach: A.TCX_INGRESS, fixed: "ingress" },
  { name: "tcx/egress", match: "exact", kind: "tcx", attach: A.TCX_EGRESS, fixed: "egress" },
  { name: "tc", match: "target", kind: "tc" },
  { name: "classifier", match: "target", kind: "tc" },
  { name: "action", match: "target", kind: "sched_act" },
  { name: "netkit/primary", match: "exact", kind: "netkit", attach: A.NETKIT_PRIMARY, fixed: "primary" },
  { name: "netkit/peer", match: "exact", kind: "netkit", attach: A.NETKIT_PEER, fixed: "peer" },
  { name: "tracepoint", match: "always", kind: "tracepoint", convention: "redbpf", flat: true },
  { name: "tracepoint", match: "target", kind: "tracepoint" },
  { name: "tp", match: "target", kind: "tracepoint" },
  { name: "raw_tracepoint.w", match: "target", kind: "raw_tracepoint_writable" },
  { name: "raw_tp.w", match: "target", kind: "raw_tracepoint_writable" },
  { name: "raw_tracepoint", match: "target", kind: "raw_tracepoint" },
  { name: "raw_tp", match: "target", kind: "raw_tracepoint" },
  { name: "tp_btf", match: "target", kind: "tp_btf" },
  { name: "fentry.s", match: "target", kind: "fentry", flags: S },
  { name: "fentry", match: "target", kind: "fentry" },
  { name: "fmod_ret.s", match: "target", kind: "fmod_ret", flags: S },
  { name: "fmod_ret", match: "target", kind: "fmod_ret" },
  { name: "fexit.s", match: "target", kind: "fexit", flags: S },
  { name: "fexit", match: "target", kind: "fexit" },
  { name: "freplace", match: "target", kind: "freplace" },
  { name: "lsm.s", match: "target", kind: "lsm", flags: S },
  { name: "lsm", match: "target", kind: "lsm" },
  { name: "lsm_cgroup", match: "target", kind: "lsm_cgroup" },
  { name: "iter.s", match: "target", kind: "iter", flags: S },
  { name: "iter", match: "target", kind: "iter" },
  { name: "syscall", match: "exact", kind: "syscall", flags: S },
  { name: "xdp.frags/devmap", match: "exact", kind: "xdp", attach: A.XDP_DEVMAP, flags: F, fixed: "devmap" },
  { name: "xdp/devmap", match: "exact", kind: "xdp", attach: A.XDP_DEVMAP, fixed: "devmap" },
  { name: "xdp.frags/cpumap", match: "exact", kind: "xdp", attach: A.XDP_CPUMAP, flags: F, fixed: "cpumap" },
  { name: "xdp/cpumap", match: "exact", kind: "xdp", attach: A.XDP_CPUMAP, fixed: "cpumap" },
  { name: "xdp.frags", match: "exact", kind: "xdp", flags: F },
  { name: "xdp", match: "exact", kind: "xdp" },
  { name: "xdp", match: "always", kind: "xdp", convention: "redbpf" },
  { name: "perf_event", match: "exact", kind: "perf_event" },
  { name: "lwt_in", match: "exact", kind: "lwt_in" },
  { name: "lwt_out", match: "exact", kind: "lwt_out" },
  { name: "lwt_xmit", match: "exact", kind: "lwt_xmit" },
  { name: "lwt_seg6local", match: "exact", kind: "lwt_seg6local" },
  { name: "sockops", match: "exact", kind: "sockops" },
  { name: "sk_skb/stream_parser", match: "exact", kind: "sk_skb", attach: A.SK_SKB_STREAM_PARSER, display: "StreamParser", fixed: "stream_parser" },
  { name: "sk_skb/stream_verdict", match: "exact", kind: "sk_skb", attach: A.SK_SKB_STREAM_VERDICT, display: "StreamVerdict", fixed: "stream_verdict" },
  { name: "sk_skb/verdict", match: "exact", kind: "sk_skb", attach: A.SK_SKB_VERDICT, display: "SkSkbVerdict", fixed: "verdict" },
  { name: "sk_skb", match: "exact", kind: "sk_skb" },
  { name: "sk_msg", match: "exact", kind: "sk_msg" },
  { name: "lirc_mode2", match: "exact", kind: "lirc_mode2" },
  { name: "flow_dissector", match: "exact", kind: "flow_dissector" },
  { name: "cgroup_skb/ingress", match: "exact", kind: "cgroup_skb", attach: A.CGROUP_INET_INGRESS, fixed: "ingress" },
  { name: "cgroup_skb/egress", match: "exact", kind: "cgroup_skb", attach: A.CGROUP_INET_EGRESS, fixed: "egress" },
  { name: "cgroup/skb", match: "exact", kind: "cgroup_skb" },
  ...cgroupSock("cgroup_sock", [
    ["sock_create", A.CGROUP_INET_SOCK_CREATE],
    ["sock_release", A.CGROUP_INET_SOCK_RELEASE],
    ["sock", A.CGROUP_INET_SOCK_CREATE],
    ["post_bind4", A.CGROUP_INET4_POST_BIND],
    ["post_bind6", A.CGROUP_INET6_POST_BIND],
  ]),
  ...cgroupSock("cgroup_sock_addr", [
    ["bind4", A.CGROUP_INET4_BIND],
    ["bind6", A.CGROUP_INET6_BIND],
    ["connect4", A.CGROUP_INET4_CONNECT],
    ["connect6", A.CGROUP_INET6_CONNECT],
    ["connect_unix", A.CGROUP_UNIX_CONNECT],
    ["sendmsg4", A.CGROUP_UDP4_SENDMSG],
    ["sendmsg6", A.CGROUP_UDP6_SENDMSG],
    ["sendmsg_unix", A.CGROUP_UNIX_SENDMSG],
    ["recvmsg4", A.CGROUP_UDP4_RECVMSG],
    ["recvmsg6", A.CGROUP_UDP6_RECVMSG],
    ["recvmsg_unix", A.CGROUP_UNIX_RECVMSG],
    ["getpeername4", A.CGROUP_INET4_GETPEERNAME],
    ["getpeername6", A.CGROUP_INET6_GETPEERNAME],
    ["getpeername_unix", A.CGROUP_UNIX_GETPEERNAME],
    ["getsockname4", A.CGROUP_INET4_GETSOCKNAME],
    ["getsockname6", A.CGROUP_INET6_GETSOCKNAME],
    ["getsockname_unix", A.CGROUP_UNIX_GETSOCKNAME],
  ]),
  { name: "cgroup/sysctl", match: "exact", kind: "cgroup_sysctl" },
  { name: "cgroup/getsockopt", match: "exact", kind: "cgroup_sockopt", attach: A.CGROUP_GETSOCKOPT, fixed: "getsockopt" },
  { name: "cgroup/setsockopt", match: "exact", kind: "cgroup_sockopt", attach: A.CGROUP_SETSOCKOPT, fixed: "setsockopt" },
  { name: "cgroup/dev", match: "exact", kind: "cgroup_device" },
  { name: "struct_ops.s", match: "target", kind: "struct_ops", flags: S },
  { name: "struct_ops", match: "target", kind: "struct_ops" },
  { name: "sk_lookup", match: "exact", kind: "sk_lookup" },
  { name: "netfilter", match: "exact", kind: "netfilter" },
  // RedBPF `<kind>/<program name>` sections (redbpf Program::new).
  { name: "socketfilter", match: "always", kind: "socket_filter", convention: "redbpf" },
  { name: "streamparser", match: "always", kind: "sk_skb", attach: A.SK_SKB_STREAM_PARSER, display: "StreamParser", convention: "redbpf" },
  { name: "streamverdict", match: "always", kind: "sk_skb", attach: A.SK_SKB_STREAM_VERDICT, display: "StreamVerdict", convention: "redbpf" },
  { name: "sk_lookup", match: "always", kind: "sk_lookup", convention: "redbpf" },
  { name: "task_iter", match: "always", kind: "iter", display: "TaskIter", convention: "redbpf", fixed: "task" },
];

function cgroupSock(
  kind: "cgroup_sock" | "cgroup_sock_addr",
  hooks: readonly [string, AttachType][],
): SectionDef[] {
  return hooks.map(([name, attach]) => ({
    name: `cgroup/${name}`,
    match: "exact",
    kind,
    attach,
    fixed: name,
  }));
}
