// TypeScript tracing probes attached for real: tp_btf programs fire on the syscalls this test
// makes and their values arrive in JS; getStackId stores a kernel stack that user space reads
// from the stack trace map and resolves to kernel functions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, unlinkSync, constants } from "node:fs";
import { needsKernel } from "../../support/kernel.js";
import { Collection } from "../../../src/collection.js";
import { RingBufReader } from "../../../src/reader/ringbuf.js";
import { attachTpBtf } from "../../../src/link/tp-btf.js";
import { attachTracepoint } from "../../../src/link/tracepoint.js";
import { struct, u32, u64 } from "../../../src/types/index.js";
import { compileSource } from "../../unit/compiler/support.js";

const Exec = struct("Exec", { tgid: u32, oldPid: u32, ns: u64 });
const Config = struct("Config", { tgid: u32 });
const Count = struct("Count", { n: u64 });
const Stack = struct("Stack", { id: u64, tgid: u32, pad: u32 });

const TP_BTF = `
const Exec = struct("Exec", { tgid: u32, oldPid: u32, ns: u64 });
const Config = struct("Config", { tgid: u32 });
const Count = struct("Count", { n: u64 });
const config = map("config", new ArrayMap(Config, { maxEntries: 1 }));
const execs = map("execs", new RingBuf(Exec, { maxEntries: 4096 }));
const calls = map("calls", new HashMap(u32, Count, { maxEntries: 512 }));

/** Every exec: who (the new image's tgid) and the pid before the exec (arg 1 of the event). */
export const on_exec = tpBtf("sched_process_exec", (ctx) => {
  const ev = execs.reserve();
  if (!ev) return 0;
  ev.tgid = toNumber(pidTgid() >> 32n);
  ev.oldPid = toNumber(ctx.arg(1) & 0xffffffffn);
  ev.ns = ktimeGetNs();
  execs.submit(ev);
  return 0;
});

/** Syscalls of the configured process, counted by number (arg 1 of sys_enter). */
export const on_sys_enter = tpBtf("sys_enter", (ctx) => {
  const cfg = config.get(0);
  if (!cfg || cfg.tgid !== toNumber(pidTgid() >> 32n)) return 0;
  const nr = toNumber(ctx.arg(1) & 0xffffffffn);
  const c = calls.get(nr);
  if (c) {
    atomicAdd(c, "n", 1);
    return 0;
  }
  calls.set(nr, { n: 1n });
  return 0;
});
`;

test("tp_btf probes fire for real: the exec this test spawns and its own syscalls arrive in JS", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(TP_BTF).elf);
  coll.maps
    .get("config")!
    .set(u32.encode(0) as never, Config.encode({ tgid: process.pid }) as never);
  using ring = RingBufReader.open(coll.maps.get("execs")!);
  let child: number;
  const path = `/tmp/tsbpf-tpbtf-${process.pid}`;
  {
    using _exec = attachTpBtf(coll.programs.get("on_exec")!, "sched_process_exec");
    using _sys = attachTpBtf(coll.programs.get("on_sys_enter")!, "sys_enter");
    const r = spawnSync("/bin/true");
    assert.equal(r.status, 0);
    child = r.pid;
    closeSync(openSync(path, constants.O_CREAT | constants.O_RDWR, 0o600));
    unlinkSync(path);
  }
  const execs = ring.readBatch().map((b) => Exec.decode(b));
  const mine = execs.find((e) => e.oldPid === child);
  assert.ok(mine, `the exec of pid ${child} reported (got ${execs.length} events)`);
  assert.equal(mine.tgid, child, "the exec'd image runs as the same tgid");
  assert.ok(mine.ns > 0n);
  // x86-64 syscall numbers: openat 257, unlink 87, close 3.
  const calls = coll.maps.get("calls")!;
  const count = (nr: number) => {
    const v = calls.get(u32.encode(nr) as never) as Uint8Array | undefined;
    return v ? Count.decode(v).n : 0n;
  };
  assert.ok(count(257) >= 1n, `openat counted (${count(257)})`);
  assert.ok(count(87) >= 1n, `unlink counted (${count(87)})`);
  assert.equal(count(9999), 0n);
});

const STACKS = `
import { program, map, tracepoint, ArrayMap, StackTraceMap, pidTgid, toNumber, toBigInt } from "tsbpf/probe";
import { struct, u32, u64, i32 } from "tsbpf/types";
program({ license: "GPL" });
const Config = struct("Config", { tgid: u32 });
const Stack = struct("Stack", { id: u64, tgid: u32, pad: u32 });
const OpenatArgs = struct("OpenatArgs", { nr: i32, dfd: u64, filename: u64, flags: u64, mode: u64 });
const config = map("config", new ArrayMap(Config, { maxEntries: 1 }));
const stacks = map("stacks", new StackTraceMap({ maxEntries: 64 }));
const last = map("last", new ArrayMap(Stack, { maxEntries: 1 }));

/** The kernel stack of the configured process's openat calls. */
export const on_openat = tracepoint("syscalls", "sys_enter_openat", OpenatArgs, (ctx) => {
  const cfg = config.get(0);
  const tgid = toNumber(pidTgid() >> 32n);
  if (!cfg || cfg.tgid !== tgid) return 0;
  const id = stacks.getStackId(ctx, 0);
  const s = last.get(0);
  if (s) {
    s.id = toBigInt(id);
    s.tgid = tgid;
  }
  return 0;
});
`;

/** The kernel symbol each address falls in (from /proc/kallsyms; root sees the addresses). */
function symbolize(addrs: bigint[]): string[] {
  const syms = readFileSync("/proc/kallsyms", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => f.length >= 3 && /^[tTwW]$/.test(f[1]!))
    .map((f) => ({ at: BigInt(`0x${f[0]}`), name: f[2]! }))
    .filter((s) => s.at !== 0n)
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return addrs.map((a) => {
    let lo = 0;
    let hi = syms.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (syms[mid]!.at <= a) lo = mid;
      else hi = mid - 1;
    }
    return syms[lo] && syms[lo]!.at <= a ? syms[lo]!.name : "?";
  });
}

test("getStackId stores the kernel stack of a syscall; user space reads and resolves its frames", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(STACKS, { raw: true }).elf);
  coll.maps
    .get("config")!
    .set(u32.encode(0) as never, Config.encode({ tgid: process.pid }) as never);
  const path = `/tmp/tsbpf-stack-${process.pid}`;
  {
    using _tp = attachTracepoint(coll.programs.get("on_openat")!, "syscalls", "sys_enter_openat");
    closeSync(openSync(path, constants.O_CREAT | constants.O_RDWR, 0o600));
    unlinkSync(path);
  }
  const last = Stack.decode(coll.maps.get("last")!.get(u32.encode(0) as never) as Uint8Array);
  assert.equal(last.tgid, process.pid, "the probe ran for this process");
  const id = BigInt.asIntN(64, last.id);
  assert.ok(id >= 0n, `getStackId returned an id, not an errno (${id})`);
  const raw = coll.maps.get("stacks")!.get(u32.encode(Number(id)) as never) as Uint8Array;
  assert.equal(raw.byteLength, 127 * 8);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const frames: bigint[] = [];
  for (let i = 0; i < 127; i++) {
    const ip = view.getBigUint64(i * 8, true);
    if (ip === 0n) break;
    frames.push(ip);
  }
  assert.ok(frames.length >= 2, `a stack of ${frames.length} frames`);
  for (const ip of frames)
    assert.ok(ip >= 0xffff800000000000n, `kernel address ${ip.toString(16)}`);
  const names = symbolize(frames);
  assert.ok(
    names.some((n) => /syscall/.test(n)),
    `the syscall entry among the frames: ${names.join(" <- ")}`,
  );
});
