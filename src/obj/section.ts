// Program section names → program type, expected attach type and attach target.
//
// Two conventions meet here. libbpf's SEC() names (tools/lib/bpf/libbpf.c section_defs):
// `xdp`, `tc/ingress`, `tracepoint/<category>/<name>`, `kprobe/<fn>`, `uprobe/<binary>:<sym>`…
// and RedBPF's `<kind>/<program name>` sections (`xdp/trace_http`, `socketfilter/x`,
// `tracepoint/x`) where the part after the slash names the program, not an attach target.
// Where the two disagree, libbpf's meaning wins for names libbpf accepts; the RedBPF reading
// is used only for names libbpf would reject.
import { AttachType, ProgFlags, ProgType } from "./consts.js";

export type ProgramKind =
  | "socket_filter"
  | "sk_reuseport"
  | "kprobe"
  | "kretprobe"
  | "kprobe_multi"
  | "kretprobe_multi"
  | "ksyscall"
  | "kretsyscall"
  | "uprobe"
  | "uretprobe"
  | "uprobe_multi"
  | "uretprobe_multi"
  | "usdt"
  | "tc"
  | "tcx"
  | "netkit"
  | "sched_act"
  | "tracepoint"
  | "raw_tracepoint"
  | "raw_tracepoint_writable"
  | "tp_btf"
  | "fentry"
  | "fexit"
  | "fmod_ret"
  | "freplace"
  | "lsm"
  | "lsm_cgroup"
  | "iter"
  | "syscall"
  | "xdp"
  | "perf_event"
  | "lwt_in"
  | "lwt_out"
  | "lwt_xmit"
  | "lwt_seg6local"
  | "sockops"
  | "sk_skb"
  | "sk_msg"
  | "lirc_mode2"
  | "flow_dissector"
  | "cgroup_skb"
  | "cgroup_sock"
  | "cgroup_sock_addr"
  | "cgroup_sysctl"
  | "cgroup_sockopt"
  | "cgroup_device"
  | "struct_ops"
  | "sk_lookup"
  | "netfilter";

export interface ProgramSection {
  kind: ProgramKind;
  /** enum bpf_prog_type */
  progType: ProgType;
  /** BPF_PROG_LOAD expected_attach_type, when the kind needs one */
  expectedAttachType?: AttachType;
  /**
   * What the section names as attach point, when it names one: `syscalls/sys_enter_openat`
   * (tracepoint), a function (kprobe, fentry, tp_btf, lsm hook), `ingress` (tc),
   * `/bin/bash:readline` (uprobe), an iterator (`task`).
   */
  target?: string;
  /** For uprobe targets of the form `<binary>:<symbol>[+<offset>]` or `<binary>:<offset>`. */
  uprobe?: { binary: string; symbol?: string; offset?: number };
  /** Label for `Loaded: <name>, <displayKind>` (RedBPF's program kinds where it has them). */
  displayKind: string;
  /** BPF_PROG_LOAD prog_flags the section implies (sleepable `.s`, `xdp.frags`) */
  progFlags: number;
  /** Which naming convention matched. */
  convention: "libbpf" | "redbpf";
}

type Def = {
  /** section name, or its prefix before `/` */
  name: string;
  /** exact: the name only; target: the name or `name/<target>`; always: requires a target */
  match: "exact" | "target" | "always";
  kind: ProgramKind;
  prog: ProgType;
  attach?: AttachType;
  display: string;
  flags?: number;
  /** fixed target implied by the name (tc/ingress → ingress) */
  fixed?: string;
  convention?: "redbpf";
  /** RedBPF only: the rest must not contain `/` (else it is libbpf's meaning) */
  flat?: boolean;
};

const P = ProgType;
const A = AttachType;
const S = ProgFlags.SLEEPABLE;
const F = ProgFlags.XDP_HAS_FRAGS;

// First match wins: specific names before the generic prefix they share.
// prettier-ignore
const DEFS: readonly Def[] = [
  { name: "socket", match: "target", kind: "socket_filter", prog: P.SOCKET_FILTER, display: "SocketFilter" },
  { name: "sk_reuseport/migrate", match: "exact", kind: "sk_reuseport", prog: P.SK_REUSEPORT, attach: A.SK_REUSEPORT_SELECT_OR_MIGRATE, display: "SkReuseport" },
  { name: "sk_reuseport", match: "exact", kind: "sk_reuseport", prog: P.SK_REUSEPORT, attach: A.SK_REUSEPORT_SELECT, display: "SkReuseport" },
  { name: "kprobe.multi", match: "target", kind: "kprobe_multi", prog: P.KPROBE, attach: A.TRACE_KPROBE_MULTI, display: "KProbeMulti" },
  { name: "kretprobe.multi", match: "target", kind: "kretprobe_multi", prog: P.KPROBE, attach: A.TRACE_KPROBE_MULTI, display: "KRetProbeMulti" },
  { name: "kprobe", match: "target", kind: "kprobe", prog: P.KPROBE, display: "KProbe" },
  { name: "kretprobe", match: "target", kind: "kretprobe", prog: P.KPROBE, display: "KRetProbe" },
  { name: "ksyscall", match: "target", kind: "ksyscall", prog: P.KPROBE, display: "KSyscall" },
  { name: "kretsyscall", match: "target", kind: "kretsyscall", prog: P.KPROBE, display: "KRetSyscall" },
  { name: "uprobe.multi.s", match: "target", kind: "uprobe_multi", prog: P.KPROBE, attach: A.TRACE_UPROBE_MULTI, display: "UProbeMulti", flags: S },
  { name: "uprobe.multi", match: "target", kind: "uprobe_multi", prog: P.KPROBE, attach: A.TRACE_UPROBE_MULTI, display: "UProbeMulti" },
  { name: "uretprobe.multi.s", match: "target", kind: "uretprobe_multi", prog: P.KPROBE, attach: A.TRACE_UPROBE_MULTI, display: "URetProbeMulti", flags: S },
  { name: "uretprobe.multi", match: "target", kind: "uretprobe_multi", prog: P.KPROBE, attach: A.TRACE_UPROBE_MULTI, display: "URetProbeMulti" },
  { name: "uprobe.s", match: "target", kind: "uprobe", prog: P.KPROBE, display: "UProbe", flags: S },
  { name: "uprobe", match: "target", kind: "uprobe", prog: P.KPROBE, display: "UProbe" },
  { name: "uretprobe.s", match: "target", kind: "uretprobe", prog: P.KPROBE, display: "URetProbe", flags: S },
  { name: "uretprobe", match: "target", kind: "uretprobe", prog: P.KPROBE, display: "URetProbe" },
  { name: "usdt.s", match: "target", kind: "usdt", prog: P.KPROBE, display: "Usdt", flags: S },
  { name: "usdt", match: "target", kind: "usdt", prog: P.KPROBE, display: "Usdt" },
  { name: "tc/ingress", match: "exact", kind: "tc", prog: P.SCHED_CLS, attach: A.TCX_INGRESS, display: "TC", fixed: "ingress" },
  { name: "tc/egress", match: "exact", kind: "tc", prog: P.SCHED_CLS, attach: A.TCX_EGRESS, display: "TC", fixed: "egress" },
  { name: "tcx/ingress", match: "exact", kind: "tcx", prog: P.SCHED_CLS, attach: A.TCX_INGRESS, display: "TCX", fixed: "ingress" },
  { name: "tcx/egress", match: "exact", kind: "tcx", prog: P.SCHED_CLS, attach: A.TCX_EGRESS, display: "TCX", fixed: "egress" },
  { name: "tc", match: "target", kind: "tc", prog: P.SCHED_CLS, display: "TC" },
  { name: "classifier", match: "target", kind: "tc", prog: P.SCHED_CLS, display: "TC" },
  { name: "action", match: "target", kind: "sched_act", prog: P.SCHED_ACT, display: "TCAction" },
  { name: "netkit/primary", match: "exact", kind: "netkit", prog: P.SCHED_CLS, attach: A.NETKIT_PRIMARY, display: "Netkit", fixed: "primary" },
  { name: "netkit/peer", match: "exact", kind: "netkit", prog: P.SCHED_CLS, attach: A.NETKIT_PEER, display: "Netkit", fixed: "peer" },
  { name: "tracepoint", match: "always", kind: "tracepoint", prog: P.TRACEPOINT, display: "TracePoint", convention: "redbpf", flat: true },
  { name: "tracepoint", match: "target", kind: "tracepoint", prog: P.TRACEPOINT, display: "TracePoint" },
  { name: "tp", match: "target", kind: "tracepoint", prog: P.TRACEPOINT, display: "TracePoint" },
  { name: "raw_tracepoint.w", match: "target", kind: "raw_tracepoint_writable", prog: P.RAW_TRACEPOINT_WRITABLE, display: "RawTracePoint" },
  { name: "raw_tp.w", match: "target", kind: "raw_tracepoint_writable", prog: P.RAW_TRACEPOINT_WRITABLE, display: "RawTracePoint" },
  { name: "raw_tracepoint", match: "target", kind: "raw_tracepoint", prog: P.RAW_TRACEPOINT, display: "RawTracePoint" },
  { name: "raw_tp", match: "target", kind: "raw_tracepoint", prog: P.RAW_TRACEPOINT, display: "RawTracePoint" },
  { name: "tp_btf", match: "target", kind: "tp_btf", prog: P.TRACING, attach: A.TRACE_RAW_TP, display: "BtfTracePoint" },
  { name: "fentry.s", match: "target", kind: "fentry", prog: P.TRACING, attach: A.TRACE_FENTRY, display: "FEntry", flags: S },
  { name: "fentry", match: "target", kind: "fentry", prog: P.TRACING, attach: A.TRACE_FENTRY, display: "FEntry" },
  { name: "fmod_ret.s", match: "target", kind: "fmod_ret", prog: P.TRACING, attach: A.MODIFY_RETURN, display: "FModRet", flags: S },
  { name: "fmod_ret", match: "target", kind: "fmod_ret", prog: P.TRACING, attach: A.MODIFY_RETURN, display: "FModRet" },
  { name: "fexit.s", match: "target", kind: "fexit", prog: P.TRACING, attach: A.TRACE_FEXIT, display: "FExit", flags: S },
  { name: "fexit", match: "target", kind: "fexit", prog: P.TRACING, attach: A.TRACE_FEXIT, display: "FExit" },
  { name: "freplace", match: "target", kind: "freplace", prog: P.EXT, display: "Extension" },
  { name: "lsm.s", match: "target", kind: "lsm", prog: P.LSM, attach: A.LSM_MAC, display: "LSM", flags: S },
  { name: "lsm", match: "target", kind: "lsm", prog: P.LSM, attach: A.LSM_MAC, display: "LSM" },
  { name: "lsm_cgroup", match: "target", kind: "lsm_cgroup", prog: P.LSM, attach: A.LSM_CGROUP, display: "LSMCgroup" },
  { name: "iter.s", match: "target", kind: "iter", prog: P.TRACING, attach: A.TRACE_ITER, display: "Iter", flags: S },
  { name: "iter", match: "target", kind: "iter", prog: P.TRACING, attach: A.TRACE_ITER, display: "Iter" },
  { name: "syscall", match: "exact", kind: "syscall", prog: P.SYSCALL, display: "Syscall", flags: S },
  { name: "xdp.frags/devmap", match: "exact", kind: "xdp", prog: P.XDP, attach: A.XDP_DEVMAP, display: "XDP", flags: F, fixed: "devmap" },
  { name: "xdp/devmap", match: "exact", kind: "xdp", prog: P.XDP, attach: A.XDP_DEVMAP, display: "XDP", fixed: "devmap" },
  { name: "xdp.frags/cpumap", match: "exact", kind: "xdp", prog: P.XDP, attach: A.XDP_CPUMAP, display: "XDP", flags: F, fixed: "cpumap" },
  { name: "xdp/cpumap", match: "exact", kind: "xdp", prog: P.XDP, attach: A.XDP_CPUMAP, display: "XDP", fixed: "cpumap" },
  { name: "xdp.frags", match: "exact", kind: "xdp", prog: P.XDP, attach: A.XDP, display: "XDP", flags: F },
  { name: "xdp", match: "exact", kind: "xdp", prog: P.XDP, attach: A.XDP, display: "XDP" },
  { name: "xdp", match: "always", kind: "xdp", prog: P.XDP, attach: A.XDP, display: "XDP", convention: "redbpf" },
  { name: "perf_event", match: "exact", kind: "perf_event", prog: P.PERF_EVENT, display: "PerfEvent" },
  { name: "lwt_in", match: "exact", kind: "lwt_in", prog: P.LWT_IN, display: "LwtIn" },
  { name: "lwt_out", match: "exact", kind: "lwt_out", prog: P.LWT_OUT, display: "LwtOut" },
  { name: "lwt_xmit", match: "exact", kind: "lwt_xmit", prog: P.LWT_XMIT, display: "LwtXmit" },
  { name: "lwt_seg6local", match: "exact", kind: "lwt_seg6local", prog: P.LWT_SEG6LOCAL, display: "LwtSeg6Local" },
  { name: "sockops", match: "exact", kind: "sockops", prog: P.SOCK_OPS, attach: A.CGROUP_SOCK_OPS, display: "SockOps" },
  { name: "sk_skb/stream_parser", match: "exact", kind: "sk_skb", prog: P.SK_SKB, attach: A.SK_SKB_STREAM_PARSER, display: "StreamParser", fixed: "stream_parser" },
  { name: "sk_skb/stream_verdict", match: "exact", kind: "sk_skb", prog: P.SK_SKB, attach: A.SK_SKB_STREAM_VERDICT, display: "StreamVerdict", fixed: "stream_verdict" },
  { name: "sk_skb/verdict", match: "exact", kind: "sk_skb", prog: P.SK_SKB, attach: A.SK_SKB_VERDICT, display: "SkSkbVerdict", fixed: "verdict" },
  { name: "sk_skb", match: "exact", kind: "sk_skb", prog: P.SK_SKB, display: "SkSkb" },
  { name: "sk_msg", match: "exact", kind: "sk_msg", prog: P.SK_MSG, attach: A.SK_MSG_VERDICT, display: "SkMsg" },
  { name: "lirc_mode2", match: "exact", kind: "lirc_mode2", prog: P.LIRC_MODE2, attach: A.LIRC_MODE2, display: "LircMode2" },
  { name: "flow_dissector", match: "exact", kind: "flow_dissector", prog: P.FLOW_DISSECTOR, attach: A.FLOW_DISSECTOR, display: "FlowDissector" },
  { name: "cgroup_skb/ingress", match: "exact", kind: "cgroup_skb", prog: P.CGROUP_SKB, attach: A.CGROUP_INET_INGRESS, display: "CgroupSkb", fixed: "ingress" },
  { name: "cgroup_skb/egress", match: "exact", kind: "cgroup_skb", prog: P.CGROUP_SKB, attach: A.CGROUP_INET_EGRESS, display: "CgroupSkb", fixed: "egress" },
  { name: "cgroup/skb", match: "exact", kind: "cgroup_skb", prog: P.CGROUP_SKB, display: "CgroupSkb" },
  ...cgroupAddr(),
  { name: "cgroup/sysctl", match: "exact", kind: "cgroup_sysctl", prog: P.CGROUP_SYSCTL, attach: A.CGROUP_SYSCTL, display: "CgroupSysctl" },
  { name: "cgroup/getsockopt", match: "exact", kind: "cgroup_sockopt", prog: P.CGROUP_SOCKOPT, attach: A.CGROUP_GETSOCKOPT, display: "CgroupSockopt", fixed: "getsockopt" },
  { name: "cgroup/setsockopt", match: "exact", kind: "cgroup_sockopt", prog: P.CGROUP_SOCKOPT, attach: A.CGROUP_SETSOCKOPT, display: "CgroupSockopt", fixed: "setsockopt" },
  { name: "cgroup/dev", match: "exact", kind: "cgroup_device", prog: P.CGROUP_DEVICE, attach: A.CGROUP_DEVICE, display: "CgroupDevice" },
  { name: "struct_ops.s", match: "target", kind: "struct_ops", prog: P.STRUCT_OPS, display: "StructOps", flags: S },
  { name: "struct_ops", match: "target", kind: "struct_ops", prog: P.STRUCT_OPS, display: "StructOps" },
  { name: "sk_lookup", match: "exact", kind: "sk_lookup", prog: P.SK_LOOKUP, attach: A.SK_LOOKUP, display: "SkLookup" },
  { name: "netfilter", match: "exact", kind: "netfilter", prog: P.NETFILTER, attach: A.NETFILTER, display: "Netfilter" },
  // RedBPF `<kind>/<program name>` sections (redbpf Program::new).
  { name: "socketfilter", match: "always", kind: "socket_filter", prog: P.SOCKET_FILTER, display: "SocketFilter", convention: "redbpf" },
  { name: "streamparser", match: "always", kind: "sk_skb", prog: P.SK_SKB, attach: A.SK_SKB_STREAM_PARSER, display: "StreamParser", convention: "redbpf" },
  { name: "streamverdict", match: "always", kind: "sk_skb", prog: P.SK_SKB, attach: A.SK_SKB_STREAM_VERDICT, display: "StreamVerdict", convention: "redbpf" },
  { name: "sk_lookup", match: "always", kind: "sk_lookup", prog: P.SK_LOOKUP, attach: A.SK_LOOKUP, display: "SkLookup", convention: "redbpf" },
  { name: "task_iter", match: "always", kind: "iter", prog: P.TRACING, attach: A.TRACE_ITER, display: "TaskIter", convention: "redbpf", fixed: "task" },
];

function cgroupAddr(): Def[] {
  const sock = (name: string, attach: AttachType): Def => ({
    name: `cgroup/${name}`,
    match: "exact",
    kind: "cgroup_sock",
    prog: P.CGROUP_SOCK,
    attach,
    display: "CgroupSock",
    fixed: name,
  });
  const addr = (name: string, attach: AttachType): Def => ({
    name: `cgroup/${name}`,
    match: "exact",
    kind: "cgroup_sock_addr",
    prog: P.CGROUP_SOCK_ADDR,
    attach,
    display: "CgroupSockAddr",
    fixed: name,
  });
  return [
    sock("sock_create", A.CGROUP_INET_SOCK_CREATE),
    sock("sock_release", A.CGROUP_INET_SOCK_RELEASE),
    sock("sock", A.CGROUP_INET_SOCK_CREATE),
    sock("post_bind4", A.CGROUP_INET4_POST_BIND),
    sock("post_bind6", A.CGROUP_INET6_POST_BIND),
    addr("bind4", A.CGROUP_INET4_BIND),
    addr("bind6", A.CGROUP_INET6_BIND),
    addr("connect4", A.CGROUP_INET4_CONNECT),
    addr("connect6", A.CGROUP_INET6_CONNECT),
    addr("connect_unix", A.CGROUP_UNIX_CONNECT),
    addr("sendmsg4", A.CGROUP_UDP4_SENDMSG),
    addr("sendmsg6", A.CGROUP_UDP6_SENDMSG),
    addr("sendmsg_unix", A.CGROUP_UNIX_SENDMSG),
    addr("recvmsg4", A.CGROUP_UDP4_RECVMSG),
    addr("recvmsg6", A.CGROUP_UDP6_RECVMSG),
    addr("recvmsg_unix", A.CGROUP_UNIX_RECVMSG),
    addr("getpeername4", A.CGROUP_INET4_GETPEERNAME),
    addr("getpeername6", A.CGROUP_INET6_GETPEERNAME),
    addr("getpeername_unix", A.CGROUP_UNIX_GETPEERNAME),
    addr("getsockname4", A.CGROUP_INET4_GETSOCKNAME),
    addr("getsockname6", A.CGROUP_INET6_GETSOCKNAME),
    addr("getsockname_unix", A.CGROUP_UNIX_GETSOCKNAME),
  ];
}

/** Parse `<binary>:<symbol>[+<offset>]` / `<binary>:<offset>`; undefined without a `:`. */
export function parseUprobeTarget(
  target: string,
): { binary: string; symbol?: string; offset?: number } | undefined {
  const colon = target.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const binary = target.slice(0, colon);
  const rest = target.slice(colon + 1);
  if (rest === "") return { binary };
  if (/^(0x[0-9a-fA-F]+|\d+)$/.test(rest)) return { binary, offset: Number(rest) };
  const m = /^([^+]+)\+(0x[0-9a-fA-F]+|\d+)$/.exec(rest);
  if (m) return { binary, symbol: m[1]!, offset: Number(m[2]) };
  return { binary, symbol: rest };
}

/**
 * What a program section name means, or undefined for sections that are not programs
 * (`.text`, `.maps`, `license`…) or that no convention recognises.
 */
export function parseSectionName(name: string): ProgramSection | undefined {
  for (const d of DEFS) {
    let target: string | undefined;
    if (name === d.name) {
      if (d.match === "always") continue;
      target = d.fixed;
    } else if (d.match !== "exact" && name.startsWith(d.name + "/")) {
      target = name.slice(d.name.length + 1);
      if (target === "") continue;
      if (d.flat && target.includes("/")) continue;
    } else {
      continue;
    }
    const section: ProgramSection = {
      kind: d.kind,
      progType: d.prog,
      displayKind: d.display,
      progFlags: d.flags ?? 0,
      convention: d.convention ?? "libbpf",
    };
    if (d.attach !== undefined) section.expectedAttachType = d.attach;
    // For RedBPF the rest names the program; only a fixed target means anything.
    const t = d.convention === "redbpf" ? d.fixed : target;
    if (t !== undefined) section.target = t;
    if ((d.kind === "uprobe" || d.kind === "uretprobe") && t !== undefined) {
      const u = parseUprobeTarget(t);
      if (u) section.uprobe = u;
    }
    return section;
  }
  return undefined;
}
