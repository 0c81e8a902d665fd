import { test } from "node:test";
import assert from "node:assert/strict";
import { openSync, closeSync, existsSync, unlinkSync } from "node:fs";
import { needsKernel } from "../../support/kernel.js";
import { AttachType, LinkType, MapType, ProgType } from "../../../src/obj/consts.js";
import * as bpf from "../../../src/sys/bpf.js";
import { Errno, SysError } from "../../../src/sys/errors.js";
import { FD } from "../../../src/sys/fd.js";
import { btfData, btfInfo, linkInfo, progInfo, progXlatedInsns } from "../../../src/sys/info.js";
import { ensureBpffs } from "../../../src/sys/bpffs.js";
import { BpfMap } from "../../../src/map/map.js";
import { u32, u64 } from "../../../src/types/index.js";
import { counterInsns, loadCounter, returnInsns } from "../../support/programs.js";
import { encodeInsns, asm } from "../../../src/obj/insn.js";

function counterMap(name: string): BpfMap<number, bigint> {
  return BpfMap.create(
    { type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, name },
    { key: u32, value: u64 },
  );
}

/** Makes some openat(2) syscalls. */
function openSome(n = 5): void {
  for (let i = 0; i < n; i++) closeSync(openSync("/proc/self/stat", "r"));
}

test("PROG_LOAD with a log, then OBJ_GET_INFO_BY_FD and the xlated program", (t) => {
  if (!needsKernel(t)) return;
  const { fd, log } = bpf.progLoad({
    type: ProgType.SOCKET_FILTER,
    insns: returnInsns(7),
    license: "GPL",
    name: "ret7",
    logLevel: 1,
  });
  using _ = fd;
  assert.match(log, /processed 2 insns/);
  const info = progInfo(fd.fd);
  assert.equal(info.name, "ret7");
  assert.equal(info.type, ProgType.SOCKET_FILTER);
  assert.equal(info.xlatedProgLen, 16);
  assert.ok(info.jitedProgLen > 0);
  assert.equal(info.verifiedInsns, 2);
  assert.match(info.tag, /^[0-9a-f]{16}$/);
  assert.deepEqual(progXlatedInsns(fd.fd), returnInsns(7));
});

test("a rejected program throws SysError with the verifier log; the log buffer grows on ENOSPC", (t) => {
  if (!needsKernel(t)) return;
  const bad = encodeInsns([asm.exit()]);
  assert.throws(
    () => bpf.progLoad({ type: ProgType.SOCKET_FILTER, insns: bad, license: "GPL", name: "bad" }),
    (e: unknown) =>
      e instanceof SysError &&
      e.syscall === "BPF_PROG_LOAD" &&
      e.errno === Errno.EACCES &&
      /R0 !read_ok/.test(e.log ?? "") &&
      /program "bad"/.test(e.message) &&
      /verifier log/.test(e.message),
  );
  using m = counterMap("t_log");
  // 64 bytes: raised to the 128 that kernels before 6.4 require (EINVAL below), then grown.
  const { fd, log } = bpf.progLoad({
    type: ProgType.SOCKET_FILTER,
    insns: counterInsns(m.fd),
    license: "GPL",
    name: "verbose",
    logLevel: 2,
    logSize: 64,
  });
  fd.close();
  assert.ok(log.length > 128, `log grew past its first buffer (${log.length} bytes)`);
  assert.match(log, /processed \d+ insns/);
  assert.throws(
    () => bpf.progLoad({ type: 1, insns: new Uint8Array(12), license: "GPL" }),
    /multiple of 8 bytes, got 12 .*a bug in tsbpf/,
  );
});

test("PROG_TEST_RUN: return value, repeat, and the program's map side effects", (t) => {
  if (!needsKernel(t)) return;
  using ret = bpf.progLoad({
    type: ProgType.SOCKET_FILTER,
    insns: returnInsns(7),
    license: "GPL",
  }).fd;
  const r = bpf.progTestRun({ progFd: ret.fd, dataIn: new Uint8Array(64), repeat: 1 });
  assert.equal(r.retval, 7);
  assert.equal(r.dataOut.length, 64);
  using m = counterMap("t_testrun");
  using counter = loadCounter(m.fd);
  bpf.progTestRun({ progFd: counter.fd, dataIn: new Uint8Array(64), repeat: 5 });
  assert.equal(m.get(0), 5n);
  assert.deepEqual(progInfo(counter.fd).mapIds, [m.id]);
});

test("ENABLE_STATS counts runs while its fd is open", (t) => {
  if (!needsKernel(t)) return;
  using m = counterMap("t_stats");
  using prog = loadCounter(m.fd);
  {
    using _stats = bpf.enableStats();
    bpf.progTestRun({ progFd: prog.fd, dataIn: new Uint8Array(64), repeat: 3 });
  }
  assert.ok(progInfo(prog.fd).runCnt >= 3n);
});

test("OBJ_PIN / OBJ_GET a program; ids and GET_FD_BY_ID", (t) => {
  if (!needsKernel(t)) return;
  ensureBpffs();
  const path = `/sys/fs/bpf/tsbpf-sys-${process.pid}-prog`;
  using prog = bpf.progLoad({
    type: ProgType.SOCKET_FILTER,
    insns: returnInsns(0),
    license: "GPL",
    name: "pinned",
  }).fd;
  bpf.objPin(prog.fd, path);
  t.after(() => existsSync(path) && unlinkSync(path));
  assert.throws(
    () => bpf.objPin(prog.fd, path),
    (e: unknown) => e instanceof SysError && e.errno === Errno.EEXIST && /unpin/.test(e.message),
  );
  using again = bpf.objGet(path);
  const id = progInfo(prog.fd).id;
  assert.equal(progInfo(again.fd).id, id);
  unlinkSync(path);
  assert.throws(
    () => bpf.objGet(path),
    (e: unknown) =>
      e instanceof SysError && e.code === "ENOENT" && /nothing is pinned/.test(e.message),
  );
  assert.ok([...bpf.ids(bpf.progGetNextId)].includes(id));
  using byId = bpf.progGetFdById(id);
  assert.equal(progInfo(byId.fd).name, "pinned");
  using m = counterMap("t_byid");
  assert.ok([...bpf.ids(bpf.mapGetNextId)].includes(m.id));
  using mfd = bpf.mapGetFdById(m.id);
  assert.ok(mfd.fd > 0);
  assert.throws(
    () => bpf.progGetFdById(0x7ffffff0),
    (e: unknown) => e instanceof SysError && e.errno === Errno.ENOENT,
  );
});

test("BTF_LOAD: a one-type blob loads, reads back; garbage fails with the BTF log", (t) => {
  if (!needsKernel(t)) return;
  // header(24) + INT "int" (16) + strings "\0int\0"
  const blob = new Uint8Array(24 + 16 + 5);
  const dv = new DataView(blob.buffer);
  dv.setUint16(0, 0xeb9f, true);
  dv.setUint8(2, 1);
  dv.setUint32(4, 24, true); // hdr_len
  dv.setUint32(8, 0, true); // type_off
  dv.setUint32(12, 16, true); // type_len
  dv.setUint32(16, 16, true); // str_off
  dv.setUint32(20, 5, true); // str_len
  dv.setUint32(24, 1, true); // name_off
  dv.setUint32(28, 1 << 24, true); // kind INT
  dv.setUint32(32, 4, true); // size
  dv.setUint32(36, 32, true); // bits
  blob.set([0, 0x69, 0x6e, 0x74, 0], 40);
  const { fd } = bpf.btfLoad(blob);
  using _ = fd;
  const info = btfInfo(fd.fd);
  assert.ok(info.id > 0);
  assert.equal(info.size, blob.length);
  assert.equal(info.kernelBtf, false);
  assert.deepEqual(btfData(fd.fd), blob);
  using byId = bpf.btfGetFdById(info.id);
  assert.ok(byId.fd > 0);
  const broken = blob.slice();
  broken[24 + 7] = 0x7f; // unknown kind
  assert.throws(
    () => bpf.btfLoad(broken),
    (e: unknown) =>
      e instanceof SysError && e.syscall === "BPF_BTF_LOAD" && (e.log ?? "").length > 0,
  );
});

test("RAW_TRACEPOINT_OPEN: a raw_tp counter runs on syscalls until its link closes", (t) => {
  if (!needsKernel(t)) return;
  using m = counterMap("t_rawtp");
  using prog = loadCounter(m.fd, ProgType.RAW_TRACEPOINT, "rawtp_count");
  const link = bpf.rawTracepointOpen("sys_enter", prog.fd);
  openSome();
  const info = linkInfo(link.fd);
  assert.equal(info.type, LinkType.RAW_TRACEPOINT);
  assert.equal(info.tpName, "sys_enter");
  assert.equal(info.progId, progInfo(prog.fd).id);
  link.close();
  const n = m.get(0)!;
  assert.ok(n > 0n);
  openSome();
  assert.equal(m.get(0), n, "no more runs after the link is closed");
});

test("LINK_CREATE on a tracepoint perf event; closing the link stops it", async (t) => {
  if (!needsKernel(t)) return;
  const { openTracepoint } = await import("../../../src/sys/perf-event.js");
  using m = counterMap("t_tplink");
  using prog = loadCounter(m.fd, ProgType.TRACEPOINT, "tp_count");
  using pe = openTracepoint("syscalls", "sys_enter_openat");
  const link = bpf.linkCreate({
    progFd: prog.fd,
    target: pe.fd,
    attachType: AttachType.PERF_EVENT,
    perfEventCookie: 7n,
  });
  openSome();
  assert.ok(m.get(0)! >= 5n);
  assert.equal(linkInfo(link.fd).type, LinkType.PERF_EVENT);
  link.close();
  const n = m.get(0)!;
  openSome();
  assert.equal(m.get(0), n);
});

test("legacy attach: PERF_EVENT_IOC_SET_BPF + ENABLE", async (t) => {
  if (!needsKernel(t)) return;
  const pe = await import("../../../src/sys/perf-event.js");
  using m = counterMap("t_setbpf");
  using prog = loadCounter(m.fd, ProgType.TRACEPOINT, "tp_legacy");
  const ev = pe.openTracepoint("syscalls", "sys_enter_openat");
  pe.perfEventSetBpf(ev.fd, prog.fd);
  pe.perfEventEnable(ev.fd);
  openSome();
  pe.perfEventDisable(ev.fd);
  ev.close();
  assert.ok(m.get(0)! >= 5n);
});

test("netns link: LINK_UPDATE swaps the program, LINK_DETACH detaches, PROG_QUERY sees it", (t) => {
  if (!needsKernel(t)) return;
  // sk_lookup programs returning SK_PASS leave socket lookup untouched.
  const load = (name: string) =>
    bpf.progLoad({
      type: ProgType.SK_LOOKUP,
      insns: returnInsns(1),
      license: "GPL",
      name,
      expectedAttachType: AttachType.SK_LOOKUP,
    }).fd;
  using pa = load("lookup_a");
  using pb = load("lookup_b");
  using netns = new FD(openSync("/proc/self/ns/net", "r"));
  using link = bpf.linkCreate({
    progFd: pa.fd,
    target: netns.fd,
    attachType: AttachType.SK_LOOKUP,
  });
  assert.equal(linkInfo(link.fd).progId, progInfo(pa.fd).id);
  assert.deepEqual(
    bpf.progQuery(netns.fd, AttachType.SK_LOOKUP).progIds.includes(progInfo(pa.fd).id),
    true,
  );
  assert.throws(
    () => bpf.linkUpdate(link.fd, pb.fd, { oldProgFd: pb.fd }),
    (e: unknown) =>
      e instanceof SysError && e.syscall === "BPF_LINK_UPDATE" && e.errno === Errno.EPERM,
  );
  bpf.linkUpdate(link.fd, pb.fd, { oldProgFd: pa.fd });
  assert.equal(linkInfo(link.fd).progId, progInfo(pb.fd).id);
  bpf.linkDetach(link.fd);
  assert.equal(
    bpf.progQuery(netns.fd, AttachType.SK_LOOKUP).progIds.includes(progInfo(pb.fd).id),
    false,
  );
});
