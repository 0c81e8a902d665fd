// Every program kind the compiler emits loads into the kernel and behaves: TC, socket filter
// and cgroup skb under BPF_PROG_TEST_RUN; tracepoint and raw tracepoint attached for real;
// tp_btf, kprobe/kretprobe and uprobe/uretprobe loaded (this kernel has no kprobes to fire).
import { test } from "node:test";
import assert from "node:assert/strict";
import { openSync, closeSync, constants } from "node:fs";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { RingBufReader } from "../../../src/reader/ringbuf.js";
import { attachTracepoint } from "../../../src/link/tracepoint.js";
import { attachRawTracepoint } from "../../../src/link/raw-tracepoint.js";
import { struct, array, u8, u32, u64 } from "../../../src/types/index.js";
import { frame } from "../../unit/compiler/packets.js";
import { cgroupSkbTestRunSeesPacket } from "./cgroup-test-run.js";

const FIXTURE = fileURLToPath(
  new URL("../../../../test/fixtures/probes/kinds.ts", import.meta.url),
);
const Open = struct("Open", { tgid: u32, flags: u32, filename: array(u8, 64) });
const Counter = struct("Counter", { n: u64 });

test("program kinds: all load; packet kinds behave under test runs; tracepoints fire", async (t) => {
  if (!needsKernel(t)) return;
  const compiled = compileProbe(FIXTURE);
  assert.deepEqual(compiled.programs.map((p) => p.section).sort(), [
    "cgroup_skb/ingress",
    "kprobe/do_sys_openat2",
    "kretprobe/do_sys_openat2",
    "raw_tracepoint/sys_enter",
    "socket",
    "tc",
    "tp_btf/sched_process_exec",
    "tracepoint/syscalls/sys_enter_openat",
    "uprobe",
    "uretprobe",
  ]);
  using coll = Collection.load(compiled.elf);
  assert.equal(coll.programs.size, 10);

  const udp53 = frame({ ip: 4, proto: "udp", dport: 53 });
  const tcp22v6 = frame({ ip: 6, dport: 22 });
  const tcp80 = frame({ ip: 4, dport: 80 });
  const tcRun = (p: Uint8Array) => coll.programs.get("tc_filter")!.testRun({ data: p }).retval;
  assert.equal(tcRun(udp53), 2, "TC_ACT_SHOT");
  assert.equal(tcRun(tcp80), 0, "TC_ACT_OK");

  const sock = (p: Uint8Array) => coll.programs.get("ipv4_tcp")!.testRun({ data: p }).retval;
  assert.equal(
    sock(tcp80),
    tcp80.length - 14,
    "whole IPv4 TCP packet kept (skb from the IP header)",
  );
  assert.equal(sock(udp53), 0);
  assert.equal(sock(tcp22v6), 0);

  const cg = (p: Uint8Array) => coll.programs.get("no_ssh")!.testRun({ data: p }).retval;
  if (cgroupSkbTestRunSeesPacket()) {
    assert.equal(cg(tcp22v6), 0, "TCP to 22 denied");
    assert.equal(cg(frame({ ip: 4, dport: 22 })), 0);
    assert.equal(cg(tcp80), 1);
    assert.equal(cg(udp53), 1);
  } else {
    // This kernel's test run hides the packet from cgroup_skb programs (data_end = 0): the
    // probe sees no transport header and passes everything. cgroup-skb.test.ts judges the
    // same program on a real cgroup instead.
    t.diagnostic("cgroup_skb test runs see no packet on this kernel; see cgroup-skb.test.ts");
    for (const p of [tcp22v6, tcp80, udp53]) assert.equal(cg(p), 1);
  }

  // Tracepoints, for real: only this process's openat calls, with the file name.
  coll.maps.get("config")!.set(u32.encode(0) as never, u32.encode(process.pid) as never);
  using ring = RingBufReader.open(coll.maps.get("opens")!);
  {
    using _tp = attachTracepoint(coll.programs.get("on_openat")!, "syscalls", "sys_enter_openat");
    using _raw = attachRawTracepoint(coll.programs.get("on_sys_enter")!, "sys_enter");
    const path = `/tmp/tsbpf-kinds-${process.pid}`;
    closeSync(openSync(path, constants.O_CREAT | constants.O_RDWR, 0o600));
    const opened = ring.readBatch().map((b) => Open.decode(b));
    const mine = opened.find((o) => Buffer.from(o.filename).toString("latin1").startsWith(path));
    assert.ok(mine, `openat of ${path} reported (got ${opened.length} events)`);
    assert.equal(mine.tgid, process.pid);
    assert.equal(mine.flags & constants.O_CREAT, constants.O_CREAT);
  }
  const counters = coll.maps.get("counters")!;
  const n = Counter.decode(counters.get(u32.encode(1) as never) as Uint8Array).n;
  assert.ok(n > 0n, "raw tracepoint counted this process's syscalls");
});
