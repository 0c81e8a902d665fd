// attachBySection's decisions that precede any syscall: which option is missing, and what
// cannot be attached at all. (Successful dispatch is covered by the kernel tests.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSectionName } from "../../../src/obj/section.js";
import {
  AttachError,
  attachBySection,
  attachTracing,
  syscallFunction,
} from "../../../src/link/index.js";
import { ProgType } from "../../../src/obj/consts.js";

const prog = (name: string, type: number) => ({ fd: -1, name, type });

function refuses(section: string, p: ReturnType<typeof prog>, pattern: RegExp, opts = {}): void {
  const info = parseSectionName(section);
  assert.ok(info, `section ${section} parses`);
  assert.throws(
    () => attachBySection(p, info, opts),
    (e: unknown) => e instanceof AttachError && pattern.test(e.message),
    section,
  );
}

test("says which option is missing, naming the program", () => {
  refuses(
    "xdp",
    prog("trace_http", ProgType.XDP),
    /^XDP program trace_http needs an interface: pass -i IFACE$/,
  );
  refuses(
    "xdp/trace_http",
    prog("trace_http", ProgType.XDP),
    /XDP program trace_http needs an interface/,
  );
  refuses("tc/ingress", prog("cls", ProgType.SCHED_CLS), /TC program cls needs an interface/);
  refuses(
    "tracepoint/trace_exec",
    prog("t", ProgType.TRACEPOINT),
    /needs a tracepoint: pass --tracepoint CATEGORY\/NAME/,
  );
  refuses("raw_tp", prog("r", ProgType.RAW_TRACEPOINT), /needs a raw tracepoint/);
  refuses(
    "uprobe",
    prog("u", ProgType.KPROBE),
    /UProbe program u needs a binary: pass --binary PATH/,
  );
  refuses("uprobe", prog("u", ProgType.KPROBE), /needs a function/, { binary: "/bin/true" });
  refuses("socket", prog("s", ProgType.SOCKET_FILTER), /needs a socket/);
  refuses(
    "cgroup_skb/ingress",
    prog("c", ProgType.CGROUP_SKB),
    /needs a cgroup: pass --cgroup PATH/,
  );
  refuses("cgroup/skb", prog("c", ProgType.CGROUP_SKB), /needs a direction/, {
    cgroup: "/sys/fs/cgroup",
  });
  refuses("kprobe", prog("k", ProgType.KPROBE), /needs a kernel function/);
});

test("explains what cannot be attached", () => {
  refuses(
    "xdp/devmap",
    prog("d", ProgType.XDP),
    /runs from a devmap entry: store its fd in the map/,
  );
  refuses(
    "struct_ops/x",
    prog("s", ProgType.STRUCT_OPS),
    /attaching struct_ops programs is not supported/,
  );
});

test("system call names map to this architecture's kernel functions", () => {
  if (process.arch === "x64") assert.equal(syscallFunction("openat"), "__x64_sys_openat");
});

test("attachTracing refuses programs that are not TRACING or LSM", () => {
  assert.throws(
    () => attachTracing(prog("x", ProgType.XDP)),
    /is a XDP program, not TRACING or LSM/,
  );
});

test("USDT sections: the probe from the section or the options, contradictions refused", async () => {
  const { usdtTarget } = await import("../../../src/link/index.js");
  const p = prog("on_req", ProgType.KPROBE);
  const at = (section: string, opts = {}) => usdtTarget(p, parseSectionName(section)!, opts);
  assert.deepEqual(at("usdt/usr/bin/app:myapp:request"), {
    binary: "usr/bin/app",
    provider: "myapp",
    name: "request",
  });
  assert.deepEqual(at("usdt//opt/a b/app:p:n", { usdt: "p:n" }), {
    binary: "/opt/a b/app",
    provider: "p",
    name: "n",
  });
  assert.deepEqual(at("usdt", { binary: "/bin/app", usdt: "p:n" }), {
    binary: "/bin/app",
    provider: "p",
    name: "n",
  });
  assert.deepEqual(at("usdt//proc/self/exe:p:n", { binary: "/bin/app" }).binary, "/bin/app");
  refuses("usdt", p, /Usdt program on_req needs a binary: pass --binary PATH/);
  refuses("usdt", p, /needs a USDT probe: pass --usdt PROVIDER:NAME/, { binary: "/bin/app" });
  refuses(
    "usdt//bin/app:p:n",
    p,
    /names its probe in its section \(p:n\); the usdt option \(q:n\)/,
    {
      usdt: "q:n",
    },
  );
  refuses(
    "usdt//bin/app:n",
    p,
    /section usdt\/\/bin\/app:n is not usdt\/<binary>:<provider>:<name>/,
  );
  refuses("usdt", p, /bad USDT probe "pn": expected PROVIDER:NAME/, { binary: "/b", usdt: "pn" });
  // Programs not built against usdt.bpf.h have no spec map to fill.
  refuses("usdt", p, /no __bpf_usdt_specs map; .*usdt\.bpf\.h/, { binary: "/b", usdt: "p:n" });
});
