import { test } from "node:test";
import assert from "node:assert/strict";
import { AttachType, ProgFlags, ProgType } from "../../../src/obj/consts.js";
import {
  parseSectionName,
  parseUprobeTarget,
  type ProgramSection,
} from "../../../src/obj/section.js";

type Expect = Partial<ProgramSection> & { kind: ProgramSection["kind"] };

const CASES: [string, Expect][] = [
  [
    "xdp",
    { kind: "xdp", progType: ProgType.XDP, expectedAttachType: AttachType.XDP, displayKind: "XDP" },
  ],
  ["xdp.frags", { kind: "xdp", progFlags: ProgFlags.XDP_HAS_FRAGS }],
  ["xdp/devmap", { kind: "xdp", expectedAttachType: AttachType.XDP_DEVMAP, target: "devmap" }],
  ["xdp/trace_http", { kind: "xdp", convention: "redbpf", displayKind: "XDP", target: undefined }],
  ["tc", { kind: "tc", progType: ProgType.SCHED_CLS, target: undefined }],
  ["tc/ingress", { kind: "tc", target: "ingress", expectedAttachType: AttachType.TCX_INGRESS }],
  ["tc/egress", { kind: "tc", target: "egress", expectedAttachType: AttachType.TCX_EGRESS }],
  ["tcx/ingress", { kind: "tcx", target: "ingress", expectedAttachType: AttachType.TCX_INGRESS }],
  ["tcx/egress", { kind: "tcx", target: "egress", expectedAttachType: AttachType.TCX_EGRESS }],
  ["classifier", { kind: "tc", progType: ProgType.SCHED_CLS }],
  ["action", { kind: "sched_act", progType: ProgType.SCHED_ACT }],
  [
    "socket",
    { kind: "socket_filter", progType: ProgType.SOCKET_FILTER, displayKind: "SocketFilter" },
  ],
  ["socketfilter/count", { kind: "socket_filter", convention: "redbpf", target: undefined }],
  [
    "tracepoint/syscalls/sys_enter_openat",
    {
      kind: "tracepoint",
      progType: ProgType.TRACEPOINT,
      target: "syscalls/sys_enter_openat",
      convention: "libbpf",
    },
  ],
  ["tp/sched/sched_switch", { kind: "tracepoint", target: "sched/sched_switch" }],
  ["tracepoint/on_exec", { kind: "tracepoint", convention: "redbpf", target: undefined }],
  [
    "raw_tracepoint/sys_enter",
    { kind: "raw_tracepoint", progType: ProgType.RAW_TRACEPOINT, target: "sys_enter" },
  ],
  ["raw_tp/sched_switch", { kind: "raw_tracepoint", target: "sched_switch" }],
  ["raw_tp.w/x", { kind: "raw_tracepoint_writable", progType: ProgType.RAW_TRACEPOINT_WRITABLE }],
  [
    "tp_btf/sched_switch",
    {
      kind: "tp_btf",
      progType: ProgType.TRACING,
      expectedAttachType: AttachType.TRACE_RAW_TP,
      target: "sched_switch",
    },
  ],
  [
    "kprobe/vfs_read",
    { kind: "kprobe", progType: ProgType.KPROBE, target: "vfs_read", displayKind: "KProbe" },
  ],
  ["kretprobe/vfs_read", { kind: "kretprobe", target: "vfs_read", displayKind: "KRetProbe" }],
  ["kprobe", { kind: "kprobe", target: undefined }],
  [
    "uprobe//usr/lib/libc.so.6:malloc",
    {
      kind: "uprobe",
      target: "/usr/lib/libc.so.6:malloc",
      uprobe: { binary: "/usr/lib/libc.so.6", symbol: "malloc" },
    },
  ],
  [
    "uretprobe/bin:sym+0x10",
    { kind: "uretprobe", uprobe: { binary: "bin", symbol: "sym", offset: 16 } },
  ],
  ["uprobe", { kind: "uprobe", target: undefined }],
  ["uprobe/readline", { kind: "uprobe", target: "readline", uprobe: undefined }],
  ["uprobe.s/bin:f", { kind: "uprobe", progFlags: ProgFlags.SLEEPABLE }],
  [
    "fentry/do_unlinkat",
    { kind: "fentry", expectedAttachType: AttachType.TRACE_FENTRY, target: "do_unlinkat" },
  ],
  ["fexit/do_unlinkat", { kind: "fexit", expectedAttachType: AttachType.TRACE_FEXIT }],
  ["fentry.s/x", { kind: "fentry", progFlags: ProgFlags.SLEEPABLE }],
  [
    "cgroup_skb/ingress",
    { kind: "cgroup_skb", expectedAttachType: AttachType.CGROUP_INET_INGRESS, target: "ingress" },
  ],
  ["cgroup_skb/egress", { kind: "cgroup_skb", expectedAttachType: AttachType.CGROUP_INET_EGRESS }],
  ["cgroup/skb", { kind: "cgroup_skb", expectedAttachType: undefined }],
  [
    "cgroup/connect4",
    { kind: "cgroup_sock_addr", expectedAttachType: AttachType.CGROUP_INET4_CONNECT },
  ],
  ["perf_event", { kind: "perf_event", progType: ProgType.PERF_EVENT }],
  [
    "lsm/file_open",
    {
      kind: "lsm",
      progType: ProgType.LSM,
      expectedAttachType: AttachType.LSM_MAC,
      target: "file_open",
    },
  ],
  ["sk_skb/stream_parser", { kind: "sk_skb", expectedAttachType: AttachType.SK_SKB_STREAM_PARSER }],
  ["sk_skb", { kind: "sk_skb", expectedAttachType: undefined }],
  [
    "streamverdict/v",
    { kind: "sk_skb", expectedAttachType: AttachType.SK_SKB_STREAM_VERDICT, convention: "redbpf" },
  ],
  ["sk_msg", { kind: "sk_msg", expectedAttachType: AttachType.SK_MSG_VERDICT }],
  ["iter/task", { kind: "iter", target: "task" }],
  ["task_iter/dump", { kind: "iter", target: "task", displayKind: "TaskIter" }],
  ["netkit/peer", { kind: "netkit", expectedAttachType: AttachType.NETKIT_PEER }],
  ["syscall", { kind: "syscall", progType: ProgType.SYSCALL }],
];

test("section names map to program type, attach type and target", () => {
  for (const [name, want] of CASES) {
    const got = parseSectionName(name);
    assert.ok(got, `${name} is recognised`);
    for (const [k, v] of Object.entries(want)) {
      assert.deepEqual(got[k as keyof ProgramSection], v, `${name}: ${k}`);
    }
  }
});

test("non-program and unknown sections are not programs", () => {
  for (const name of [
    ".text",
    ".maps",
    "maps",
    "license",
    "version",
    ".data",
    ".BTF",
    "",
    "xdpfoo",
    "tc/",
    "xdp/",
    "kprobes/x",
    "tracepoint/",
  ]) {
    assert.equal(parseSectionName(name), undefined, name);
  }
});

test("uprobe targets", () => {
  assert.deepEqual(parseUprobeTarget("/bin/bash:readline"), {
    binary: "/bin/bash",
    symbol: "readline",
  });
  assert.deepEqual(parseUprobeTarget("/bin/bash:0x1f0"), { binary: "/bin/bash", offset: 0x1f0 });
  assert.deepEqual(parseUprobeTarget("/bin/bash:"), { binary: "/bin/bash" });
  assert.equal(parseUprobeTarget("readline"), undefined);
});
